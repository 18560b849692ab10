import DigestCore
import DigestPostgres
import DigestTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `digest serve` as a site runs it, a real process: killed with SIGKILL in the middle of a burst of
/// sign-ups while a slow relay (smtp-sink answering each RCPT after a second) works through the
/// confirmation mails, then started again. Every reader the database holds as pending gets their
/// confirmation mail, exactly once, with the Message-ID the outbox wrote.
@Suite(.serialized) struct ServeCrashTests {
    let harness = ServeHarness("serve-crash")
    var directory: TemporaryDirectory { harness.directory }

    /// Two web hosts behind one load balancer, on one PostgreSQL: a question answered on one host is
    /// refused on the other (used tokens are shared), and each sign-up's confirmation mail, written to the
    /// shared outbox by whichever host took the form, is sent once although both hosts drain the outbox.
    @Test func twoHostsOnOnePostgresShareQuestionsAndTheOutbox() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let database = try PostgresServer.shared().createDatabase()
        let ports = (FreePort.next(), FreePort.next())
        let hosts = [
            try harness.serve(try harness.configFile(port: ports.0, sink: sink, database: database, name: "a.json"), log: directory.file("a.log")),
            try harness.serve(try harness.configFile(port: ports.1, sink: sink, database: database, name: "b.json"), log: directory.file("b.log")),
        ]
        defer {
            for host in hosts {
                kill(host.processIdentifier, SIGKILL)
                host.waitUntilExit()
            }
        }
        #expect(await FreePort.listening(ports.0))
        #expect(await FreePort.listening(ports.1))
        let (a, b) = ("http://127.0.0.1:\(ports.0)", "http://127.0.0.1:\(ports.1)")
        let session = URLSession(configuration: .ephemeral)

        // The form from host A, answered on host B; the same answer again on A is refused.
        let form = try #require(try await harness.question(0, base: a, session: session))
        let first = try await harness.answer(form, email: "first@example.com", base: b, session: session)
        #expect(first.status == 200, "\(first.page)")
        let replay = try await harness.answer(form, email: "replay@example.com", base: a, session: session)
        #expect(replay.status == 422 && replay.page.contains("That question was already answered"), "\(replay.status)")

        // Sign-ups spread over both hosts, each form taken on one host and answered on the other.
        let readers = 30
        var accepted = ["first@example.com"]
        for index in 1...readers {
            let (from, to) = index.isMultiple(of: 2) ? (a, b) : (b, a)
            if try await harness.signUp(index, base: from, answerBase: to, session: session) == 200 {
                accepted.append("r\(index)@example.com")
            }
        }
        #expect(accepted.count == readers + 1)
        let store = try Store.open(database)
        let deadline = Date() + 60
        while Date() < deadline {
            let counts = try store.outboxCounts()
            if counts[.sent] == accepted.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try store.outboxCounts() == [.sent: accepted.count])
        // Both hosts are still draining; give a double send the time to show.
        try await Task.sleep(for: .seconds(1))
        let recipients = try sink.receivedMessages().compactMap(\.recipient)
        #expect(recipients.sorted() == accepted.sorted(), "each confirmation once")
        #expect(try store.subscriber(email: try EmailAddress("replay@example.com")) == nil)
    }

    @Test func killedDuringABurstOfSignUpsLosesNoConfirmationMail() async throws {
        let sink = try SMTPSinkServer(flags: ["-W", "RCPT:1"])
        defer { sink.stop() }
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: sink)
        let log = directory.file("serve.log")
        let base = "http://127.0.0.1:\(port)"
        let session = URLSession(configuration: .ephemeral)

        let first = try harness.serve(config, log: log)
        #expect(await FreePort.listening(port), "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let readers = 40
        var accepted: [Int] = []
        var killedAt = -1
        for index in 0..<readers {
            if index == readers / 2 {
                // Mid-burst: a few mails sent, two in flight at the slow relay, the rest waiting.
                kill(first.processIdentifier, SIGKILL)
                killedAt = index
            }
            let status = (try? await harness.signUp(index, base: base, session: session)) ?? 0
            if status == 200 { accepted.append(index) }
        }
        while first.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(killedAt == readers / 2)
        #expect(accepted.count == readers / 2, "only sign-ups before the kill get through: \(accepted)")
        let store = try Store.open(directory.file("digest.sqlite"))
        let unsentAtKill = try store.outboxCounts().filter { $0.key != .sent }.values.reduce(0, +)
        #expect(unsentAtKill > 0, "the kill must leave mails unsent for the test to mean anything")

        let second = try harness.serve(config, log: log)
        defer {
            kill(second.processIdentifier, SIGKILL)
            second.waitUntilExit()
        }
        #expect(await FreePort.listening(port))
        // The readers the database holds as pending: at least every one whose sign-up was answered.
        var pending: [Subscriber] = []
        try store.forEachSubscriber(status: .pending) { pending.append($0) }
        #expect(Set(pending.map(\.email.description)).isSuperset(of: accepted.map { "r\($0)@example.com" }))
        let deadline = Date() + 120
        var received: [SMTPSinkServer.ReceivedMessage] = []
        while Date() < deadline {
            received = (try? sink.receivedMessages()) ?? []
            if Set(received.compactMap(\.recipient)).count >= pending.count,
                ((try? store.outboxCounts()) ?? [:]).filter({ $0.key != .sent && $0.key != .failed }).isEmpty
            {
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let byRecipient = Dictionary(grouping: received, by: { $0.recipient ?? "" })
        for subscriber in pending {
            let mails = byRecipient[subscriber.email.description] ?? []
            #expect(mails.count == 1, "\(subscriber.email): \(mails.count) mails")
            let row = try store.outboxMails(subscriberID: subscriber.id!)
            #expect(row.count == 1)
            #expect(row.first?.status == .sent)
            #expect(mails.first.flatMap { headerValue("Message-ID", in: $0.data) } == row.first?.mail.message.messageID)
        }
        #expect(received.count == pending.count)
    }
}
