import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import DigestWeb

/// The confirmation mail goes through the outbox: written with the sign-up, sent by the worker,
/// never lost and never sent twice with two Message-IDs.
@Suite struct OutboxTests {
    @Test func signUpWritesSubscriberAndMailTogether() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("outbox@example.com") { #expect($0.status == .ok) }
            let mails = try await fixture.waitForMails(1)
            let subscriber = try #require(try fixture.subscriber("outbox@example.com"))
            let rows = try fixture.store.outboxMails(subscriberID: subscriber.id!)
            #expect(rows.count == 1)
            #expect(rows.first?.mail.message.messageID == mails.first?.messageID)
            #expect(rows.first?.mail.message.data == mails.first?.data)
            // Recorded right after the relay's reply.
            var status = rows.first?.status
            let deadline = Date() + 10
            while status != .sent && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
                status = try fixture.store.outboxMails(subscriberID: subscriber.id!).first?.status
            }
            #expect(status == .sent)
        }
    }

    /// A double click posts the same question and address twice: the second answer is the same page.
    @Test func repeatedPostOfTheSameFormShowsCheckYourInbox() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let challenge = try await client.challenge()
            let fields = [("email", "double@example.com"), ("answer", challenge.answer), ("token", challenge.token)]
            for _ in 0..<2 {
                try await client.execute(uri: "/subscribe", method: .post, headers: formHeaders, body: form(fields)) {
                    response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("Check your inbox"))
                }
            }
            // The same question for another address is still refused.
            let other = [("email", "other@example.com"), ("answer", challenge.answer), ("token", challenge.token)]
            try await client.execute(uri: "/subscribe", method: .post, headers: formHeaders, body: form(other)) {
                #expect($0.status == .unprocessableContent)
                #expect($0.text.contains("That question was already answered"))
            }
            #expect(try await fixture.waitForMails(1).count == 1)
        }
        let subscriber = try #require(try fixture.subscriber("double@example.com"))
        #expect(try fixture.store.outboxMails(subscriberID: subscriber.id!).count == 1)
        #expect(try fixture.subscriber("other@example.com") == nil)
    }

    /// The relay is down at sign-up: the mail waits (deferred). Signing up again makes it due at once
    /// instead of being blocked for ten minutes; once the relay is back it arrives, once.
    @Test func aMailNeverDeliveredIsQueuedAgainBySigningUpAgain() async throws {
        let fixture = try SubscriptionFixture()
        let port = FreePort.next()
        try await fixture.app(edit: { configuration in
            configuration.mail.transport = .smtp
            configuration.mail.smtp = .init(url: "smtp://127.0.0.1:\(port)", tls: .off, connections: 1, timeoutSeconds: 5, maxAttempts: 1)
        }).test(.router) { client in
            try await client.signUp("later@example.com") { #expect($0.status == .ok) }
            let subscriber = try #require(try fixture.subscriber("later@example.com"))
            var rows = try fixture.store.outboxMails(subscriberID: subscriber.id!)
            let deadline = Date() + 20
            while rows.first?.status != .deferred && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                rows = try fixture.store.outboxMails(subscriberID: subscriber.id!)
            }
            #expect(rows.map(\.status) == [.deferred])
            let messageID = try #require(rows.first?.mail.message.messageID)

            let sink = try SMTPSinkServer(port: port)
            defer { sink.stop() }
            try await client.signUp("later@example.com") { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Check your inbox"))
            }
            var received: [SMTPSinkServer.ReceivedMessage] = []
            while received.isEmpty && Date() < deadline + 20 {
                try await Task.sleep(for: .milliseconds(50))
                received = (try? sink.receivedMessages()) ?? []
            }
            #expect(received.count == 1)
            #expect(headerValue("Message-ID", in: received.first?.data ?? []) == messageID)
            rows = try fixture.store.outboxMails(subscriberID: subscriber.id!)
            #expect(rows.count == 1)
        }
    }

    /// With `mail.bounceAddress`, a confirmation leaves with a VERP envelope sender that names the reader and the
    /// mail, signed like a digest's: the report of its bounce, read by `digest bounces import`, marks the pending
    /// reader `bounced` instead of leaving them pending forever. A forged or unsigned token matches nobody.
    @Test func aConfirmationLeavesWithAVERPSenderAndItsBounceMarksThePendingReaderBounced() async throws {
        let fixture = try SubscriptionFixture()
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let base = try EmailAddress("bounces@courier.example")
        try await fixture.app(edit: { configuration in
            configuration.mail.transport = .smtp
            configuration.mail.smtp = .init(url: sink.url, tls: .off, connections: 1, timeoutSeconds: 5, maxAttempts: 1)
            configuration.mail.bounceAddress = base
        }).test(.router) { client in
            for email in ["gone@example.com", "kept@example.com"] {
                try await client.signUp(email) { #expect($0.status == .ok) }
            }
            var received: [SMTPSinkServer.ReceivedMessage] = []
            let deadline = Date() + 20
            while received.count < 2 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                received = (try? sink.receivedMessages()) ?? []
            }
            #expect(received.count == 2)
        }
        let gone = try #require(try fixture.subscriber("gone@example.com"))
        let kept = try #require(try fixture.subscriber("kept@example.com"))
        let verp = BounceAddress(base: base, signer: fixture.signer)
        let sent = try sink.receivedMessages()
        let confirmation = try #require(sent.first { $0.recipient == gone.email.description })
        // smtp-sink's X-Mail-Args: the envelope sender as the relay saw it.
        let sender = String(confirmation.mailFrom.split(separator: " ").first ?? "").trimmingCharacters(in: ["<", ">"])
        #expect(sender.hasPrefix("bounces+m") && sender.contains("-\(gone.id!)-") && sender.hasSuffix("@courier.example"))
        let reference = try #require(verp.reference(in: sender))
        #expect(reference.subscriberID == gone.id!)
        guard case .outbox = reference.mail else {
            Issue.record("a digest's token on a confirmation: \(reference)")
            return
        }
        #expect(try fixture.store.outboxMails(subscriberID: gone.id!).first?.mail.message.sender.description == sender)
        // The letter's From stays the site's address; only the envelope changes.
        #expect(headerValue("From", in: confirmation.data)?.contains("digest@courier.example") == true)

        let messageID = headerValue("Message-ID", in: confirmation.data) ?? ""
        let keptSender = try #require(sent.first { $0.recipient == kept.email.description }?.mailFrom)
        let mac = String(sender.split(separator: "@")[0].split(separator: "-").last!)
        let madeAt = sender.dropFirst("bounces+m".count).prefix { $0.isNumber }
        let importer = BounceImporter(store: fixture.store, bounceAddress: verp)
        var summary = BounceImportSummary()
        for (index, to) in [
            "bounces+m\(madeAt)-\(kept.id!)-\(mac)@courier.example",  // gone's MAC on kept's id
            "bounces+m\(madeAt)-\(kept.id!)-000000000000@courier.example",  // unsigned
            "bounces@courier.example",
        ].enumerated() {
            try importer.apply(
                raw: Array(Self.dsn(to: to, recipient: kept.email.description, messageID: messageID).utf8),
                source: "forged-\(index)", into: &summary, now: Date())
        }
        #expect(summary.unmatched.count == 3 && summary.recorded == BounceCounts(), "\(summary.lines)")
        #expect(try fixture.subscriber("kept@example.com")?.status == .pending)
        #expect(keptSender != confirmation.mailFrom)

        try importer.apply(
            raw: Array(Self.dsn(to: sender, recipient: gone.email.description, messageID: messageID).utf8),
            source: "dsn", into: &summary, now: Date())
        #expect(summary.bounced == ["gone@example.com"], "\(summary.lines)")
        #expect(try fixture.subscriber("gone@example.com")?.status == .bounced)
        #expect(try fixture.store.subscriberDetail(id: gone.id!)?.bounces.map(\.status) == ["5.1.1"])
        #expect(try fixture.subscriber("kept@example.com")?.status == .pending)
    }

    /// A delivery-status report (RFC 3464) for `recipient`, sent back to the envelope sender `to`.
    static func dsn(to: String, recipient: String, messageID: String) -> String {
        """
        From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r
        To: \(to)\r
        Subject: Undelivered Mail Returned to Sender\r
        Message-ID: <dsn.\(UUID().uuidString)@mx.example.com>\r
        MIME-Version: 1.0\r
        Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r
        \r
        --b\r
        Content-Type: text/plain\r
        \r
        Your message could not be delivered.\r
        --b\r
        Content-Type: message/delivery-status\r
        \r
        Reporting-MTA: dns; mx.example.com\r
        \r
        Final-Recipient: rfc822; \(recipient)\r
        Action: failed\r
        Status: 5.1.1\r
        Diagnostic-Code: smtp; 550 5.1.1 <\(recipient)>: Recipient address rejected: User unknown\r
        --b\r
        Content-Type: text/rfc822-headers\r
        \r
        Message-ID: \(messageID)\r
        --b--\r

        """
    }

    @Test func retryBackoffDoublesUpToAnHour() {
        let retry = OutboxRetry()
        #expect([1, 2, 3, 7, 50].map(retry.delay(afterAttempts:)) == [60, 120, 240, 3600, 3600])
    }

    /// A full batch claims the next one while it is sent: with the first mail held at the relay, the worker has
    /// already claimed two batches; every mail then goes out once.
    @Test func aFullBatchClaimsTheNextWhileItIsSent() async throws {
        let fixture = try SubscriptionFixture()
        let now = Date()
        try queueMails(0..<12, in: fixture, now: now)
        let relay = HeldRelay()
        try await fixture.app(transport: relay).test(.router) { _ in
            // One connection: batches of 4. While the first mail waits at the relay, the second batch is claimed.
            let deadline = Date() + 10
            while try fixture.store.outboxCounts()[.sending, default: 0] < 8 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try fixture.store.outboxCounts()[.sending, default: 0] == 8, "a batch and the next one claimed")
            #expect(relay.accepted.withLock { $0 }.isEmpty)
            relay.release()
            _ = try await fixture.waitForMails(12, timeout: 20)
            #expect(relay.accepted.withLock { $0 }.sorted() == (0..<12).map { "<m\($0)@courier.example>" }.sorted())
            let sentBy = Date() + 10
            while try fixture.store.outboxCounts()[.sent, default: 0] < 12 && Date() < sentBy {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try fixture.store.outboxCounts() == [.sent: 12])
        }
    }

    /// What goes back to the queue when sending stops: the mails of the batch not yet taken, and the batch claimed
    /// ahead (waiting for its claim to end).
    @Test func aStoppedBatchGivesBackWhatItDidNotSendAndWhatItClaimedAhead() throws {
        let fixture = try SubscriptionFixture()
        try queueMails(1...4, in: fixture, now: Date())
        let batch = OutboxWorker.Batch()
        batch.fill(try fixture.store.claimOutbox(owner: "h:1", limit: 2, lease: 600, now: Date()))
        #expect(batch.take()?.id == 1)
        let claimed = try fixture.store.claimOutbox(owner: "h:1", limit: 2, lease: 600, now: Date())
        let claiming = DispatchSemaphore(value: 0)
        batch.claimAhead {
            claiming.wait()
            return claimed
        }
        batch.stop()
        #expect(batch.isStopped && batch.holdsClaims)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { claiming.signal() }
        #expect(batch.drain().map(\.id) == [2, 3, 4])
        #expect(try batch.takeAhead() == nil)
        #expect(!batch.holdsClaims && batch.drain().isEmpty)
    }

    /// A database that cannot record (its disk full) while a batch is out: the worker stops sending, and nothing
    /// is lost. Over real SMTP the result of a mail is written before the next one may end, so at most one mail
    /// per connection reaches the relay unrecorded; once there is room and the worker starts again, every mail
    /// goes out, that one a second time.
    @Test func aFullDiskStopsTheOutboxAndLosesNothing() async throws {
        let mount = NSTemporaryDirectory() + "digest-outbox-disk-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try await Programs.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount])
        try #require(mounted.status == 0, "mounting a small tmpfs needs root (CI runs as root): \(mounted.standardError)")
        var failure: (any Error)?
        do { try await sendThroughAFullDisk(mount) } catch { failure = error }
        _ = try? await Programs.run("/bin/umount", ["-l", mount])
        try? FileManager.default.removeItem(atPath: mount)
        if let failure { throw failure }
    }

    func sendThroughAFullDisk(_ mount: String) async throws {
        let fixture = try SubscriptionFixture(directory: mount)
        try queueMails(0..<12, in: fixture, now: Date())
        func smtp(_ sink: SMTPSinkServer) -> (inout Configuration) -> Void {
            { $0.mail.transport = .smtp; $0.mail.smtp = .init(url: sink.url, tls: .off, connections: 1, maxAttempts: 1) }
        }
        // A relay that waits 2 s before answering each DATA: the first mail is on the wire while the disk fills.
        let slow = try SMTPSinkServer(flags: ["-w", "2"])
        defer { slow.stop() }
        try await fixture.app(edit: smtp(slow)).test(.router) { _ in
            // One connection, batches of 4: while the first mail waits, the next batch is claimed too.
            let deadline = Date() + 10
            while try fixture.store.outboxCounts()[.sending, default: 0] < 8 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try fixture.store.outboxCounts()[.sending, default: 0] == 8)
            let filler = mount + "/filler"
            FileManager.default.createFile(atPath: filler, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: filler))
            while (try? handle.write(contentsOf: Data(count: 1 << 16))) != nil {}
            try? handle.close()
            #expect(throws: (any Error).self, "the disk is full") {
                try fixture.store.queueOutboxMail(Self.mail(99), purpose: "test", subscriberID: nil, now: Date())
            }
            let taken = Date() + 10
            while slow.messageCount < 1 && Date() < taken { try await Task.sleep(for: .milliseconds(20)) }
            // Long enough for the next mail to have gone out had sending gone on (2 s at DATA), and for two looks.
            try await Task.sleep(for: .seconds(3))
            #expect(slow.messageCount == 1, "the relay took the first mail; the second was not let end unrecorded")
            #expect(try fixture.store.outboxCounts()[.sent, default: 0] == 0)
        }
        // Room again once that worker has stopped, and it starts again (`digest serve` restarted): the claims it
        // held are put back, and all goes out.
        try FileManager.default.removeItem(atPath: mount + "/filler")
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        try await fixture.app(edit: smtp(sink)).test(.router) { _ in
            let deadline = Date() + 20
            while try fixture.store.outboxCounts()[.sent, default: 0] < 12 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try fixture.store.outboxCounts() == [.sent: 12])
        }
        let first = try slow.receivedMessages().compactMap(\.recipient)
        let sent = try sink.receivedMessages().compactMap(\.recipient)
        #expect(first == ["r0@example.com"])
        #expect(Set(sent) == Set((0..<12).map { "r\($0)@example.com" }) && sent.count == 12, "\(sent)")
    }

    static func mail(_ number: Int) throws -> MailMessage {
        MailMessage(
            sender: try EmailAddress("digest@courier.example"), recipient: try EmailAddress("r\(number)@example.com"),
            messageID: "<m\(number)@courier.example>", data: Array("Subject: x\r\n\r\nx\r\n".utf8))
    }

    /// Mails `<mN@courier.example>` to `rN@example.com` for each N of `numbers`, due `now`, in the outbox.
    func queueMails(_ numbers: some Sequence<Int>, in fixture: SubscriptionFixture, now: Date) throws {
        for number in numbers {
            try fixture.store.queueOutboxMail(Self.mail(number), purpose: "test", subscriberID: nil, now: now)
        }
    }

    /// One connection that holds every message until `release()`, then accepts each.
    final class HeldRelay: MailTransport, @unchecked Sendable {
        let connections = 1
        let accepted = Mutex<[String]>([])
        private let gate = DispatchSemaphore(value: 0)

        func release() { gate.signal() }
        func makeConnection() throws -> any MailConnection { Connection(relay: self) }

        final class Connection: MailConnection {
            let relay: HeldRelay
            private var released = false
            init(relay: HeldRelay) { self.relay = relay }
            var isUsable: Bool { true }
            func send(_ message: MailMessage) -> SendOutcome {
                if !released {
                    relay.gate.wait()
                    released = true
                }
                relay.accepted.withLock { $0.append(message.messageID) }
                return .sent(reply: "250 2.0.0 Ok")
            }
        }
    }

    @Test func claimsOfAStoppedServerArePutBack() throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("claimed@example.com", status: .pending)
        let now = Date()
        _ = try fixture.store.signUp(
            reader, challenge: UsedChallenge(id: "q", expiresAt: now + 60), now: now, resendInterval: 600
        ) { subscriber in
            MailMessage(
                sender: try EmailAddress("digest@courier.example"), recipient: subscriber.email,
                messageID: "<fixed@courier.example>", data: Array("Subject: x\r\n\r\nx\r\n".utf8))
        }
        let claimed = try fixture.store.claimOutbox(owner: "gone-host:1", limit: 10, lease: 600, now: now)
        #expect(claimed.map(\.message.messageID) == ["<fixed@courier.example>"])
        // Claimed and the lease still running: nobody else takes it.
        #expect(try fixture.store.claimOutbox(owner: "other:2", limit: 10, lease: 600, now: now + 1).isEmpty)
        #expect(try fixture.store.releaseOutboxClaims(now: now, isGone: { $0 == "alive:3" }) == 0)
        #expect(try fixture.store.releaseOutboxClaims(now: now, isGone: { $0 == "gone-host:1" }) == 1)
        let again = try fixture.store.claimOutbox(owner: "other:2", limit: 10, lease: 600, now: now + 1)
        #expect(again.map(\.message.messageID) == ["<fixed@courier.example>"])
        // Past the lease, another worker may take it even when the owner is not known to be gone.
        #expect(try fixture.store.claimOutbox(owner: "third:4", limit: 10, lease: 600, now: now + 602).count == 1)
    }
}
