import DigestPostgres
import Foundation
import Testing

@testable import DigestCore

/// Cooperating senders whose clocks disagree (issue 28): two real `digest send` workers on one PostgreSQL and
/// one smtp-sink, one of them with its clock 10 minutes ahead or behind (libfaketime). Leases are judged by
/// the database server's clock, so a worker ahead cannot take the claims of a live one, and a worker behind
/// does not look dead to the others: each reader gets the digest once (at most one duplicate per connection,
/// the bound of any takeover) and nobody is missed.
///
/// In CI (`CI=true`) a missing libfaketime or PostgreSQL is a failure, never a skipped test.
@Suite(.serialized, .requires(.program("faketime")))
struct ClockSkewTests {
    let directory = TemporaryDirectory("clock-skew")
    static let connections = 4
    static let readers = 500
    static let binary = Fixtures.repositoryRoot + "/.build/debug/digest"
    static let date = "2026-11-26"

    /// One worker's clock against the other's, and which of them starts first: the one whose claims a
    /// lease judged by the workers' own clocks would hand to the other. A clock ahead takes over the claims
    /// of a live worker started before it; a clock behind writes leases that look run out already, so the
    /// worker started after it takes its claims.
    struct Skew: Sendable, CustomTestStringConvertible {
        var offset: String
        var skewedStartsFirst: Bool
        var testDescription: String { "FAKETIME=\(offset)" }

        static let ahead = Skew(offset: "+10m", skewedStartsFirst: false)
        static let behind = Skew(offset: "-10m", skewedStartsFirst: true)
    }

    /// A config file for `digest` on a new PostgreSQL database, with the readers and items; mail to `sink`.
    func prepare(sink: SMTPSinkServer) throws -> String {
        let database = try PostgresServer.shared().createDatabase("skew")
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            json["database"] = database
            json["databasePasswordEnv"] = nil
            // A capped rate keeps each worker sending for a few seconds, so the second starts while the first
            // holds claims, however fast the machine.
            Fixtures.useSMTP(
                &json,
                ["url": sink.url, "tls": "off", "connections": Self.connections, "timeoutSeconds": 10, "maxPerSecond": 100])
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
        return directory.file("config.json")
    }

    /// `digest send --date` as its own process; `fakeTime` runs it with its clock off by that offset
    /// (`faketime -f OFFSET`). The run acts on its own clock (no `--now`): the one cron would give it.
    func start(_ config: String, fakeTime offset: String?) throws -> (Process, Pipe) {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it: swift build --product digest")
        let process = Process()
        var arguments = ["send", "--config", config, "--date", Self.date]
        if let offset {
            process.executableURL = URL(fileURLWithPath: try #require(FakeTime.program))
            arguments = ["-f", offset, Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
        }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = "clock-skew-test-secret-0123456789"
        // Only the wall clock is off, as on a real machine: monotonic clocks (timeouts, the lease's renewal
        // schedule) keep counting true time.
        environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try ChildProcess.spawnLock.withLock { try process.run() }
        return (process, pipe)
    }

    func dumpedCount(_ sink: SMTPSinkServer) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: sink.dumpFolder).count) ?? 0
    }

    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in Thread { continuation.resume(returning: body()) }.start() }
    }

    /// The output of `process` once it has ended, read on a thread of its own (never the test pool's).
    func finished(_ process: Process, _ pipe: Pipe) async -> String {
        let output = await onOwnThread { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return output
    }

    @Test(arguments: [Skew.ahead, Skew.behind])
    func aWorkerWithASkewedClockNeitherTakesLiveClaimsNorLooksDead(skew: Skew) async throws {
        try #require(FakeTime.program != nil, "faketime (libfaketime) is not installed: run scripts/setup --test")
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let config = try prepare(sink: sink)
        let first = try start(config, fakeTime: skew.skewedStartsFirst ? skew.offset : nil)
        // The second starts once the first is sending, and so holds claims it has not sent yet.
        let firstIsSending = await onOwnThread { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while first.0.isRunning && dumpedCount(sink) < 40 && Date() < deadline { usleep(1_000) }
            return first.0.isRunning
        }
        #expect(firstIsSending, "the first worker ended before the second started (\(dumpedCount(sink)) sent); lower maxPerSecond")
        let second = try start(config, fakeTime: skew.skewedStartsFirst ? nil : skew.offset)
        let outputs = [await finished(first.0, first.1), await finished(second.0, second.1)]
        for (process, output) in zip([first.0, second.0], outputs) {
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(output)")
        }
        sink.stop()

        let counts = Dictionary(try sink.receivedMessages().compactMap(\.recipient).map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.count == Self.readers, "every reader got the digest: \(counts.count) of \(Self.readers)")
        let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates <= Self.connections, "\(duplicates) duplicates; outputs: \(outputs)")
        let store = try Configuration.load(path: config).openStore(create: false)
        let rows = try store.deliveries(limit: 100_000)
        #expect(rows.count == Self.readers && rows.allSatisfy { $0.status == .sent })
        // The skew was real: each run's report starts at its own worker's clock.
        let starts = try store.runs().map(\.startedAt)
        #expect(starts.count == 2, "\(outputs)")
        if starts.count == 2 {
            #expect(abs(starts[0].timeIntervalSince(starts[1])) > 8 * 60, "libfaketime did not move a clock: \(starts)")
        }
    }
}

/// libfaketime (Debian's `faketime` and `libfaketime` packages), to run a process with its clock off.
enum FakeTime {
    /// The `faketime` wrapper, if installed. It, not a bare `LD_PRELOAD=libfaketime.so.1`: the library's
    /// constructor then calls setenv (FAKETIME_SHARED), which moves `environ` off the stack, and Swift's
    /// runtime on Linux finds argv by walking back from `environ` on the stack: the program would see no
    /// arguments at all. The wrapper sets that variable before it starts the program.
    static let program = Programs.find("faketime")
}
