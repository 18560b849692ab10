import DigestCore
import DigestPostgres
import DigestTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `digest serve` as a site runs it, a real process of the built binary, with its configuration in a
/// folder of the test's own, and a browser's sign-up (the form, then its answer) over a real socket.
struct ServeHarness {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()
    static let binary = root + "/.build/debug/digest"
    static let secret = "serve-crash-secret-0123456789"

    let directory: TemporaryDirectory

    init(_ label: String) {
        directory = TemporaryDirectory(label)
    }

    /// A configuration on `port` that sends through `sink` (into a Maildir in the folder without one);
    /// `database` nil: a new SQLite file in the folder. `edit` changes the JSON before it is written.
    func configFile(
        port: UInt16, sink: SMTPSinkServer?, database: String? = nil, name: String = "config.json",
        edit: (inout [String: Any]) -> Void = { _ in }
    ) throws -> String {
        let database = database ?? directory.file("digest.sqlite")
        let example = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/config.example.json"))
        var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
        json["database"] = database
        // The test server trusts local connections: no password variable to name.
        json["databasePasswordEnv"] = nil
        json["templates"] = Self.root + "/templates"
        json["feeds"] = [Any]()
        var mail = json["mail"] as! [String: Any]
        if let sink {
            mail["transport"] = "smtp"
            mail["smtp"] = ["url": sink.url, "tls": "off", "connections": 2, "timeoutSeconds": 20, "maxAttempts": 3]
        } else {
            mail["transport"] = "maildir"
            mail["maildir"] = directory.file("outbox")
        }
        json["mail"] = mail
        var web = json["web"] as! [String: Any]
        web["port"] = Int(port)
        web["baseURL"] = "http://127.0.0.1:\(port)"
        web["adminListen"] = ""
        // The test posts from 127.0.0.1 for many readers, as a reverse proxy would.
        web["trustedProxies"] = ["127.0.0.1"]
        json["web"] = web
        edit(&json)
        let file = directory.file(name)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
        try Store.open(database).close()
        return file
    }

    func serve(_ config: String, log: String, environment extra: [String: String] = [:]) throws -> Process {
        // `make test` builds it first; a missing binary is a failure, never a skipped test.
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it: swift build --product digest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = Self.secret
        environment.merge(extra) { $1 }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try ChildProcess.spawnLock.withLock { try process.run() }
        return process
    }

    /// `digest serve` started with `config` and listening on `port` (a failure when it does not listen);
    /// the caller stops it (`defer { server.stop() }`).
    func started(_ config: String, port: UInt16, log: String, environment: [String: String] = [:]) async throws
        -> Running
    {
        let process = try serve(config, log: log, environment: environment)
        let running = Running(process: process, base: "http://127.0.0.1:\(port)")
        guard await FreePort.listening(port) else {
            running.stop()
            throw ProgramError(
                message: "digest serve does not listen: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return running
    }

    /// A started `digest serve`.
    struct Running {
        let process: Process
        /// `http://127.0.0.1:PORT`
        let base: String

        /// Kills it (SIGKILL) and waits for it to end.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// One reader's sign-up as a browser behind the proxy sends it: the form, then the answer (to
    /// `answerBase` when given: another host behind the same load balancer).
    func signUp(_ index: Int, base: String, answerBase: String? = nil, session: URLSession) async throws -> Int {
        guard let form = try await question(index, base: base, session: session) else { return 0 }
        return try await answer(form, email: "r\(index)@example.com", base: answerBase ?? base, session: session).status
    }

    struct Question {
        var forwardedFor: String
        var answer: Int
        var token: String
    }

    /// The sign-up form's question and its token.
    func question(_ index: Int, base: String, session: URLSession) async throws -> Question? {
        var get = URLRequest(url: URL(string: base + "/subscribe")!)
        let client = "198.51.100.\(index % 250 + 1)"
        get.setValue(client, forHTTPHeaderField: "X-Forwarded-For")
        let (page, _) = try await session.data(for: get)
        let text = String(decoding: page, as: UTF8.self)
        guard let question = text.firstMatch(of: /id="question">(\d+) \+ (\d+) =</),
            let token = text.firstMatch(of: /name="token" value="([^"]+)"/)
        else { return nil }
        return Question(forwardedFor: client, answer: Int(question.1)! + Int(question.2)!, token: String(token.1))
    }

    /// Posts the answer; the status, the page and the `Retry-After` field.
    func answer(_ question: Question, email: String, base: String, session: URLSession) async throws
        -> (status: Int, page: String, retryAfter: String?)
    {
        var post = URLRequest(url: URL(string: base + "/subscribe")!)
        post.setValue(question.forwardedFor, forHTTPHeaderField: "X-Forwarded-For")
        post.httpMethod = "POST"
        post.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let address = email.replacingOccurrences(of: "@", with: "%40")
        post.httpBody = Data("email=\(address)&answer=\(question.answer)&token=\(question.token)".utf8)
        let (page, response) = try await session.data(for: post)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, String(decoding: page, as: UTF8.self), http?.value(forHTTPHeaderField: "Retry-After"))
    }
}
