import DigestCore
import DigestPostgres
import DigestTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `digest serve` (a real process) while its database stalls: the pages that need no database keep
/// answering at once, the ones that do answer 503 with `Retry-After` within the deadline, `/readyz`
/// says not ready, and no sign-up is lost or left in doubt: each one answered 503 is, when the reader
/// sends the form again, either stored then or recognised as already stored.
@Suite(.serialized) struct DatabaseStallTests {
    let harness = ServeHarness("db-stall")
    /// `web.databaseTimeoutSeconds` in these tests.
    static let deadline = 2.0

    @Test func sqliteHeldByAnotherProcess() async throws {
        let database = harness.directory.file("digest.sqlite")
        try await stall(database: database, during: { try SQLiteWriteLock(path: database) })
    }

    @Test func postgresStopped() async throws {
        // A server of its own: SIGSTOP stops every connection of it, as a partition or a stuck disk does.
        let server = try PostgresServer.dedicated(durable: false)
        defer { server.stop() }
        let database = try server.createDatabase("stall")
        try await stall(database: database, during: { try PausedPostgres(server) })
    }

    /// PostgreSQL stopped outright (not stalled): connections are refused at once, and the pages that
    /// need the database answer 503 at once instead of an error; once it is back, nothing is lost.
    @Test func postgresDown() async throws {
        let server = try PostgresServer.dedicated(durable: false)
        defer { server.stop() }
        let database = try server.createDatabase("down")
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil, database: database, name: "down.json")
        let serve = try await harness.started(config, port: port, log: harness.directory.file("down.log"))
        defer { serve.stop() }
        let base = serve.base
        let forms = URLSession(configuration: .ephemeral)
        let question = try #require(try await harness.question(0, base: base, session: forms))

        try server.crash()
        #expect(try await CurlProbe.request(base + "/subscribe").status == 200, "the form needs no database")
        #expect(try await CurlProbe.request(base + "/healthz").status == 200)
        let ready = try await CurlProbe.request(base + "/readyz")
        #expect(ready.status == 503 && ready.body.contains("unavailable"), "\(ready.status) \(ready.body)")
        let refused = try await Self.answer(question, email: "down@example.com", base: base)
        #expect(refused.status == 503 && refused.headers["retry-after"] != nil, "\(refused.status) \(refused.body)")
        #expect(refused.body.contains("Please try again in a moment"))

        try server.restart()
        let deadline = ContinuousClock.now + .seconds(20)
        while try await CurlProbe.request(base + "/readyz").status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let again = try await Self.answer(question, email: "down@example.com", base: base)
        #expect(again.status == 200 && again.body.contains("Check your inbox"), "\(again.status)")
        let store = try Store.open(database)
        defer { store.close() }
        #expect(try store.subscriber(email: try EmailAddress("down@example.com"))?.status == .pending)
    }

    /// Runs the scenario with the database stalled by what `during` returns, until it is released.
    func stall(database: String, during makeStall: () throws -> any DatabaseStall) async throws {
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil, database: database) { json in
            var web = json["web"] as! [String: Any]
            web["databaseTimeoutSeconds"] = Self.deadline
            json["web"] = web
        }
        let serve = try await harness.started(config, port: port, log: harness.directory.file("serve.log"))
        defer { serve.stop() }
        let base = serve.base
        #expect(try await CurlProbe.request(base + "/readyz").status == 200)

        // Every reader fetches the form before the stall (the form itself needs no database either,
        // which the probes below check): 16 answer it while probes watch, 16 more while wrk loads the form.
        let readers = 32
        let forms = URLSession(configuration: .ephemeral)
        var questions: [ServeHarness.Question] = []
        for index in 0..<readers {
            questions.append(try #require(try await harness.question(index, base: base, session: forms)))
        }

        var stall: (any DatabaseStall)? = try makeStall()
        defer { stall?.release() }
        let answers = Collected<Answer>()
        /// Sends the forms of `indexes` at once, each answer collected in `answers`.
        func signUps(_ indexes: Range<Int>, in group: inout ThrowingTaskGroup<Void, any Error>) {
            for index in indexes {
                let question = questions[index]
                group.addTask {
                    let answer = try await Self.answer(question, email: "r\(index)@example.com", base: base)
                    answers.append(
                        Answer(
                            index: index, status: answer.status, seconds: answer.seconds,
                            retryAfter: answer.headers["retry-after"]))
                }
            }
        }

        // 16 sign-ups wait on the database; every 250 ms the form and /healthz answer before the deadline, and
        // /readyz is not ready.
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            signUps(0..<16, in: &group)
            var slowest = 0.0
            var readiness: [Int] = []
            while ContinuousClock.now - started < .seconds(Self.deadline + 2) {
                for path in ["/subscribe", "/healthz"] {
                    let probe = try await CurlProbe.request(base + path)
                    #expect(probe.status == 200, "\(path) during the stall")
                    slowest = max(slowest, probe.seconds)
                }
                readiness.append(try await CurlProbe.request(base + "/readyz").status)
                try await Task.sleep(for: .milliseconds(250))
            }
            // A page that waited on the database would take the whole deadline (and answer 503); the rest of the
            // suite running beside this test has cost a probe over a second.
            #expect(slowest < Self.deadline, "the slowest probe of a page that needs no database took \(slowest) s")
            #expect(readiness.contains(503), "/readyz while the database is stalled: \(readiness)")
            try await group.waitForAll()
        }
        // 16 more sign-ups wait while 64 connections load the form for 3 s (wrk): none waits out the deadline.
        try await withThrowingTaskGroup(of: Void.self) { group in
            signUps(16..<32, in: &group)
            let report = try await Self.wrk(base + "/subscribe", connections: 64, seconds: 3)
            #expect(report.requests > 0 && report.failures == 0, "\(report.output)")
            #expect(
                report.maxLatency < Self.deadline, "wrk's slowest GET /subscribe took \(report.maxLatency) s:\n\(report.output)")
            try await group.waitForAll()
        }
        let answered = answers.withLock { $0 }.sorted { $0.index < $1.index }
        #expect(answered.count == readers)
        for answer in answered {
            let index = answer.index
            #expect(answer.status == 503, "r\(index): a write cannot go through while the database is stalled")
            #expect(answer.retryAfter != nil, "r\(index): a 503 says when to retry")
            // The first 16 shared the server with the probes only; the others with wrk's 64 connections.
            if index < 16 { #expect(answer.seconds < Self.deadline + 1, "r\(index) waited \(answer.seconds) s") }
        }

        stall?.release()
        stall = nil
        let deadline = ContinuousClock.now + .seconds(20)
        while try await CurlProbe.request(base + "/readyz").status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await CurlProbe.request(base + "/readyz").status == 200, "ready again once the stall ends")

        // Each reader sends the form again, as the 503 page asks: the answer is the "check your inbox"
        // page either way (stored meanwhile, or stored now), and then every reader is on the list once.
        // A server just woken may still miss the deadline on a loaded machine; such a reader gets the 503 page
        // again and, as it asks, tries once more a moment later (at most 5 tries).
        for (index, question) in questions.enumerated() {
            var again = try await Self.answer(question, email: "r\(index)@example.com", base: base)
            for _ in 1..<5 where again.status == 503 {
                try await Task.sleep(for: .seconds(1))
                again = try await Self.answer(question, email: "r\(index)@example.com", base: base)
            }
            #expect(again.status == 200 && again.body.contains("Check your inbox"), "r\(index): \(again.status)")
        }
        let store = try Store.open(database)
        defer { store.close() }
        for index in 0..<readers {
            let subscriber = try store.subscriber(email: try EmailAddress("r\(index)@example.com"))
            #expect(subscriber?.status == .pending, "r\(index) is stored")
            if let id = subscriber?.id { #expect(try store.outboxMails(subscriberID: id).count == 1) }
        }
    }

    struct Answer: Sendable {
        var index: Int
        var status: Int
        var seconds: Double
        var retryAfter: String?
    }

    /// What `wrk` measured: requests done, non-2xx answers plus socket errors, the slowest request.
    struct LoadReport {
        var requests = 0
        var failures = 0
        var maxLatency = Double.infinity
        var output = ""
    }

    /// Runs `wrk` (Debian's) against `url`, waiting for it off the test pool's threads.
    static func wrk(_ url: String, connections: Int, seconds: Int) async throws -> LoadReport {
        let text = try await Programs.output(
            "wrk", ["-t", "2", "-c", "\(connections)", "-d", "\(seconds)s", "--latency", url])
        var report = LoadReport(output: text)
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            // "    Latency   658.25us  1.01ms  26.73ms   91.23%": average, deviation, maximum.
            if words.first == "Latency", words.count >= 4 { report.maxLatency = duration(words[3]) ?? .infinity }
            // "  12345 requests in 3.00s, 40.12MB read"
            if words.count > 2, words[1] == "requests", let count = Int(words[0]) { report.requests = count }
            // "Non-2xx or 3xx responses: 12" and "Socket errors: connect 0, read 0, write 0, timeout 3"
            if line.hasPrefix("  Non-2xx"), let count = words.last.flatMap({ Int($0) }) { report.failures += count }
            if line.hasPrefix("  Socket errors") {
                report.failures += words.compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +)
            }
        }
        return report
    }

    /// Seconds in wrk's notation: 658.25us, 26.73ms, 1.02s, 1.50m.
    static func duration(_ text: Substring) -> Double? {
        for (unit, scale) in [("us", 1e-6), ("ms", 1e-3), ("m", 60.0), ("s", 1.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }

    /// The form's answer posted by curl, which times the server's reply.
    static func answer(_ question: ServeHarness.Question, email: String, base: String) async throws -> CurlProbe {
        let address = email.replacingOccurrences(of: "@", with: "%40")
        return try await CurlProbe.request(
            base + "/subscribe", method: "POST", headers: ["X-Forwarded-For": question.forwardedFor],
            form: "email=\(address)&answer=\(question.answer)&token=\(question.token)")
    }
}

/// Something that keeps a database from answering until released.
protocol DatabaseStall {
    func release()
}

/// Another process (the `sqlite3` shell, as a big import or a backup would) holding SQLite's write
/// lock: `BEGIN IMMEDIATE` and nothing more until released.
final class SQLiteWriteLock: DatabaseStall {
    private let process = Process()
    private let input = Pipe()

    init(path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = output
        try ChildProcess.spawnLock.withLock { try process.run() }
        // The shell's own busy timeout: the server may be writing at this instant (its outbox worker);
        // `.bail on` ends the shell if BEGIN fails anyway, so "locked" is printed only with the lock held.
        input.fileHandleForWriting.write(Data(".bail on\n.timeout 10000\nBEGIN IMMEDIATE;\n.print locked\n".utf8))
        // The shell prints once the lock is held.
        var seen = ""
        while !seen.contains("locked") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    func release() {
        guard process.isRunning else { return }
        input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// A PostgreSQL server stopped with SIGSTOP until released.
struct PausedPostgres: DatabaseStall {
    let server: PostgresServer

    init(_ server: PostgresServer) throws {
        self.server = server
        try server.pause()
    }

    func release() { try? server.resume() }
}
