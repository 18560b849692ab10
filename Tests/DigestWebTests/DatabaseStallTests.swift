import DigestCore
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

    /// Runs the scenario with the database stalled by what `during` returns, until it is released.
    func stall(database: String, during makeStall: () throws -> any DatabaseStall) async throws {
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil, database: database) { json in
            var web = json["web"] as! [String: Any]
            web["databaseTimeoutSeconds"] = Self.deadline
            json["web"] = web
        }
        let log = harness.directory.file("serve.log")
        let server = try harness.serve(config, log: log)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        #expect(await FreePort.listening(port), "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let base = "http://127.0.0.1:\(port)"
        let probes = Self.session()
        #expect(try await Self.get(base + "/readyz", probes).status == 200)

        // Every reader fetches the form before the stall (the form itself needs no database either,
        // which the probes below check).
        let readers = 16
        let signUps = Self.session()
        var questions: [ServeHarness.Question] = []
        for index in 0..<readers {
            questions.append(try #require(try await harness.question(index, base: base, session: signUps)))
        }

        var stall: (any DatabaseStall)? = try makeStall()
        defer { stall?.release() }
        let started = ContinuousClock.now
        let answers = Collected<Answer>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, question) in questions.enumerated() {
                group.addTask { [harness] in
                    let start = ContinuousClock.now
                    let answer = try await harness.answer(
                        question, email: "r\(index)@example.com", base: base, session: signUps)
                    let seconds = Self.seconds(ContinuousClock.now - start)
                    answers.append(Answer(index: index, status: answer.status, seconds: seconds, retryAfter: answer.retryAfter))
                }
            }
            // Meanwhile, every 250 ms: the form and /healthz answer within a second; /readyz is not ready.
            var slowest = 0.0
            var readiness: [Int] = []
            while ContinuousClock.now - started < .seconds(Self.deadline + 3) {
                for path in ["/subscribe", "/healthz"] {
                    let (status, seconds) = try await Self.get(base + path, probes)
                    #expect(status == 200, "\(path) during the stall")
                    slowest = max(slowest, seconds)
                }
                readiness.append(try await Self.get(base + "/readyz", probes).status)
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(slowest < 1, "the slowest probe of a page that needs no database took \(slowest) s")
            #expect(readiness.contains(503), "/readyz while the database is stalled: \(readiness)")
            try await group.waitForAll()
        }
        let answered = answers.withLock { $0 }.sorted { $0.index < $1.index }
        #expect(answered.count == readers)
        for answer in answered {
            let index = answer.index
            #expect(answer.status == 503, "r\(index): a write cannot go through while the database is stalled")
            #expect(answer.seconds < Self.deadline + 1, "r\(index) waited \(answer.seconds) s")
            #expect(answer.retryAfter != nil, "r\(index): a 503 says when to retry")
        }

        stall?.release()
        stall = nil
        let deadline = ContinuousClock.now + .seconds(20)
        while try await Self.get(base + "/readyz", probes).status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await Self.get(base + "/readyz", probes).status == 200, "ready again once the stall ends")

        // Each reader sends the form again, as the 503 page asks: the answer is the "check your inbox"
        // page either way (stored meanwhile, or stored now), and then every reader is on the list once.
        for (index, question) in questions.enumerated() {
            let again = try await harness.answer(question, email: "r\(index)@example.com", base: base, session: signUps)
            #expect(again.status == 200 && again.page.contains("Check your inbox"), "r\(index): \(again.status)")
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

    static func session() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }

    /// The status of a GET and how long it took.
    static func get(_ url: String, _ session: URLSession) async throws -> (status: Int, seconds: Double) {
        let start = ContinuousClock.now
        let (_, response) = try await session.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, seconds(ContinuousClock.now - start))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
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
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\n.print locked\n".utf8))
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
