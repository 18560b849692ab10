import DigestCore
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
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()
    static let binary = root + "/.build/debug/digest"
    static let secret = "serve-crash-secret-0123456789"

    let directory = TemporaryDirectory("serve-crash")

    func configFile(port: UInt16, sink: SMTPSinkServer) throws -> String {
        let example = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/config.example.json"))
        var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
        json["database"] = directory.file("digest.sqlite")
        json["templates"] = Self.root + "/templates"
        json["feeds"] = [Any]()
        var mail = json["mail"] as! [String: Any]
        mail["transport"] = "smtp"
        mail["smtp"] = ["url": sink.url, "tls": "off", "connections": 2, "timeoutSeconds": 20, "maxAttempts": 3]
        json["mail"] = mail
        var web = json["web"] as! [String: Any]
        web["port"] = Int(port)
        web["baseURL"] = "http://127.0.0.1:\(port)"
        web["adminListen"] = ""
        // The test posts from 127.0.0.1 for many readers, as a reverse proxy would.
        web["trustedProxies"] = ["127.0.0.1"]
        json["web"] = web
        let file = directory.file("config.json")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
        _ = try Store(path: directory.file("digest.sqlite"))
        return file
    }

    func serve(_ config: String, log: String) throws -> Process {
        // `make test` builds it first; a missing binary is a failure, never a skipped test.
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it: swift build --product digest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = Self.secret
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

    /// One reader's sign-up as a browser behind the proxy sends it: the form, then the answer.
    func signUp(_ index: Int, base: String, session: URLSession) async throws -> Int {
        var get = URLRequest(url: URL(string: base + "/subscribe")!)
        get.setValue("198.51.100.\(index % 250 + 1)", forHTTPHeaderField: "X-Forwarded-For")
        let (page, _) = try await session.data(for: get)
        let text = String(decoding: page, as: UTF8.self)
        guard let question = text.firstMatch(of: /id="question">(\d+) \+ (\d+) =</),
            let token = text.firstMatch(of: /name="token" value="([^"]+)"/)
        else { return 0 }
        var post = get
        post.url = URL(string: base + "/subscribe")
        post.httpMethod = "POST"
        post.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let answer = Int(question.1)! + Int(question.2)!
        post.httpBody = Data("email=r\(index)%40example.com&answer=\(answer)&token=\(token.1)".utf8)
        let (_, response) = try await session.data(for: post)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test func killedDuringABurstOfSignUpsLosesNoConfirmationMail() async throws {
        let sink = try SMTPSinkServer(flags: ["-W", "RCPT:1"])
        defer { sink.stop() }
        let port = FreePort.next()
        let config = try configFile(port: port, sink: sink)
        let log = directory.file("serve.log")
        let base = "http://127.0.0.1:\(port)"
        let session = URLSession(configuration: .ephemeral)

        let first = try serve(config, log: log)
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
            let status = (try? await signUp(index, base: base, session: session)) ?? 0
            if status == 200 { accepted.append(index) }
        }
        while first.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(killedAt == readers / 2)
        #expect(accepted.count == readers / 2, "only sign-ups before the kill get through: \(accepted)")
        let store = try Store(path: directory.file("digest.sqlite"))
        let unsentAtKill = try store.outboxCounts().filter { $0.key != .sent }.values.reduce(0, +)
        #expect(unsentAtKill > 0, "the kill must leave mails unsent for the test to mean anything")

        let second = try serve(config, log: log)
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
