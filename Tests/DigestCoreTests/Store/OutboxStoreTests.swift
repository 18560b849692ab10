import Foundation
import Testing

@testable import DigestCore

/// The sign-up transaction and the outbox rows it writes, on a real SQLite file, clock given.
@Suite struct OutboxStoreTests {
    let directory = TemporaryDirectory("outbox")
    let now = Fixtures.date("2026-11-25T10:00:00Z")

    func mail(_ subscriber: Subscriber) throws -> MailMessage {
        MailMessage(
            sender: try EmailAddress("digest@courier.example"), recipient: subscriber.email,
            messageID: "<confirm.\(subscriber.id!).\(UUID().uuidString)@courier.example>",
            data: Array("Subject: Confirm\r\n\r\nhello\r\n".utf8))
    }

    func signUp(_ store: Store, _ email: String, question: String, at time: Date) throws -> SignUpOutcome {
        try store.signUp(
            Subscriber(email: try EmailAddress(email)), challenge: UsedChallenge(id: question, expiresAt: time + 1800),
            now: time, resendInterval: 600, compose: mail)
    }

    func rows(_ store: Store, _ email: String) throws -> [(mail: OutboxMail, status: OutboxStatus)] {
        try store.outboxMails(subscriberID: try #require(try store.subscriber(email: try EmailAddress(email))).id!)
    }

    @Test(arguments: StoreBackend.allCases) func eachSignUpOutcome(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        guard case .queued = try signUp(store, "a@example.com", question: "q1", at: now) else {
            Issue.record("first sign-up should queue a mail")
            return
        }
        #expect(try rows(store, "a@example.com").map(\.status) == [.queued])
        // The same question: the same address is a repeat, another one is refused; nothing written.
        #expect(try signUp(store, "a@example.com", question: "q1", at: now + 1) == .repeated)
        #expect(try signUp(store, "b@example.com", question: "q1", at: now + 1) == .questionUsed)
        #expect(try store.subscriber(email: try EmailAddress("b@example.com")) == nil)
        // Not delivered yet: a new sign-up makes the same row due, no second mail.
        guard case .requeued = try signUp(store, "a@example.com", question: "q2", at: now + 2) else {
            Issue.record("an unsent mail should be queued again")
            return
        }
        #expect(try rows(store, "a@example.com").count == 1)
        // Sent: within the resend interval nothing more; after it, a new mail.
        let claimed = try store.claimOutbox(owner: "h:1", limit: 10, lease: 600, now: now + 3)
        try store.recordOutbox(
            claimed.map { ($0, DeliveryResult(outcome: .sent(reply: "250 ok"), attempts: 1)) }, retry: OutboxRetry(),
            now: now + 4)
        guard case .recentlySent = try signUp(store, "a@example.com", question: "q3", at: now + 300) else {
            Issue.record("a mail sent 5 minutes ago should block a second one")
            return
        }
        // A sign-up whose instant was taken just before the worker recorded the mail as sent (a loaded server):
        // the mail went out while the request was on its way, so no second one.
        guard case .recentlySent = try signUp(store, "a@example.com", question: "q3b", at: now + 3) else {
            Issue.record("a mail recorded sent a second after the sign-up's instant should block a second one")
            return
        }
        guard case .queued = try signUp(store, "a@example.com", question: "q4", at: now + 700) else {
            Issue.record("after the resend interval a new mail should be queued")
            return
        }
        #expect(try rows(store, "a@example.com").map(\.status) == [.sent, .queued])
        var active = try #require(try store.subscriber(email: try EmailAddress("a@example.com")))
        active.status = .active
        try store.update(active)
        guard case .alreadyActive = try signUp(store, "a@example.com", question: "q5", at: now + 800) else {
            Issue.record("an active reader signing up again changes nothing")
            return
        }
    }

    @Test(arguments: StoreBackend.allCases) func resultsAreRecordedWithBackoff(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        for (index, email) in ["t@example.com", "p@example.com", "c@example.com", "old@example.com"].enumerated() {
            _ = try signUp(store, email, question: "q\(index)", at: email == "old@example.com" ? now - 90_000 : now)
        }
        let claimed = try store.claimOutbox(owner: "h:1", limit: 10, lease: 600, now: now)
        #expect(claimed.count == 4)
        let outcome: [String: DeliveryResult] = [
            "t@example.com": DeliveryResult(outcome: .transient(reason: "421 busy"), attempts: 2),
            "p@example.com": DeliveryResult(outcome: .permanent(reason: "550 no such user"), attempts: 1),
            "c@example.com": DeliveryResult(
                outcome: .permanent(reason: "535 auth failed"), attempts: 1, isConfigurationFailure: true),
            "old@example.com": DeliveryResult(outcome: .transient(reason: "421 busy"), attempts: 1),
        ]
        try store.recordOutbox(
            claimed.map { ($0, outcome[$0.message.recipient.description]!) }, retry: OutboxRetry(), now: now)
        #expect(try rows(store, "t@example.com").map(\.status) == [.deferred])
        #expect(try rows(store, "p@example.com").map(\.status) == [.failed])
        #expect(try rows(store, "c@example.com").map(\.status) == [.deferred])
        // Failing for more than a day: given up.
        #expect(try rows(store, "old@example.com").map(\.status) == [.failed])
        // One try (the relay's configuration) is due again after a minute, two tries after two.
        #expect(try store.nextOutboxDue() == now + 60)
        #expect(try store.claimOutbox(owner: "h:1", limit: 10, lease: 600, now: now + 59).isEmpty)
        let retried = try store.claimOutbox(owner: "h:1", limit: 10, lease: 600, now: now + 121)
        #expect(Set(retried.map(\.message.recipient.description)) == ["t@example.com", "c@example.com"])
    }

    /// What a worker claimed and will not send (a batch claimed ahead when sending stopped) goes back to the queue
    /// at once, in its place; only its own claims.
    @Test(arguments: StoreBackend.allCases) func claimedMailsNotSentArePutBack(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        for (index, email) in ["a@example.com", "b@example.com", "c@example.com"].enumerated() {
            _ = try signUp(store, email, question: "q\(index)", at: now + Double(index))
        }
        let first = try store.claimOutbox(owner: "h:1", limit: 2, lease: 600, now: now + 10)
        let ahead = try store.claimOutbox(owner: "h:1", limit: 2, lease: 600, now: now + 10)
        #expect(first.map(\.message.recipient.description) == ["a@example.com", "b@example.com"])
        #expect(ahead.map(\.message.recipient.description) == ["c@example.com"])
        #expect(try store.outboxCounts()[.sending] == 3)
        // Another worker's release leaves them claimed.
        #expect(try store.releaseOutbox(ahead, owner: "h:2", now: now + 11) == 0)
        #expect(try store.claimOutbox(owner: "h:2", limit: 10, lease: 600, now: now + 11).isEmpty)
        #expect(try store.releaseOutbox(ahead, owner: "h:1", now: now + 11) == 1)
        #expect(try store.outboxCounts()[.sending] == 2)
        #expect(try store.nextOutboxDue(now: now + 11) == now + 11)
        let again = try store.claimOutbox(owner: "h:2", limit: 10, lease: 600, now: now + 12)
        #expect(again.map(\.message.messageID) == ahead.map(\.message.messageID))
    }
}
