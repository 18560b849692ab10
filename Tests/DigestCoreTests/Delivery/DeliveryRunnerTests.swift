import Foundation
import Logging
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// The nightly run end to end, in process, against Maildir and a real smtp-sink on loopback.
@Suite struct DeliveryRunnerTests {
    let directory = TemporaryDirectory("runner")
    static let secret = "runner-test-secret-0123456789"
    /// A refusal that is about the reader's address (RFC 3463 5.1.1): a hard bounce that marks the reader
    /// `bounced` at once, since the mailbox does not exist.
    static let userUnknown = "550 5.1.1 Recipient address rejected: User unknown"
    /// A refusal of the reader's mailbox that may pass (RFC 3463 5.2.1, "mailbox disabled"): a hard bounce
    /// that counts toward `bounceLimit`.
    static let mailboxDisabled = "550 5.2.1 Mailbox disabled, not accepting messages"

    struct Setup {
        var configuration: Configuration
        var store: Store
        var composer: DigestComposer
    }

    func setUp(
        smtp: String? = nil, connections: Int = 2, backend: StoreBackend = .sqlite,
        edit: @escaping (inout [String: Any]) -> Void = { _ in }
    ) async throws -> Setup {
        let database = try backend.database(in: directory)
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            json["database"] = database
            // The test server trusts local connections: no password variable to name.
            json["databasePasswordEnv"] = nil
            if let smtp {
                Fixtures.useSMTP(
                    &json, ["url": smtp, "tls": "off", "connections": connections, "timeoutSeconds": 5, "maxAttempts": 2])
            }
            edit(&json)
        }
        let store = try configuration.openStore(create: true)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: Self.secret])
        return Setup(configuration: configuration, store: store, composer: composer)
    }

    func runner(_ setup: Setup, at now: Date) throws -> DeliveryRunner {
        let pool = SenderPool(
            transport: try setup.configuration.mail.makeTransport(environment: [:]),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05), logger: Logger(label: "test"))
        return DeliveryRunner(store: setup.store, composer: setup.composer, pool: pool, logger: Logger(label: "test"), clock: { now })
    }

    /// Items spread over the days before `through`, so every edition has something new.
    func addItems(_ store: Store, days: Int, through last: String = "2026-11-26") throws {
        var drafts: [ItemDraft] = []
        for day in 0..<days {
            let date = Day(last)!.adding(days: -day)
            for n in 0..<4 {
                drafts.append(
                    ItemDraft(
                        kind: n == 3 ? .post : .story, title: "Story \(date) #\(n)", url: "https://n.example/\(date)/\(n)",
                        summary: "Summary \(n)", publishedAt: date.instant(hour: 2 + n, in: TimeZone(identifier: "UTC")!),
                        votes: 10 * (n + 1)))
            }
        }
        try store.upsert(drafts)
    }

    func addReaders(_ store: Store, _ count: Int, zone: String? = nil, hour: Int? = nil, prefix: String = "reader") throws {
        var csv = "email,name,timeZone,deliveryHour\n"
        for index in 0..<count { csv += "\(prefix)\(index)@example.com,Reader \(index),\(zone ?? ""),\(hour.map(String.init) ?? "")\n" }
        let result = try store.importSubscribers(csv: csv, confirmed: true)
        #expect(result.imported == count)
    }

    @Test(arguments: StoreBackend.allCases) func sendingTwiceSendsNothingTheSecondTime(backend: StoreBackend) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let setup = try await setUp(smtp: sink.url, backend: backend)
        try addItems(setup.store, days: 2)
        try addReaders(setup.store, 40)
        let now = Fixtures.date("2026-11-26T07:00:00Z")
        let first = try await runner(setup, at: now).run(.init())
        #expect(first.editions == ["2026-11-26"])
        #expect(first.sent == 40 && first.deferred == 0 && first.failed == 0 && first.exitStatus == 0)
        let second = try await runner(setup, at: now.addingTimeInterval(600)).run(.init())
        #expect(second.sent == 0 && second.queued == 0)
        let explicit = try await runner(setup, at: now.addingTimeInterval(900)).run(.init(date: Day("2026-11-26")!))
        #expect(explicit.sent == 0)
        let received = try sink.receivedMessages()
        #expect(received.count == 40)
        #expect(Set(received.compactMap(\.recipient)).count == 40)
        // The ledger holds every outcome with the server's reply.
        let ledger = try setup.store.deliveries()
        #expect(ledger.count == 40)
        #expect(ledger.allSatisfy { $0.status == .sent && $0.lastReply?.hasPrefix("250") == true && $0.attempts == 1 })
        #expect(try setup.store.runs().count == 3)
    }

    @Test(arguments: StoreBackend.allCases) func readersInFourTimeZonesGetEachEditionOnceOverThreeDays(backend: StoreBackend) async throws {
        let setup = try await setUp(backend: backend)
        try addItems(setup.store, days: 5, through: "2026-11-27")
        for (zone, prefix) in [("Pacific/Honolulu", "hnl"), ("UTC", "utc"), ("Europe/Moscow", "msk"), ("Pacific/Chatham", "cht")] {
            try addReaders(setup.store, 3, zone: zone, hour: 6, prefix: prefix)
        }
        // Delivered up to the 23rd already: start hourly runs at the 24th 00:00Z for three days.
        var now = Fixtures.date("2026-11-24T00:00:00Z")
        for _ in 0..<72 {
            _ = try await runner(setup, at: now).run(.init())
            now += 3600
        }
        let ledger = try setup.store.deliveries(limit: 10_000)
        let byReader = Dictionary(grouping: ledger, by: \.email)
        #expect(byReader.count == 12)
        for (email, rows) in byReader {
            let editions = rows.map(\.editionDate)
            #expect(Set(editions).count == editions.count, "\(email) got an edition twice: \(editions)")
            #expect(rows.allSatisfy { $0.status == .sent })
            #expect(editions.contains("2026-11-25") && editions.contains("2026-11-26"), "\(email): \(editions)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.configuration.mail.maildir + "/new").count == ledger.count)
    }

    @Test func overlappingWindowsNeverRepeatAnItemToAReaderAndBackfill() async throws {
        // 48-hour windows: the items of the 25th count for the editions of the 26th and the 27th.
        let setup = try await setUp { json in
            var digest = json["digest"] as! [String: Any]
            digest["windowHours"] = 48
            digest["sections"] = [["kind": "story", "title": "Top stories", "count": 3]]
            json["digest"] = digest
        }
        try setup.store.upsert(
            (1...6).map { n in
                ItemDraft(
                    kind: .story, title: "Story \(n)", url: "https://n.example/\(n)",
                    publishedAt: Fixtures.date("2026-11-25T1\(n):00:00Z"), votes: 100 - n)
            })
        try addReaders(setup.store, 1)
        _ = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        _ = try await runner(setup, at: Fixtures.date("2026-11-27T07:00:00Z")).run(.init())
        let files = try FileManager.default.contentsOfDirectory(atPath: setup.configuration.mail.maildir + "/new")
            .map { try String(contentsOfFile: setup.configuration.mail.maildir + "/new/" + $0, encoding: .utf8) }
        #expect(files.count == 2)
        // Items by title: their links go through /r/TOKEN (clicks are counted by default).
        let first = try #require(files.first { $0.contains("Story 1") })
        let second = try #require(files.first { !$0.contains("Story 1") })
        // The first digest had the best three; the second leaves them out and backfills the next three.
        for n in 1...3 { #expect(first.contains("Story \(n)") && !second.contains("Story \(n)")) }
        for n in 4...6 { #expect(second.contains("Story \(n)") && !first.contains("Story \(n)")) }
    }

    @Test(arguments: StoreBackend.allCases) func aDayWithoutRunsIsCaughtUpOnceNotTwice(backend: StoreBackend) async throws {
        let setup = try await setUp(backend: backend)
        try addItems(setup.store, days: 4)
        try addReaders(setup.store, 2)
        _ = try await runner(setup, at: Fixtures.date("2026-11-24T07:00:00Z")).run(.init())
        // Nothing ran on the 25th; the machine is back at 01:00 on the 26th, then cron goes on.
        let catchUp = try await runner(setup, at: Fixtures.date("2026-11-26T01:00:00Z")).run(.init())
        #expect(catchUp.editions == ["2026-11-25"] && catchUp.sent == 2)
        let next = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        #expect(next.editions == ["2026-11-26"] && next.sent == 2)
        let ledger = try setup.store.deliveries()
        #expect(Set(ledger.map(\.editionDate)) == ["2026-11-24", "2026-11-25", "2026-11-26"])
        #expect(ledger.count == 6)
    }

    @Test(arguments: StoreBackend.allCases) func aDeliveryAfterABounceResetsTheCount(backend: StoreBackend) async throws {
        let refusing = try SMTPSinkServer(flags: ["-f", "rcpt", "-B", Self.mailboxDisabled])
        defer { refusing.stop() }
        let accepting = try SMTPSinkServer()
        defer { accepting.stop() }
        let setup = try await setUp(smtp: refusing.url, backend: backend)
        try addItems(setup.store, days: 3)
        try addReaders(setup.store, 4)
        let first = try await runner(setup, at: Fixtures.date("2026-11-25T07:00:00Z")).run(.init())
        #expect(first.failed == 4)
        try setup.store.forEachSubscriber { #expect($0.bounceCount == 1) }
        var configuration = setup.configuration
        configuration.mail.smtp?.url = accepting.url
        let healed = Setup(configuration: configuration, store: setup.store, composer: setup.composer)
        let second = try await runner(healed, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        #expect(second.sent == 4)
        try setup.store.forEachSubscriber { #expect($0.bounceCount == 0) }
    }

    @Test(arguments: StoreBackend.allCases) func nothingNewIsSkippedAndRecorded(backend: StoreBackend) async throws {
        let setup = try await setUp(backend: backend)
        try addReaders(setup.store, 2)
        let summary = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        #expect(summary.sent == 0 && summary.skipped == 2 && summary.exitStatus == 0)
        #expect(summary.reasons["nothing new for this reader"] == 2)
        #expect(try setup.store.deliveries().allSatisfy { $0.status == .skipped })
    }

    @Test(arguments: StoreBackend.allCases) func hardRejectsFailWithTheRepliesAndRepeatedBouncesMarkTheReader(backend: StoreBackend) async throws {
        // smtp-sink answers RCPT TO with "550 5.2.1 Mailbox disabled" (RFC 3463: the mailbox) for every
        // recipient: three readers, fewer than a relay-wide pattern, so each refusal is the reader's bounce.
        let sink = try SMTPSinkServer(flags: ["-f", "rcpt", "-B", Self.mailboxDisabled])
        defer { sink.stop() }
        let setup = try await setUp(smtp: sink.url, backend: backend)
        try addItems(setup.store, days: 5)
        try addReaders(setup.store, 3)
        for day in ["2026-11-24", "2026-11-25", "2026-11-26"] {
            let summary = try await runner(setup, at: Fixtures.date("\(day)T07:00:00Z")).run(.init())
            #expect(summary.failed == 3 && summary.exitStatus == 1)
        }
        let ledger = try setup.store.deliveries()
        #expect(ledger.count == 9)
        #expect(ledger.allSatisfy { $0.status == .failed && $0.lastReply?.contains("5") == true })
        #expect(try setup.store.subscriberCount(status: .bounced) == 3)
        // Bounced readers are no longer queued.
        let after = try await runner(setup, at: Fixtures.date("2026-11-27T07:00:00Z")).run(.init())
        #expect(after.queued == 0)
    }

    /// A refusal of one reader's address that says the mailbox does not exist (5.1.1, or 5.1.10 null MX) marks
    /// that reader `bounced` after one night; another reader's 5.2.1 only counts, and the others are delivered.
    @Test(arguments: StoreBackend.allCases) func aMailboxThatDoesNotExistIsBouncedAfterOneNight(backend: StoreBackend) async throws {
        let server = try await AIOSMTPDServer(rejectRecipients: [
            "reader0@example.com": "550 5.1.1 <reader0@example.com>: Recipient address rejected: User unknown",
            "reader1@example.com": "556 5.1.10 <reader1@example.com>: Recipient address has null MX",
            "reader2@example.com": "550 5.2.1 <reader2@example.com>: Mailbox disabled",
        ])
        let setup = try await setUp(smtp: server.url, backend: backend)
        try addItems(setup.store, days: 3)
        try addReaders(setup.store, 6)
        let summary = try await runner(setup, at: Fixtures.date("2026-11-25T07:00:00Z")).run(.init())
        #expect(summary.failed == 3 && summary.sent == 3, "\(summary.lines)")
        var readers: [String: Subscriber] = [:]
        try setup.store.forEachSubscriber { readers[$0.email.description] = $0 }
        #expect(readers["reader0@example.com"]?.status == .bounced)
        #expect(readers["reader1@example.com"]?.status == .bounced)
        #expect(readers["reader2@example.com"]?.status == .active && readers["reader2@example.com"]?.bounceCount == 1)
        #expect(readers["reader3@example.com"]?.status == .active && readers["reader3@example.com"]?.bounceCount == 0)
        // The ledger keeps the reply that says why.
        let failed = try setup.store.deliveries().filter { $0.status == .failed }
        #expect(failed.first { $0.email == "reader0@example.com" }?.lastReply?.hasPrefix("550 5.1.1") == true)
        #expect(failed.first { $0.email == "reader1@example.com" }?.lastReply?.hasPrefix("556 5.1.10") == true)
        let next = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        #expect(next.queued == 4 && next.sent == 3 && next.failed == 1, "\(next.lines)")
    }

    @Test(arguments: StoreBackend.allCases) func softRejectsAreDeferredThenDeliveredByALaterRun(backend: StoreBackend) async throws {
        let port = FreePort.next()
        var sink = try SMTPSinkServer(flags: ["-r", "rcpt"], port: port)
        let setup = try await setUp(smtp: "smtp://127.0.0.1:\(port)", backend: backend)
        try addItems(setup.store, days: 2)
        try addReaders(setup.store, 5)
        let now = Fixtures.date("2026-11-26T07:00:00Z")
        let first = try await runner(setup, at: now).run(.init())
        #expect(first.deferred == 5 && first.exitStatus == 75)
        #expect(try setup.store.deliveries().allSatisfy { $0.status == .deferred && $0.lastReply?.hasPrefix("4") == true })
        sink.stop()
        sink = try SMTPSinkServer(port: port)
        defer { sink.stop() }
        // Too early: the backoff has not passed, nothing is retried.
        let early = try await runner(setup, at: now.addingTimeInterval(60)).run(.init())
        #expect(early.sent == 0)
        let later = try await runner(setup, at: now.addingTimeInterval(3600)).run(.init())
        #expect(later.sent == 5 && later.exitStatus == 0)
        #expect(try sink.receivedMessages().count == 5)
        #expect(try setup.store.deliveries().allSatisfy { $0.status == .sent && $0.attempts == 3 })
    }

    @Test(arguments: StoreBackend.allCases) func serverDownDefersEverythingAndCrashesNothing(backend: StoreBackend) async throws {
        let setup = try await setUp(smtp: "smtp://127.0.0.1:\(FreePort.next())", backend: backend)
        try addItems(setup.store, days: 2)
        try addReaders(setup.store, 3)
        let summary = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init())
        #expect(summary.deferred == 3 && summary.exitStatus == 75)
        #expect(try setup.store.pendingDeliveryCount() == 3)
    }

    @Test func aSecondRunWhileTheLockIsHeldLeavesCleanly() async throws {
        let setup = try await setUp()
        try addItems(setup.store, days: 2)
        try addReaders(setup.store, 2)
        let now = Fixtures.date("2026-11-26T07:00:00Z")
        // Another live process (this one) holds the lease (leases run on the wall clock, not the run's `now`).
        _ = try setup.store.acquireLock(
            DeliveryRunner.lockName, owner: "other", pid: getpid(), host: ProcessInfo.processInfo.hostName, lease: 60,
            now: Date(), isAlive: { _ in true })
        let blocked = try await runner(setup, at: now).run(.init())
        #expect(blocked.sent == 0 && blocked.note?.contains("another digest send is running") == true)
        // A holder whose process is gone is replaced at once.
        try setup.store.releaseLock(DeliveryRunner.lockName, owner: "other")
        _ = try setup.store.acquireLock(
            DeliveryRunner.lockName, owner: "dead", pid: 999_999, host: ProcessInfo.processInfo.hostName, lease: 60,
            now: Date(), isAlive: { _ in true })
        let taken = try await runner(setup, at: now).run(.init())
        #expect(taken.sent == 2)
    }

    @Test func dryRunRendersEverythingAndWritesNothing() async throws {
        let setup = try await setUp()
        try addItems(setup.store, days: 2)
        try addReaders(setup.store, 4)
        let summary = try await runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z")).run(.init(dryRun: true))
        #expect(summary.sent == 4 && summary.dryRun)
        #expect(try setup.store.deliveries().isEmpty)
        #expect(try setup.store.edition(date: Day("2026-11-26")!) == nil)
    }
}

@Suite struct TestSendTests {
    let directory = TemporaryDirectory("test-send")

    @Test func oneDigestReachesAnAddressThatIsNotASubscriber() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSMTP(&json, ["url": sink.url, "tls": "off"])
        }
        let store = try Store(path: configuration.database)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: "test-send-secret-0123456789"])
        var (_, digest) = try DigestPreview(composer: composer, store: store)
            .digest(date: Day("2026-11-24")!, subscriber: nil, now: Date())
        digest.message.recipient = try EmailAddress("postmaster@relay.example")
        let pool = try SenderPool(mail: configuration.mail, environment: [:], logger: Logger(label: "test"))
        let result = await pool.sendOne(digest.message)
        guard case .sent(let reply) = result.outcome else {
            Issue.record("not sent: \(result.outcome)")
            return
        }
        #expect(reply.hasPrefix("250"))
        let received = try sink.receivedMessages()
        #expect(received.map(\.recipient) == ["postmaster@relay.example"])
        #expect(try store.deliveries().isEmpty)
    }
}

@Suite struct RunnerConfigurationFailureTests {
    let directory = TemporaryDirectory("runner-config")

    /// A wrong SMTP password is the sender's fault: every reader stays deferred for a later run, no
    /// one is counted as a bounce, and the summary says what to fix.
    @Test func wrongPasswordDefersEveryoneAndBouncesNoOne() async throws {
        let server = try await AIOSMTPDServer(tls: true, auth: ("digest", "s3cret"))
        defer { server.stop() }
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            Fixtures.useSMTP(
                &json,
                [
                    "url": server.url, "tls": "required", "caFile": server.caFile!, "username": "digest",
                    "passwordEnv": "TEST_SMTP_PASSWORD", "connections": 1,
                ])
        }
        let store = try Store(path: configuration.database)
        try store.upsert([
            ItemDraft(kind: .story, title: "A story", url: "https://n.example/1", publishedAt: Fixtures.date("2026-11-25T12:00:00Z"), votes: 3)
        ])
        _ = try store.importSubscribers(csv: "email\na@example.com\nb@example.com\nc@example.com\n", confirmed: true)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: "config-failure-secret-0123456789"])
        let pool = try SenderPool(
            mail: configuration.mail, environment: ["TEST_SMTP_PASSWORD": "wrong"], logger: Logger(label: "test"))
        let runner = DeliveryRunner(
            store: store, composer: composer, pool: pool, logger: Logger(label: "test"),
            clock: { Fixtures.date("2026-11-26T07:00:00Z") })
        let summary = try await runner.run(.init())
        #expect(summary.sent == 0 && summary.failed == 0 && summary.deferred == 3 && summary.exitStatus == 75)
        #expect(summary.note?.contains("authentication failed") == true, "\(summary.lines)")
        #expect(try store.subscriberCount(status: .active) == 3)
        #expect(try store.deliveries().allSatisfy { $0.status == .deferred })
        try store.forEachSubscriber { #expect($0.bounceCount == 0) }
    }
}
