import Foundation
import Testing

@testable import DigestCore

@Suite struct MaildirTransportTests {
    @Test func messagesLandInNewAndReadBackIdentical() async throws {
        let folder = TemporaryDirectory("maildir")
        let transport = try MaildirTransport(path: folder.file("Mail"), connections: 2)
        let messages = (0..<20).map { MailTests.message($0) }
        let (results, summary) = await MailTests.send(messages, over: transport)
        #expect(summary.sent == 20)
        for (index, result) in results {
            guard case .sent(let reply) = result.outcome else {
                Issue.record("\(result.outcome)")
                continue
            }
            #expect(reply.hasPrefix("maildir: new/"))
            let name = String(reply.dropFirst("maildir: new/".count))
            let data = try Data(contentsOf: URL(fileURLWithPath: folder.file("Mail/new/\(name)")))
            // Local line ends on disk: the wire form with every CRLF turned into LF, nothing else changed.
            let wire = messages[index].data
            #expect(!data.contains(0x0D))
            #expect(Array(data) == Array(String(decoding: wire, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8))
            #expect(data.count == wire.count - wire.filter { $0 == 0x0A }.count)
        }
        let manager = FileManager.default
        #expect(try manager.contentsOfDirectory(atPath: folder.file("Mail/new")).count == 20)
        #expect(try manager.contentsOfDirectory(atPath: folder.file("Mail/tmp")).isEmpty)
        #expect(try manager.contentsOfDirectory(atPath: folder.file("Mail/cur")).isEmpty)
    }

    @Test func onlyCRLFPairsBecomeLF() {
        let wire = Array("a\r\nb\rc\nd\r\n\r\n".utf8)
        #expect(MaildirConnection.localLineEnds(wire) == Array("a\nb\rc\nd\n\n".utf8))
        #expect(MaildirConnection.localLineEnds([]) == [])
        #expect(MaildirConnection.localLineEnds([0x0D]) == [0x0D])
    }

    @Test func uniqueNamesFollowTheMaildirConvention() {
        let names = (0..<1_000).map { _ in MaildirTransport.uniqueName() }
        #expect(Set(names).count == 1_000)
        let parts = names[0].split(separator: ".", maxSplits: 2)
        #expect(parts.count == 3 && Int(parts[0]) != nil && parts[1].hasPrefix("\(getpid())_"))
    }

    @Test func theExampleConfigurationDeliversToTheMaildir() throws {
        let folder = TemporaryDirectory()
        let configuration = try Fixtures.configuration(in: folder)
        let transport = try configuration.mail.makeTransport(environment: [:])
        let maildir = try #require(transport as? MaildirTransport)
        #expect(maildir.path == folder.file("outbox"))
        #expect(FileManager.default.fileExists(atPath: folder.file("outbox/new")))
    }

    @Test func rateCapSpacesSends() async throws {
        let folder = TemporaryDirectory("maildir")
        let transport = try MaildirTransport(path: folder.path, connections: 3)
        let started = Date()
        let (_, summary) = await MailTests.send(
            (0..<11).map { MailTests.message($0) }, over: transport, maxPerSecond: 50)
        #expect(summary.sent == 11)
        // The first send is free, the next ten wait 20 ms each.
        #expect(Date().timeIntervalSince(started) >= 0.18)
    }
}

@Suite struct RetryPolicyTests {
    @Test func delaysGrowExponentiallyUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 1, maxDelay: 5, jitter: 0.5)
        #expect(policy.delay(afterAttempt: 1, random: 0) == 1)
        #expect(policy.delay(afterAttempt: 2, random: 0) == 2)
        #expect(policy.delay(afterAttempt: 3, random: 0) == 4)
        #expect(policy.delay(afterAttempt: 4, random: 0) == 5)
        #expect(policy.delay(afterAttempt: 2, random: 0.999) > 1)
        #expect(policy.delay(afterAttempt: 2, random: 0.5) == 1.5)
    }

    @Test func replyCollectorKeepsTheLastCompleteReply() {
        let collector = SMTPReplyCollector()
        for line in [
            "220 sink ESMTP", "250-sink", "250-PIPELINING", "250 ", "250 2.1.0 Ok", "354 End data",
            "250 2.0.0 Ok: queued as X",
        ] {
            collector.add(line)
        }
        #expect(collector.last == "250 2.0.0 Ok: queued as X")
        collector.add("550-5.1.1 first")
        collector.add("550 5.1.1 second")
        #expect(collector.last == "550-5.1.1 first / 550 5.1.1 second")
    }
}

extension SMTPReplyCollector {
    func add(_ line: String) {
        var line = line
        line.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }
}
