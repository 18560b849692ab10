import Foundation
import Testing

@testable import DigestCore

/// A DKIM-signed send: messages composed on the composer thread, signed on several signing threads, sent in
/// order. Every message that reaches the sink verifies with dkimpy, and is byte for byte the message the
/// composer would have signed itself (what `preview` and the golden files show, signed).
@Suite(.requires(.python3, .openssl, .dkimpy))
struct SignedSendTests {
    let runnerTests = DeliveryRunnerTests()

    @Test(arguments: [1, 3])
    func messagesSignedOnSeveralThreadsVerifyAndAreTheComposersOwnBytes(connections: Int) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let keys = [try await DKIMTestKeys.rsa(), try await DKIMTestKeys.ed25519()]
        let setup = try await runnerTests.setUp(smtp: sink.url, connections: connections) { json in
            Fixtures.useDKIM(&json, keys: keys)
        }
        try runnerTests.addItems(setup.store, days: 2)
        let readers = 60
        try runnerTests.addReaders(setup.store, readers)
        let now = Fixtures.date("2026-11-26T07:00:00Z")
        var options = DeliveryRunner.Options()
        options.signingThreads = 3
        let summary = try await runnerTests.runner(setup, at: now).run(options)
        #expect(summary.sent == readers)
        sink.stop()

        let received = try sink.receivedMessages()
        #expect(received.count == readers)
        let signer = try #require(setup.composer.dkim)
        let verified = try await DKIMSignerTests.verify(received.map { DKIMSignerTests.wireForm($0.data) }, signer: signer)
        #expect(verified.count == readers)
        for (message, signatures) in zip(received, verified) {
            #expect(signatures.map(\.ok) == [true, true], "\(message.recipient ?? "?")")
            #expect(signatures.map(\.a) == ["rsa-sha256", "ed25519-sha256"])
        }
        // Signed apart, the bytes are those of a message signed as it is composed.
        let preview = DigestPreview(composer: setup.composer, store: setup.store)
        for message in received.prefix(5) {
            let address = try EmailAddress(try #require(message.recipient))
            let (_, digest) = try preview.digest(date: Day("2026-11-26")!, subscriber: address, now: now)
            #expect(message.data == SMTPSinkServer.dumpForm(of: digest.message.data), "\(address)")
        }
    }
}
