import DigestCore
import DigestPostgres
import DigestTestSupport
import Foundation
import Testing

@testable import DigestCore

/// Replies to a digest through the two ways in, as a site runs them: `digest inbound import` (and its old name
/// `digest bounces import`) as a process of the built binary, and `POST /api/inbound` on a real `digest serve`, whose
/// outbox worker then sends the "Done:" answer.
@Suite struct InboundEndToEndTests {
    static let token = "inbound-admin-token-0123456789"

    /// A reply of `from` to `to` saying `own` above Gmail's quote of the digest (whose "+3" must not count).
    static func reply(from: String, to: String, _ own: String, messageID: String, extra: String = "") -> String {
        """
        Return-Path: <\(from)>\r
        Delivered-To: \(to)\r
        From: A Reader <\(from)>\r
        To: The Amman Courier <\(to)>\r
        Subject: Re: Top stories\r
        Message-ID: \(messageID)\r
        \(extra)MIME-Version: 1.0\r
        Content-Type: text/plain; charset=UTF-8\r
        \r
        \(own)\r
        \r
        On Tue, Nov 24, 2026 at 7:00 AM The Amman Courier <\(to)> wrote:\r
        > 3. New library opens +3\r
        > stop\r

        """
    }

    @Test func repliesThroughTheCommandAndTheAPIChangeTheDigestOnceAndAreAnswered() async throws {
        let harness = ServeHarness("inbound-e2e")
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil) { json in
            var mail = json["mail"] as! [String: Any]
            mail["replyAddress"] = "reply@courier.example"
            mail["bounceAddress"] = "bounces@courier.example"
            mail["trustedAuthservIds"] = ["mx.courier.example"]
            json["mail"] = mail
        }
        let configuration = try Configuration.load(path: config)
        let store = try Store.open(configuration.database)
        let readers = try (0..<3).map { index in
            try store.addSubscriber(Subscriber(email: try EmailAddress("reader\(index)@reader.example"), status: .active))
        }
        try store.database.write { db in
            try db.execute(
                "INSERT INTO editions (id, date, kind, windowStart, cutoff, createdAt) VALUES (1, '2026-11-24', 'daily', ?, ?, ?)",
                Date().sqlValue, Date().sqlValue, Date().sqlValue)
            for reader in readers {
                try db.execute(
                    """
                    INSERT INTO deliveries (editionID, subscriberID, status, messageID, itemIDs, queuedAt, updatedAt)
                    VALUES (1, ?, 'sent', ?, '7,8,9', ?, ?)
                    """, reader.id!.sqlValue, .text("<d\(reader.id!)@courier.example>"), Date().sqlValue, Date().sqlValue)
            }
        }
        let signer = try LinkSigner(secret: ServeHarness.secret)
        let replies = ReplyAddress(base: try EmailAddress("reply@courier.example"), signer: signer)
        func to(_ reader: Subscriber) -> String {
            replies.address(for: .init(date: Day("2026-11-24")!, kind: .daily, subscriberID: reader.id!)).description
        }
        let environment = ["DIGEST_SECRET": ServeHarness.secret, configuration.web.adminTokenEnv: Self.token]

        // The command line: a Maildir with a command reply, a forged one and a letter; then the same again.
        let maildir = harness.directory.file("inbox")
        for folder in ["new", "cur", "tmp"] {
            try FileManager.default.createDirectory(atPath: maildir + "/" + folder, withIntermediateDirectories: true)
        }
        let messages = [
            Self.reply(from: "reader0@reader.example", to: to(readers[0]), "weekly", messageID: "<r0@reader.example>"),
            Self.reply(from: "mallory@evil.example", to: to(readers[2]), "stop", messageID: "<m@evil.example>"),
            Self.reply(from: "reader2@reader.example", to: to(readers[2]), "Loved the library story.", messageID: "<r2@reader.example>"),
        ]
        func deliver() {
            for (index, message) in messages.enumerated() {
                _ = harness.directory.write("inbox/new/\(UUID().uuidString).\(index)", message)
            }
        }
        deliver()
        let first = try await Programs.run(
            ServeHarness.binary, ["inbound", "import", "--config", config, maildir], environment: environment, timeout: 60)
        #expect(first.status == 0, "\(first.standardError)")
        #expect(
            first.standardOutput.contains(
                "3 messages read: 0 bounce or complaint report(s), 1 command, 1 refused, 1 letter, 0 auto-reply, 0 already applied"),
            "\(first.standardOutput)")
        #expect(!first.standardOutput.contains("bounce and complaint reports:"), "\(first.standardOutput)")
        #expect(first.standardOutput.contains("From mallory@evil.example is not the address of the reader the token names"))
        deliver()
        let second = try await Programs.run(
            ServeHarness.binary, ["bounces", "import", "--config", config, maildir], environment: environment, timeout: 60)
        #expect(second.standardOutput.contains("0 command, 0 refused, 0 letter, 0 auto-reply, 3 already applied"),
            "\(second.standardOutput) \(second.standardError)")
        #expect(try store.subscriber(id: readers[0].id!)?.cadence == .weekly)
        #expect(try store.subscriber(id: readers[2].id!)?.status == .active)
        #expect(try store.inboundCounts() == [.command: 1, .refused: 1, .letter: 1])

        // The API on a real `digest serve`: a reply with a passing Authentication-Results pauses reader 1, a retry
        // of the same message changes nothing, a failing one is refused; the outbox worker sends the answers.
        let server = try await harness.started(config, port: port, log: harness.directory.file("serve.log"), environment: environment)
        defer { server.stop() }
        let passing = "Authentication-Results: mx.courier.example; dkim=pass header.d=reader.example\r\n"
        let failing = "Authentication-Results: mx.courier.example; dkim=fail header.d=reader.example; spf=fail smtp.mailfrom=reader.example\r\n"
        let pause = Self.reply(
            from: "reader1@reader.example", to: to(readers[1]), "pause 14", messageID: "<r1@reader.example>", extra: passing)
        func post(_ message: String, token: String = Self.token) async throws -> (status: Int, json: [String: Any]) {
            let file = harness.directory.write("post-\(UUID().uuidString).eml", message)
            let result = try await Programs.run(
                "curl",
                ["-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: message/rfc822",
                 "--data-binary", "@\(file)", server.base + "/api/inbound"], timeout: 30)
            let lines = result.standardOutput.split(separator: "\n")
            let json = (try? JSONSerialization.jsonObject(with: Data((lines.dropLast().joined(separator: "\n")).utf8))) as? [String: Any]
            return (Int(lines.last ?? "") ?? 0, json ?? [:])
        }
        #expect(try await post(pause, token: "wrong").status == 401)
        let applied = try await post(pause)
        #expect(applied.status == 200 && applied.json["kind"] as? String == "command" && applied.json["applied"] as? Int == 1,
            "\(applied)")
        let retried = try await post(pause)
        #expect(retried.json["duplicates"] as? Int == 1 && retried.json["applied"] as? Int == 0, "\(retried)")
        let refused = try await post(
            Self.reply(from: "reader2@reader.example", to: to(readers[2]), "stop", messageID: "<r2b@reader.example>", extra: failing))
        #expect(refused.json["refused"] as? Int == 1 && refused.json["applied"] as? Int == 0, "\(refused)")
        #expect(try store.subscriber(id: readers[1].id!)?.pausedUntil != nil)
        #expect(try store.subscriber(id: readers[2].id!)?.status == .active)

        // The answers and the forwards leave through the outbox (the Maildir transport here).
        let outbox = configuration.mail.maildir + "/new"
        var sent: [String] = []
        let deadline = Date() + 30
        while sent.count < 5 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            sent = ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).compactMap {
                try? String(contentsOfFile: outbox + "/" + $0, encoding: .utf8)
            }
        }
        // Two answers, the letter, and the two refused replies forwarded to people with why.
        #expect(sent.count == 5, "\(sent.map { $0.prefix(300) })")
        #expect(sent.filter { $0.contains("A reply with commands that were not applied") }.count == 2)
        #expect(sent.contains { $0.contains("Subject: Done: your digest is now weekly") && $0.contains("To: reader0@reader.example") })
        #expect(sent.contains { $0.contains("Subject: Done: your digest is paused until") && $0.contains("reader1@reader.example") })
        #expect(sent.contains { $0.contains("To: Newsroom <newsroom@courier.example>") && $0.contains("Reply-To: reader2@reader.example") })
    }

    /// A site without VERP or reply addresses never needed the link secret to import bounces, and still does not:
    /// nothing such an import reads or writes is signed. A letter is listed when there is no mail.replyTo.
    @Test func bouncesImportWithoutAddressesNeedsNoSecret() async throws {
        let harness = ServeHarness("inbound-no-secret")
        let config = try harness.configFile(port: FreePort.next(), sink: nil) { json in
            var mail = json["mail"] as! [String: Any]
            mail["replyTo"] = nil
            json["mail"] = mail
        }
        let letter = harness.directory.write(
            "letter.eml",
            Self.reply(from: "someone@reader.example", to: "news@courier.example", "Hello there", messageID: "<l@reader.example>"))
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = nil
        let result = try await Programs.run(
            ServeHarness.binary, ["bounces", "import", "--config", config, letter], environment: environment, timeout: 60)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("a letter, not forwarded: mail.replyTo is not set"), "\(result.standardOutput)")
    }
}
