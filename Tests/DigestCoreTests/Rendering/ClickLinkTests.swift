import Foundation
import Testing

@testable import DigestCore

/// `privacy.clickCounting` in the digest: which links go through `/r/TOKEN`, what the token holds, and
/// the counts in the store (both stores).
@Suite struct ClickLinkTests {
    let directory = TemporaryDirectory("clicks")
    static let secret = "click-secret-0123456789abcdef"
    static let now = Fixtures.date("2026-11-24T03:00:00Z")
    static let date = Day("2026-11-24")!

    struct Setting {
        var store: Store
        var composer: DigestComposer
        var edition: Edition
        var readers: [Subscriber]
        var signer: LinkSigner
    }

    func setUp(_ counting: String, _ backend: StoreBackend = .sqlite) async throws -> Setting {
        let configuration = try Fixtures.configuration(in: directory) { $0["privacy"] = ["clickCounting": counting] }
        #expect(configuration.privacy.clickCounting.rawValue == counting)
        let store = try Fixtures.store(in: directory, backend)
        try store.upsert(try Fixtures.exampleItems(), now: Self.now)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: Self.secret])
        let edition = try composer.ranker.edition(for: Self.date, store: store, freeze: true, now: Self.now)
        let readers = try ["salma@example.com", "ines@example.com"].map {
            try store.addSubscriber(Subscriber(email: try EmailAddress($0), status: .active, format: .html))
        }
        return Setting(
            store: store, composer: composer, edition: edition, readers: readers, signer: try LinkSigner(secret: Self.secret))
    }

    static func digest(_ setting: Setting, _ reader: Subscriber) throws -> ComposedDigest {
        try #require(
            try setting.composer.digest(for: reader, in: setting.edition, alreadyReceived: [], now: Self.now))
    }

    /// Every http(s) link in the text and in the HTML's `href`s, in order of appearance.
    static func links(_ digest: ComposedDigest) -> (text: [String], html: [String]) {
        let text = digest.text.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix("http") }
        let html = (digest.html ?? "").components(separatedBy: "href=\"").dropFirst()
            .map { String($0.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") }
        return (text, html)
    }

    static func clickLinks(_ links: [String]) -> [String] { links.filter { $0.contains("/r/") } }

    @Test func offLinksStraightToTheSite() async throws {
        let setting = try await setUp("off")
        let digest = try Self.digest(setting, setting.readers[0])
        let (text, html) = Self.links(digest)
        #expect(Self.clickLinks(text + html).isEmpty)
        for item in setting.edition.candidates where digest.itemIDs.contains(item.itemID) {
            #expect(text.contains(item.url), "\(item.url)")
            #expect(html.contains(item.url), "\(item.url)")
        }
    }

    @Test func aggregateLinksAreOneForEveryReaderAndNameNoReader() async throws {
        let setting = try await setUp("aggregate")
        let digest = try Self.digest(setting, setting.readers[0])
        let first = Self.links(digest)
        let second = Self.links(try Self.digest(setting, setting.readers[1]))
        let clicks = Self.clickLinks(first.text)
        #expect(clicks.count == digest.itemIDs.count)
        #expect(clicks == Self.clickLinks(second.text))
        #expect(Self.clickLinks(first.html) == clicks)
        for link in clicks {
            #expect(link.hasPrefix(setting.composer.configuration.web.baseURL + "/r/"))
            let token = try #require(ClickToken.verify(link.split(separator: "/").last!, signer: setting.signer))
            #expect(token.editionID == setting.edition.id)
            #expect(token.subscriberID == nil)
            #expect(setting.edition.candidates.contains { $0.itemID == token.itemID })
        }
        // No tracking pixel: the digest has no image at all.
        #expect(!(digest.html ?? "").contains("<img"))
    }

    @Test func perReaderLinksNameTheReader() async throws {
        let setting = try await setUp("perReader")
        for reader in setting.readers {
            let links = Self.links(try Self.digest(setting, reader))
            let clicks = Self.clickLinks(links.text)
            #expect(!clicks.isEmpty)
            #expect(Self.clickLinks(links.html) == clicks)
            for link in clicks {
                let token = try #require(ClickToken.verify(link.split(separator: "/").last!, signer: setting.signer))
                #expect(token.subscriberID == reader.id)
                #expect(token.editionID == setting.edition.id)
            }
        }
    }

    @Test func tamperedTokensAreRefused() throws {
        let signer = try LinkSigner(secret: Self.secret)
        let item = ClickToken.item(editionID: 7, itemID: 42, signer: signer)
        let reader = ClickToken.readerSuffix(editionID: 7, subscriberID: 3, signer: signer)
        #expect(ClickToken.verify(item, signer: signer) == ClickKey(editionID: 7, itemID: 42))
        #expect(ClickToken.verify(item + reader, signer: signer) == ClickKey(editionID: 7, itemID: 42, subscriberID: 3))
        // A replayed token is the same token: it verifies again (counting it again is the redirect's business).
        #expect(ClickToken.verify(item, signer: signer) != nil)
        let parts = item.split(separator: ".").map(String.init)
        let mac = parts[2]
        let flipped = String(mac.dropLast()) + (mac.last == "A" ? "B" : "A")
        let other = try LinkSigner(secret: "another-secret-0123456789")
        for bad in [
            "8.42.\(mac)", "7.43.\(mac)", "7.42.\(flipped)", "7.42", "7.42.\(mac.dropLast())", "", "7.42.\(mac).",
            item + ".4." + reader.split(separator: ".").last!,
            item + ClickToken.readerSuffix(editionID: 8, subscriberID: 3, signer: signer),
            ClickToken.item(editionID: 7, itemID: 42, signer: other), "-7.42.\(mac)", "07.42.\(mac)x",
        ] {
            #expect(ClickToken.verify(bad, signer: signer) == nil, "\(bad)")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func countsPerItemAndPerReaderOnlyWhenNamed(backend: StoreBackend) async throws {
        let setting = try await setUp("perReader", backend)
        let store = setting.store
        let editionID = try #require(setting.edition.id)
        let items = setting.edition.candidates.prefix(2).map(\.itemID)
        let (salma, ines) = (try #require(setting.readers[0].id), try #require(setting.readers[1].id))
        #expect(try store.clickTargets(editionID: editionID)[items[0]] == setting.edition.candidates[0].url)
        #expect(try store.clickTargets(editionID: editionID + 99).isEmpty)
        try store.recordClicks([
            ClickKey(editionID: editionID, itemID: items[0]): 3,
            ClickKey(editionID: editionID, itemID: items[0], subscriberID: salma): 2,
        ])
        try store.recordClicks([
            ClickKey(editionID: editionID, itemID: items[0], subscriberID: salma): 1,
            ClickKey(editionID: editionID, itemID: items[1], subscriberID: ines): 1,
        ])
        #expect(try store.clicks(editionID: editionID) == [items[0]: 6, items[1]: 1])
        #expect(
            try store.readerClicks(editionID: editionID) == [
                ReaderClicks(itemID: items[0], subscriberID: salma, count: 3),
                ReaderClicks(itemID: items[1], subscriberID: ines, count: 1),
            ].sorted { ($0.itemID, $0.subscriberID) < ($1.itemID, $1.subscriberID) })
        // A reader gone meanwhile: the click counts for the item alone.
        try store.recordClicks([ClickKey(editionID: editionID, itemID: items[1], subscriberID: 999_999): 1])
        #expect(try store.clicks(editionID: editionID)[items[1]] == 2)
        #expect(try store.readerClicks(editionID: editionID).count == 2)
        #expect(try store.metricsSnapshot().clicks == 8)
        let report = try #require(try store.editionReport(date: Self.date))
        #expect(report.stats.clicks == 8)
        #expect(report.items.first { $0.itemID == items[0] }?.clicks == 6)
    }
}
