import Foundation
import class GRDB.Database
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// `digest` as an operator runs it: the built binary, a real smtp-sink, signals from outside.
@Suite(.serialized) struct SendCommandTests {
    let directory = TemporaryDirectory("send-command")
    static let binary = Fixtures.repositoryRoot + "/.build/debug/digest"

    struct Finished {
        var status: Int32
        var output: String
    }

    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Process, Pipe) {
        // `make test` builds it first; a missing binary is a failure, never a skipped test.
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it: swift build --product digest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = "send-command-secret-0123456789"
        environment.removeValue(forKey: "DIGEST_CONFIG")
        process.environment = environment.merging(extra) { _, new in new }
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try ChildProcess.spawnLock.withLock { try process.run() }
        return (process, pipe)
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Finished {
        let (process, pipe) = try start(arguments, environment: environment)
        let output = await Thread.detachedResult { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return Finished(status: process.terminationStatus, output: output)
    }

    func prepare(readers: Int, smtp: [String: Any]? = nil, dkimKeys: [String] = []) throws -> (config: String, store: Store) {
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            if let smtp { Fixtures.useSMTP(&json, smtp) }
            if !dkimKeys.isEmpty { Fixtures.useDKIM(&json, keys: dkimKeys) }
        }
        let store = try Store(path: configuration.database)
        try store.upsert(
            (0..<8).map { n in
                ItemDraft(
                    kind: .story, title: "Story \(n)", url: "https://n.example/\(n)", summary: "Summary \(n)",
                    publishedAt: Fixtures.date("2026-11-25T1\(n):00:00Z"), votes: n)
            })
        var csv = "email\n"
        for index in 0..<readers { csv += "r\(index)@example.com\n" }
        #expect(try store.importSubscribers(csv: csv, confirmed: true).imported == readers)
        return (directory.file("config.json"), store)
    }

    /// Seconds until `process` ends, polled on the calling thread (not the test pool's).
    static func secondsUntilExit(_ process: Process) -> Double {
        let start = Date()
        while process.isRunning { usleep(2_000) }
        return Date().timeIntervalSince(start)
    }

    func lockCount(_ store: Store) throws -> Int {
        try store.database.read { try $0.fetchValue("SELECT count(*) FROM locks") ?? -1 }
    }

    func markBounced(_ store: Store, _ emails: [String], at instant: String) throws {
        try store.database.write { db in
            for email in emails {
                try db.execute(
                    "UPDATE subscribers SET status = 'bounced', bounceCount = 3, bouncedAt = ? WHERE email = ?",
                    Fixtures.date(instant).sqlValue, .text(email))
            }
        }
    }

    @Test func sigtermFinishesTheMessagesOnTheWireReportsAndExits75() async throws {
        try await sigtermFinishesTheMessagesOnTheWire(signed: false)
    }

    /// With an RSA key: messages signed on the signing threads, some signed and never sent when the signal comes.
    @Test(.requires(.python3, .openssl, .dkimpy))
    func signedWithAnRSAKeySigtermFinishesTheMessagesOnTheWireReportsAndExits75() async throws {
        try await sigtermFinishesTheMessagesOnTheWire(signed: true)
    }

    func sigtermFinishesTheMessagesOnTheWire(signed: Bool) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let connections = 4
        let readers = 2_000
        let (config, store) = try prepare(
            readers: readers, smtp: ["url": sink.url, "tls": "off", "connections": connections, "maxPerSecond": 400],
            dkimKeys: signed ? [try await DKIMTestKeys.rsa()] : [])
        let (process, pipe) = try start(["send", "--config", config, "--now", "2026-11-26T07:00:00Z"])
        let reading = Thread.detachedResult { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        // Signalled, and its exit seen, on a thread of its own: the test pool's threads may be held by others.
        let stopping = await Thread.detachedResult { () -> Double? in
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && (try? FileManager.default.contentsOfDirectory(atPath: sink.dumpFolder).count) ?? 0 < 100
                && Date() < deadline
            {
                usleep(2_000)
            }
            guard process.isRunning else { return nil }
            kill(process.processIdentifier, SIGTERM)
            return Self.secondsUntilExit(process)
        }.value
        let output = await reading.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        let seconds = try #require(stopping, "the send ended before the signal: \(output)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 75, "\(output)")
        #expect(seconds < 10, "a graceful stop ends within a few seconds, not \(seconds) s")
        #expect(output.contains("sending stopped: SIGTERM received"), "\(output)")
        #expect(output.contains(" sent, "), "the summary is printed: \(output)")
        // The run is reported and finished, the lock given back, nothing left `sending`.
        let reports = try store.runs(limit: 5)
        #expect(reports.first?.exitStatus == 75 && reports.first?.finishedAt != nil)
        #expect(try lockCount(store) == 0)
        #expect(try store.deliveries(status: .sending, limit: 10).isEmpty)
        let recorded = try store.deliveries(status: .sent, limit: 10_000).count
        let received = try sink.receivedMessages().count
        #expect(received < readers && received == recorded, "\(received) received, \(recorded) recorded")

        // The next hourly run.
        let rerun = try await run(["send", "--config", config, "--now", "2026-11-26T08:00:00Z"])
        #expect(rerun.status == 0, "\(rerun.output)")
        let perReader = Dictionary(grouping: try sink.receivedMessages().compactMap(\.recipient), by: { $0 }).mapValues(\.count)
        #expect(perReader.count == readers)
        #expect(perReader.values.reduce(0) { $0 + $1 - 1 } <= connections)
        if signed {
            let received = try sink.receivedMessages()
            let signer = try #require(try DKIMSigner(configuration: try Configuration.load(path: config).mail.dkim))
            let sample = received.enumerated().filter { $0.offset % 50 == 0 }.map { DKIMSignerTests.wireForm($0.element.data) }
            #expect(try await DKIMSignerTests.verify(sample, signer: signer).allSatisfy { $0.map(\.ok) == [true] })
        }
    }

    @Test func aSecondSignalStopsAtOnceEvenWhileTheRelayIsSlow() async throws {
        // Every end of data waits 30 s for its reply: a graceful stop would wait for it.
        let sink = try SMTPSinkServer(flags: ["-W", ".:30"])
        defer { sink.stop() }
        let (config, store) = try prepare(
            readers: 50, smtp: ["url": sink.url, "tls": "off", "connections": 2, "timeoutSeconds": 60])
        let (process, pipe) = try start(["send", "--config", config, "--now", "2026-11-26T07:00:00Z"])
        let reading = Thread.detachedResult { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let seconds = await Thread.detachedResult { () -> Double in
            // Time to start up and reach the first end of data, where both connections then wait 30 s.
            Thread.sleep(forTimeInterval: 3)
            kill(process.processIdentifier, SIGTERM)
            Thread.sleep(forTimeInterval: 0.2)
            kill(process.processIdentifier, SIGINT)
            return Self.secondsUntilExit(process)
        }.value
        let output = await reading.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(seconds < 10, "not the 30 s the relay takes (\(seconds) s): \(output)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 75, "\(output)")
        #expect(output.contains("sending stopped: SIGTERM received"), "\(output)")
        let reports = try store.runs(limit: 1)
        #expect(reports.first?.exitStatus == 75 && reports.first?.finishedAt != nil, "the report is still written")
        #expect(try lockCount(store) == 0)
        // The two messages on the wire stay `sending`: the next run re-queues them (at most one per connection).
        #expect(try store.deliveries(status: .sending, limit: 10).count <= 2)
    }

    /// The commands an operator runs, on PostgreSQL: the same words, the same results, and the way back
    /// to one SQLite file. A password variable that is named but not set is refused by name.
    @Test func theCommandsWorkTheSameOnPostgres() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let database = try StoreBackend.postgres.database(in: directory)
        _ = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            json["database"] = database
            json["databasePasswordEnv"] = "DIGEST_TEST_DB_PASSWORD"
            Fixtures.useSMTP(&json, ["url": sink.url, "tls": "off", "connections": 2])
        }
        let config = directory.file("config.json")
        let unset = try await run(["init", "--config", config])
        #expect(unset.status == 1 && unset.output.contains("DIGEST_TEST_DB_PASSWORD is not set"), "\(unset.output)")
        // The test server trusts local connections: any password does.
        let password = ["DIGEST_TEST_DB_PASSWORD": "anything"]

        let steps: [([String], String)] = [
            (["init"], "is ready"),
            (["import", Fixtures.repositoryRoot + "/examples/items.json"], "17 new"),
            (["subscribers", "add", "Ann@Example.org", "--confirmed"], "added Ann@example.org (active; daily)"),
            (["subscribers", "import", directory.write("readers.csv", "email\nb@example.org\nc@example.org\n"), "--confirmed"], "2 imported"),
            (["subscribers", "list"], "3 subscribers"),
            (["preview", "--date", "2026-11-24", "--format", "text", "--out", directory.file("preview.txt")], "edition 2026-11-24"),
            (["send", "--date", "2026-11-24"], "3 sent, 0 skipped, 0 deferred, 0 failed"),
            (["send", "--date", "2026-11-24"], "0 sent"),
            (["runs"], "send --date 2026-11-24: exit 0"),
            (["db", "copy", "--to", directory.file("back.sqlite")], "counts match"),
        ]
        for (arguments, expected) in steps {
            let result = try await run(arguments + ["--config", config], environment: password)
            #expect(result.status == 0 && result.output.contains(expected), "digest \(arguments.joined(separator: " ")): \(result.output)")
        }
        sink.stop()
        #expect(try sink.receivedMessages().compactMap(\.recipient).sorted() == ["Ann@example.org", "b@example.org", "c@example.org"])
        let back = try Store.open(directory.file("back.sqlite"), create: false)
        #expect(try back.deliveries(status: .sent).count == 3)
        #expect(try back.subscriberCount() == 3)
    }

    @Test func aMissingDatabaseIsRefusedAndNotCreated() async throws {
        let (config, _) = try prepare(readers: 1)
        for database in [directory.file("gone.sqlite"), directory.file("no-such-folder/digest.sqlite")] {
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as! [String: Any]
            json["database"] = database
            let other = directory.file("missing.json")
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: other))
            for command in [["send"], ["subscribers", "list"], ["preview"]] {
                let result = try await run(command + ["--config", other])
                #expect(result.status != 0, "\(command): \(result.output)")
                #expect(result.output.contains("does not exist") && result.output.contains("digest init"), "\(result.output)")
                #expect(result.output.contains(database), "names the path: \(result.output)")
            }
            #expect(!FileManager.default.fileExists(atPath: database))
            #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: database).deletingLastPathComponent().path)
                || database.hasSuffix("gone.sqlite"))
            let created = try await run(["init", "--config", other])
            #expect(created.status == 0 && FileManager.default.fileExists(atPath: database), "\(created.output)")
        }
    }

    @Test func configBeforeTheCommandAndVersion() async throws {
        let (config, _) = try prepare(readers: 2)
        let listed = try await run(["--config", config, "subscribers", "list"])
        #expect(listed.status == 0 && listed.output.contains("r0@example.com"), "\(listed.output)")
        let equals = try await run(["--config=\(config)", "runs"])
        #expect(equals.status == 0, "\(equals.output)")
        let version = try await run(["--version"])
        #expect(version.status == 0 && version.output.trimmingCharacters(in: .whitespacesAndNewlines) == DailyDigestVersion.current)
    }

    /// `send --dry-run` reports the readers a run would queue, by kind, as the run itself then does: readers whose
    /// message has nothing new count too (they are queued, then skipped), where the dry run counted only
    /// the messages it composed.
    @Test func aDryRunCountsReadersAsTheRunDoes() async throws {
        let config = try await exampleSite()
        let dry = try await run(["send", "--config", config, "--dry-run", "--now", "2026-11-24T04:00:00Z"])
        let real = try await run(["send", "--config", config, "--now", "2026-11-24T04:00:00Z"])
        #expect(real.output.contains("nothing new for this reader"), "the example must skip someone: \(real.output)")
        #expect(Self.readersLine(real.output) != nil, "\(real.output)")
        #expect(Self.readersLine(dry.output) == Self.readersLine(real.output), "dry: \(dry.output)\nreal: \(real.output)")
    }

    /// `send --date D` reports its readers too, the paused ones among them (they were left out without a word).
    @Test func sendingADateReportsItsReadersAndThePaused() async throws {
        let config = try await exampleSite()
        let dry = try await run(["send", "--config", config, "--date", "2026-11-24", "--dry-run"])
        let real = try await run(["send", "--config", config, "--date", "2026-11-24"])
        #expect(Self.readersLine(real.output) == "readers: 9 daily, 1 paused", "\(real.output)")
        #expect(Self.readersLine(dry.output) == Self.readersLine(real.output), "dry: \(dry.output)\nreal: \(real.output)")
    }

    /// A site of the examples (`examples/items.json`, `examples/subscribers.csv`, confirmed) in this test's folder;
    /// its configuration file.
    func exampleSite() async throws -> String {
        _ = try Fixtures.configuration(in: directory)
        let config = directory.file("config.json")
        let examples = Fixtures.repositoryRoot + "/examples"
        for arguments in [
            ["init"], ["import", examples + "/items.json"], ["subscribers", "import", examples + "/subscribers.csv", "--confirmed"],
        ] {
            let done = try await run(arguments + ["--config", config])
            #expect(done.status == 0, "\(arguments): \(done.output)")
        }
        return config
    }

    static func readersLine(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("readers:") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// A mistyped command is named as the mistake (with the nearest command), not as an unknown `--config`; help
    /// takes a `--config` it does not need.
    @Test func aMistypedCommandIsNamedWithTheNearestOne() async throws {
        let (config, _) = try prepare(readers: 1)
        let typo = try await run(["sned", "--config", config])
        #expect(typo.status != 0)
        #expect(typo.output.contains("unknown command \"sned\" (did you mean \"send\"?)"), "\(typo.output)")
        let far = try await run(["--config", config, "frobnicate"])
        #expect(far.status != 0 && far.output.contains("unknown command \"frobnicate\"; the commands are init,"), "\(far.output)")
        let negative = try await run(["runs", "--config", config, "--limit", "-1"])
        #expect(negative.status != 0 && negative.output.contains("--limit must be 1 or more, not -1"), "\(negative.output)")
        let help = try await run(["help", "send", "--config", config])
        #expect(help.status == 0 && help.output.contains("--dry-run"), "\(help.output)")
    }

    /// A date that is not YYYY-MM-DD, or not a day of the calendar, is refused saying what is expected.
    @Test func aBadDateSaysWhatIsExpected() async throws {
        let (config, _) = try prepare(readers: 1)
        for (command, date) in [("send", "24/11/2026"), ("preview", "2026-11-31")] {
            let refused = try await run([command, "--config", config, "--date", date])
            #expect(refused.status != 0)
            #expect(refused.output.contains("expected a calendar date as YYYY-MM-DD, such as 2026-11-24, not \"\(date)\""), "\(refused.output)")
        }
    }

    @Test func reactivateUndoesBouncesByNameOrSinceAMoment() async throws {
        let (config, store) = try prepare(readers: 4)
        try markBounced(store, ["r0@example.com", "r1@example.com"], at: "2026-11-20T10:00:00Z")
        try markBounced(store, ["r2@example.com"], at: "2026-11-25T10:00:00Z")
        let named = try await run(["subscribers", "reactivate", "r0@example.com", "r3@example.com", "--config", config])
        #expect(named.status != 0, "r3 was not bounced: \(named.output)")
        #expect(named.output.contains("reactivated r0@example.com") && named.output.contains("1 reader reactivated"))
        #expect(named.output.contains("r3@example.com is not a bounced reader"))
        let since = try await run(["subscribers", "reactivate", "--bounced-since", "2026-11-24", "--config", config])
        #expect(since.status == 0 && since.output.contains("1 reader reactivated"), "\(since.output)")
        #expect(try store.subscriber(email: EmailAddress("r2@example.com"))?.status == .active)
        #expect(try store.subscriber(email: EmailAddress("r2@example.com"))?.bounceCount == 0)
        #expect(try store.subscriber(email: EmailAddress("r1@example.com"))?.status == .bounced)
        let nothing = try await run(["subscribers", "reactivate", "--config", config])
        #expect(nothing.status != 0 && nothing.output.contains("--bounced-since"))
    }
}
