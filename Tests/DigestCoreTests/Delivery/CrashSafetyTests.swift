import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// `digest send` as cron runs it, a real process against a real smtp-sink: killed at random
/// moments, and started twice at once. Nothing may be lost; only messages in flight at the
/// instant of a kill (at most one per connection) may arrive twice.
@Suite(.serialized) struct CrashSafetyTests {
    let directory = TemporaryDirectory("crash")
    static let connections = 4
    static let readers = 3_000
    static let binary = Fixtures.repositoryRoot + "/.build/debug/digest"

    /// A config file for `digest` pointing at `sink`, a database with the readers and items.
    /// `backend` .postgres: a new database on the test PostgreSQL, with workers' leases of `leaseSeconds`.
    /// `database` names one outright (a dedicated server's).
    /// `dkimKeys`: `mail.dkim` signs with these key files.
    /// `mixed`: a third of the readers daily, a third weekly on Thursday (the 26th is one), a third due a catch-up
    /// (their last digest was the 20th's).
    func prepare(
        sink: SMTPSinkServer, backend: StoreBackend = .sqlite, database: String? = nil, leaseSeconds: Int? = nil,
        dkimKeys: [String] = [], mixed: Bool = false
    ) throws -> String {
        let database = try database ?? backend.database(in: directory)
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            json["database"] = database
            // The test server trusts local connections: no password variable to name.
            json["databasePasswordEnv"] = nil
            if let leaseSeconds { json["send"] = ["leaseSeconds": leaseSeconds] }
            // A capped rate keeps each run a few seconds long, so a kill always has a send to land in,
            // however fast or loaded the machine is.
            Fixtures.useSMTP(
                &json,
                ["url": sink.url, "tls": "off", "connections": Self.connections, "timeoutSeconds": 10, "maxPerSecond": 1000])
            if !dkimKeys.isEmpty { Fixtures.useDKIM(&json, keys: dkimKeys) }
        }
        let store = try configuration.openStore(create: true)
        try store.upsert(
            (0..<12).map { n in
                ItemDraft(
                    kind: .story, title: "Story \(n)", url: "https://n.example/\(n)", summary: "Summary \(n)",
                    publishedAt: Fixtures.date("2026-11-25T1\(n % 10):00:00Z"), votes: n * 3)
            })
        var csv = "email,name\n"
        for index in 0..<Self.readers { csv += "r\(index)@example.com,Reader \(index)\n" }
        #expect(try store.importSubscribers(csv: csv, confirmed: true).imported == Self.readers)
        if mixed {
            let old = try store.freeze(
                try Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
                    .rank(date: Day("2026-11-20")!, store: store),
                now: Fixtures.date("2026-11-20T06:00:00Z"))
            let at = Fixtures.date("2026-11-20T06:00:00Z").sqlValue
            try store.database.write { db in
                try db.execute("UPDATE subscribers SET cadence = 'weekly', weekday = 'thu' WHERE id % 3 = 1")
                try db.execute(
                    """
                    INSERT INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt)
                    SELECT ?, id, 'sent', 'old-' || id, ?, ? FROM subscribers WHERE id % 3 = 2
                    """, old.id!.sqlValue, at, at)
            }
        }
        return directory.file("config.json")
    }

    func start(_ config: String, _ arguments: [String] = []) throws -> (Process, Pipe) {
        // `make test` builds it first; a missing binary is a failure, never a skipped test.
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it: swift build --product digest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["send", "--config", config, "--now", "2026-11-26T07:00:00Z"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = "crash-test-secret-0123456789"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try ChildProcess.spawnLock.withLock { try process.run() }
        return (process, pipe)
    }

    /// Waits for `process` to end without blocking a thread of the test pool: `waitUntilExit()` held one
    /// of its two threads for seconds, so the other test's kill loop ran late and missed its run.
    func exited(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in Thread { continuation.resume(returning: body()) }.start() }
    }

    /// Messages the sink has written so far. Files only: smtp-sink may still be finishing one.
    func dumpedCount(_ sink: SMTPSinkServer) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: sink.dumpFolder).count) ?? 0
    }

    func ledgerCheck(_ config: String) throws {
        let store = try Configuration.load(path: config).openStore(create: false)
        let rows = try store.deliveries(date: Day("2026-11-26"), limit: 100_000)
        #expect(rows.count == Self.readers)
        #expect(rows.allSatisfy { $0.status == .sent }, "\(rows.filter { $0.status != .sent }.prefix(3))")
    }

    @Test
    func killedAtRandomMomentsLosesNothingAndDuplicatesOnlyInFlight() async throws {
        try await killedAtRandomMoments(signed: false)
    }

    /// With an RSA key each message is signed on the signing threads before a sender can take it; what was
    /// signed but not sent at a kill is composed and signed again by the next run.
    @Test(.requires(.python3, .openssl, .dkimpy))
    func signedWithAnRSAKeyKilledAtRandomMomentsLosesNothingAndDuplicatesOnlyInFlight() async throws {
        try await killedAtRandomMoments(signed: true)
    }

    /// A night that mixes daily, weekly and catch-up readers keeps the same promises: each reader gets the one
    /// edition they are due, whichever kind, and only what was in flight at a kill may arrive twice.
    @Test
    func killedDuringANightOfDailyWeeklyAndCatchUpReadersLosesNothing() async throws {
        try await killedAtRandomMoments(signed: false, mixed: true)
    }

    func killedAtRandomMoments(signed: Bool, mixed: Bool = false) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink, dkimKeys: signed ? [try await DKIMTestKeys.rsa()] : [], mixed: mixed)
        var kills = 0
        var killsMidSend = 0
        // How runs that ended before their kill ended, for the failure message.
        var endedEarly: [String] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let (process, _) = try start(config)
            // Kill at a random moment after this run has sent something: a fixed delay can land
            // before the first message on a loaded machine, which would test nothing. Timed on a thread
            // of its own: the test pool's threads can be held up by other tests for seconds.
            let before = dumpedCount(sink)
            let delay = Double.random(in: 0...1, using: &generator)
            let killed = await onOwnThread { [self] () -> Bool in
                let deadline = Date().addingTimeInterval(30)
                while process.isRunning && dumpedCount(sink) == before && Date() < deadline { usleep(2_000) }
                Thread.sleep(forTimeInterval: delay)
                guard process.isRunning else { return false }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return true
            }
            guard killed else {
                endedEarly.append("exit \(process.terminationStatus) after \(dumpedCount(sink) - before) messages")
                break
            }
            kills += 1
            let delivered = dumpedCount(sink)
            if delivered > 0 && delivered < Self.readers { killsMidSend += 1 }
        }
        let (final, pipe) = try start(config)
        await exited(final)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(final.terminationStatus == 0, "\(output)")
        #expect(killsMidSend >= 1, "no kill landed in the middle of a send (\(kills) kills; ended early: \(endedEarly)); raise the reader count")

        let received = try sink.receivedMessages()
        let perReader = Dictionary(grouping: received.compactMap(\.recipient), by: { $0 }).mapValues(\.count)
        #expect(perReader.count == Self.readers, "every reader got their digest")
        let duplicates = perReader.values.reduce(0) { $0 + ($1 - 1) }
        #expect(perReader.values.allSatisfy { $0 <= 2 })
        #expect(duplicates <= kills * Self.connections, "\(duplicates) duplicates after \(kills) kills")
        // Re-sends carry the same Message-ID: the deterministic id per (edition, reader).
        let ids = Dictionary(grouping: received, by: { $0.recipient ?? "" }).mapValues { messages in
            Set(messages.map { String(decoding: $0.data, as: UTF8.self).components(separatedBy: "Message-ID: ").last?.prefix(60) ?? "" })
        }
        #expect(ids.values.allSatisfy { $0.count == 1 })
        try ledgerCheck(config)
        if signed { try await expectVerified(received, config: config) }
        if mixed {
            let store = try Configuration.load(path: config).openStore(create: false)
            let kinds: [String: Int] = try store.database.read { db in
                Dictionary(
                    uniqueKeysWithValues: try db.fetchAll(
                        """
                        SELECT e.kind, count(*) AS n FROM deliveries d JOIN editions e ON e.id = d.editionID
                        WHERE e.date = '2026-11-26' AND d.status = 'sent' GROUP BY e.kind
                        """
                    ).map { (try $0["kind"] as String, try $0["n"] as Int) })
            }
            #expect(kinds == ["daily": Self.readers / 3, "weekly": Self.readers / 3, "catch-up": Self.readers / 3])
            let subjects = received.map { String(decoding: $0.data.prefix(4000), as: UTF8.self) }
            #expect(subjects.filter { $0.contains("The week's best") }.count >= Self.readers / 3)
            #expect(subjects.filter { $0.contains("While you were away") }.count >= Self.readers / 3)
        }
    }

    /// Every message sent twice, and a sample of the others, verifies with dkimpy.
    func expectVerified(_ received: [SMTPSinkServer.ReceivedMessage], config: String) async throws {
        let signer = try #require(try DKIMSigner(configuration: try Configuration.load(path: config).mail.dkim))
        let counts = Dictionary(received.compactMap(\.recipient).map { ($0, 1) }, uniquingKeysWith: +)
        let twice = received.filter { counts[$0.recipient ?? "", default: 0] > 1 }
        let sample = twice + received.enumerated().filter { $0.offset % 100 == 0 }.map(\.element)
        let verified = try await DKIMSignerTests.verify(sample.map { DKIMSignerTests.wireForm($0.data) }, signer: signer)
        #expect(verified.count == sample.count)
        #expect(verified.allSatisfy { $0.map(\.ok) == [true] }, "\(verified.filter { $0.map(\.ok) != [true] }.count) of \(sample.count) do not verify")
    }

    @Test
    func twoRunsStartedTogetherDeliverEachDigestOnce() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink)
        let (a, pipeA) = try start(config)
        let (b, pipeB) = try start(config, ["--wait"])
        await exited(a)
        await exited(b)
        let outputs = [pipeA, pipeB].map { String(decoding: $0.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(outputs)")
        let received = try sink.receivedMessages()
        #expect(received.count == Self.readers)
        #expect(Set(received.compactMap(\.recipient)).count == Self.readers)
        // Whichever got the lock second found nothing left to send.
        #expect(outputs.contains { $0.contains(" 0 sent") || $0.contains("another digest send is running") }, "\(outputs)")
        try ledgerCheck(config)
    }

    /// The messages a run's summary line says it sent ("2026-11-26: 812 sent, …").
    static func sentCount(_ output: String) -> Int? {
        guard let match = output.firstMatch(of: /: (\d+) sent,/) else { return nil }
        return Int(match.1)
    }

    /// Cooperating senders: three `digest send` processes started by cron at the same minute on one
    /// PostgreSQL share the run. Each reader gets the digest exactly once (no row is claimed by two live
    /// workers), and the work is spread (at least two of them sent some).
    @Test func threeWorkersOnPostgresSendEachDigestOnce() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink, backend: .postgres)
        let workers = try (0..<3).map { _ in try start(config) }
        var sent: [Int] = []
        for (process, pipe) in workers {
            let output = await onOwnThread { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
            await exited(process)
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(output)")
            sent.append(try #require(Self.sentCount(output), "no summary: \(output)"))
        }
        sink.stop()
        let recipients = try sink.receivedMessages().compactMap(\.recipient)
        #expect(recipients.count == Self.readers, "each digest once, not \(recipients.count) for \(Self.readers)")
        #expect(Set(recipients).count == Self.readers)
        #expect(sent.reduce(0, +) == Self.readers, "\(sent)")
        #expect(sent.filter { $0 > 0 }.count >= 2, "the workers shared the run: \(sent)")
        try ledgerCheck(config)
    }

    /// A worker killed with SIGKILL mid-run leaves its claimed rows `sending` under a lease nobody renews;
    /// another worker sends the rest of the queue, waits out that lease, takes the rows over and finishes
    /// them. Only the dead worker's messages on the wire (at most one per connection) arrive twice.
    @Test func aKilledWorkersShareIsFinishedByAnotherAfterItsLease() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink, backend: .postgres, leaseSeconds: 3)
        let (victim, _) = try start(config)
        let survivor = await onOwnThread { () -> Result<(Process, Pipe), any Error>? in
            let deadline = Date().addingTimeInterval(60)
            while victim.isRunning && self.dumpedCount(sink) < 300 && Date() < deadline { usleep(1_000) }
            guard victim.isRunning else { return nil }
            // Both send for a moment, then the first dies holding claims.
            let started = Result { try self.start(config) }
            let before = self.dumpedCount(sink)
            while victim.isRunning && self.dumpedCount(sink) < before + 200 && Date() < deadline { usleep(1_000) }
            kill(victim.processIdentifier, SIGKILL)
            return started
        }
        let (process, pipe) = try #require(survivor, "the first worker ended before it could be killed").get()
        await exited(victim)
        #expect(victim.terminationReason == .uncaughtSignal)
        let output = await onOwnThread { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        await exited(process)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(output)")
        sink.stop()
        let recipients = try sink.receivedMessages().compactMap(\.recipient)
        let counts = Dictionary(recipients.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.count == Self.readers, "every reader got the digest: \(counts.count) of \(Self.readers)")
        let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates <= Self.connections, "\(duplicates) duplicates")
        try ledgerCheck(config)
    }

    /// The database server crashes mid-send (`pg_ctl stop -m immediate`, its own production settings: every
    /// acknowledged commit is on disk). The run stops at once with exit 1; after the restart and the dead
    /// run's lease, the next run sends the rest. Nothing acknowledged is lost, so only the messages on the
    /// wire at the crash (at most one per connection) arrive twice.
    @Test func aDatabaseServerCrashMidRunResendsOnlyWhatWasOnTheWire() async throws {
        let server = try PostgresServer.dedicated(durable: true)
        defer { server.stop() }
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink, database: try server.createDatabase("crash"), leaseSeconds: 2)
        let (process, pipe) = try start(config)
        let crashed = await onOwnThread { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && self.dumpedCount(sink) < 300 && Date() < deadline { usleep(1_000) }
            guard process.isRunning else { return false }
            return (try? server.crash()) != nil
        }
        #expect(crashed, "the send ended before the server could be crashed")
        _ = await onOwnThread { pipe.fileHandleForReading.readDataToEndOfFile() }
        await exited(process)
        #expect(process.terminationReason == .exit && process.terminationStatus == 1)
        #expect(dumpedCount(sink) < Self.readers, "sending stopped")

        try server.restart()
        // The dead run's lease (2 s) runs out before its rows are anyone else's.
        try await Task.sleep(for: .seconds(3))
        let (rerun, output) = try start(config)
        let text = await onOwnThread { String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        await exited(rerun)
        #expect(rerun.terminationReason == .exit && rerun.terminationStatus == 0, "\(text)")
        sink.stop()
        let counts = Dictionary(try sink.receivedMessages().compactMap(\.recipient).map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.count == Self.readers)
        let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates <= Self.connections, "\(duplicates) duplicates")
        try ledgerCheck(config)
    }
}
