import Foundation
import Testing

@testable import DigestCore

/// `send --to ADDRESS`: what goes to a test address, never mistaken for the real digest.
@Suite struct SendToAddressTests {
    static let now = DigestRenderingTests.now
    /// Holds the test's folder for as long as the test runs.
    let rendering = DigestRenderingTests()

    /// The example items, the real templates, and one reader (Salma Haddad).
    func setUp() async throws -> (DigestPreview, Subscriber) {
        let (store, composer, reader) = try await rendering.setUp()
        return (DigestPreview(composer: composer, store: store), reader)
    }

    func header(_ name: String, _ digest: ComposedDigest) -> String? {
        let text = String(decoding: digest.message.data, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        return head.split(separator: "\r\n").first { $0.hasPrefix("\(name): ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    @Test func eachTestSendHasItsOwnMessageID() async throws {
        let (preview, reader) = try await setUp()
        let date = Day("2026-11-24")!
        let (_, real) = try preview.digest(date: date, subscriber: reader.email, now: Self.now)
        let (_, first) = try preview.testDigest(date: date, to: reader.email, now: Self.now)
        let (_, second) = try preview.testDigest(date: date, to: reader.email, now: Self.now)
        let ids = [real.message.messageID, first.message.messageID, second.message.messageID]
        #expect(Set(ids).count == 3)
        #expect(first.message.messageID.hasPrefix("<test.20261124."))
        #expect(header("Message-ID", first) == first.message.messageID)
        // A subscriber's test copy has their working links.
        #expect(first.text.contains(preview.composer.unsubscribeURL(for: reader)))
        #expect(header("To", first) == "Salma Haddad <salma@example.com>")
    }

    @Test func aNonSubscriberGetsTheirAddressAndInertLinks() async throws {
        let (preview, reader) = try await setUp()
        let stranger = try EmailAddress("editor@newsroom.example")
        let (_, digest) = try preview.testDigest(date: Day("2026-11-24")!, to: stranger, now: Self.now)
        #expect(digest.message.recipient == stranger)
        #expect(header("To", digest) == "editor@newsroom.example")
        #expect(!digest.text.contains("Sample Reader"))
        #expect(!digest.text.contains("reader@example.com"))
        let inert = "token=\(DigestComposer.inertLinkToken)"
        #expect(digest.text.contains("unsubscribe?\(inert)"))
        #expect(digest.text.contains("preferences?\(inert)"))
        #expect(try #require(digest.html).contains("unsubscribe?\(inert)"))
        #expect(header("List-Unsubscribe", digest)?.contains(inert) == true)
        // Every vote link is inert too: one per item, none signed for anyone.
        #expect(digest.text.components(separatedBy: "/v/\(DigestComposer.inertLinkToken)\n").count == digest.itemIDs.count + 1)
        #expect(!digest.text.contains("/v/2026"))
        // No link of a real reader (id 0 or any other) slipped in.
        #expect(!digest.text.contains(preview.composer.unsubscribeURL(for: reader)))
        #expect(!digest.text.contains(preview.composer.unsubscribeURL(for: DigestPreview.sampleReader())))
    }
}
