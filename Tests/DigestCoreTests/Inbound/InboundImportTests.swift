import Foundation
import Synchronization
import Testing

@testable import DigestCore

/// A store with three readers, the daily edition of 2026-11-24 sent to each (items 101 to 104, "Item 101" to
/// "Item 104", in the order printed), and a configuration with reply addresses, VERP senders and a trusted receiving server.
struct InboundFixture {
    let directory = TemporaryDirectory("inbound")
    let configuration: Configuration
    let store: Store
    let signer = try! LinkSigner(secret: String(repeating: "k", count: 32))
    let replies: ReplyAddress
    let importer: InboundImporter
    var readers: [Subscriber] = []
    static let now = Fixtures.date("2026-11-25T08:00:00Z")

    init(_ backend: StoreBackend = .sqlite) throws {
        configuration = try Fixtures.configuration(in: directory) { json in
            var mail = json["mail"] as! [String: Any]
            mail["replyAddress"] = "reply@courier.example"
            mail["bounceAddress"] = "bounces@courier.example"
            mail["trustedAuthservIds"] = ["mx.courier.example"]
            json["mail"] = mail
        }
        store = try Fixtures.store(in: directory, backend)
        replies = ReplyAddress(base: try EmailAddress("reply@courier.example"), signer: signer)
        importer = try InboundImporter(configuration: configuration, store: store, signer: signer)
        for index in 0..<3 {
            readers.append(
                try store.addSubscriber(Subscriber(email: try EmailAddress("reader\(index)@reader.example"), status: .active)))
        }
        let ids = readers.map { $0.id! }
        try store.database.write { db in
            for item in 101...104 {
                try db.execute(
                    "INSERT INTO items (id, kind, title, url, publishedAt, updatedAt) VALUES (?, 'story', ?, ?, ?, ?)",
                    item.sqlValue, .text("Item \(item)"), .text("https://news.example/\(item)"), Self.now.sqlValue,
                    Self.now.sqlValue)
            }
            for (index, day) in ["2026-09-01", "2026-11-24"].enumerated() {
                let cutoff = Fixtures.date("\(day)T03:00:00Z")
                try db.execute(
                    "INSERT INTO editions (id, date, kind, windowStart, cutoff, createdAt) VALUES (?, ?, 'daily', ?, ?, ?)",
                    (index + 1).sqlValue, .text(day), (cutoff - 86_400).sqlValue, cutoff.sqlValue, cutoff.sqlValue)
                for (position, item) in (101...104).enumerated() {
                    try db.execute(
                        """
                        INSERT INTO edition_items (editionID, position, itemID, kind, title, url, summary, publishedAt, votes)
                        VALUES (?, ?, ?, 'story', ?, ?, '', ?, 0)
                        """,
                        (index + 1).sqlValue, position.sqlValue, item.sqlValue, .text("Item \(item)"),
                        .text("https://news.example/\(item)"), Self.now.sqlValue)
                }
                for id in ids {
                    try db.execute(
                        """
                        INSERT INTO deliveries (editionID, subscriberID, status, messageID, itemIDs, queuedAt, updatedAt)
                        VALUES (?, ?, 'sent', ?, '101,102,103,104', ?, ?)
                        """,
                        (index + 1).sqlValue, id.sqlValue, .text("<d.\(index).\(id)@courier.example>"), Date().sqlValue,
                        Date().sqlValue)
                }
            }
        }
    }

    /// The items each reader voted for from their digests (`digest_votes`), by reader.
    func digestVotes() throws -> [Int64: [Int64]] {
        try store.database.read { db in
            try db.fetchAll("SELECT subscriberID, itemID FROM digest_votes ORDER BY id").map { row in
                (try row["subscriberID"] as Int64, try row["itemID"] as Int64)
            }
        }.reduce(into: [:]) { votes, vote in votes[vote.0, default: []].append(vote.1) }
    }

    /// The Reply-To of `reader`'s digest of `day`.
    func to(_ index: Int, day: String = "2026-11-24") -> String {
        replies.address(for: .init(date: Day(day)!, kind: .daily, subscriberID: readers[index].id!)).description
    }

    func reader(_ index: Int) throws -> Subscriber { try store.subscriber(id: readers[index].id!)! }

    /// Each message as a file of its own, imported in one run.
    func importing(_ messages: [String], now: Date = Self.now) throws -> InboundImportSummary {
        let files = messages.enumerated().map { index, message in directory.write("message-\(index).eml", message) }
        return try importer.importPaths(files, now: now)
    }

    struct Queued {
        var purpose: String
        var recipient: String
        var sender: String
        var text: String
    }

    /// Every mail in the outbox, oldest first.
    func outbox() throws -> [Queued] {
        try store.database.read { db in
            try db.fetchAll("SELECT purpose, recipient, sender, data FROM outbox ORDER BY id").map { row in
                let data: Data = try row["data"]
                return Queued(
                    purpose: try row["purpose"], recipient: try row["recipient"], sender: try row["sender"],
                    text: String(decoding: data, as: UTF8.self))
            }
        }
    }
}

@Suite struct InboundImportTests {
    @Test(arguments: StoreBackend.allCases) func commandRepliesChangeTheDigestOnceAndAreAnsweredOnce(backend: StoreBackend) throws {
        let fixture = try InboundFixture(backend)
        let messages = [
            Replies.gmail("weekly", to: fixture.to(0)),
            Replies.outlook("pause 14", to: fixture.to(1)).replacingOccurrences(of: "reader0@", with: "reader1@"),
            Replies.appleMail("+2 +9", to: fixture.to(2)).replacingOccurrences(of: "From: reader0@", with: "From: reader2@"),
        ]
        let summary = try fixture.importing(messages)
        #expect(summary.applied == ["command": 3], "\(summary.lines)")
        #expect(try fixture.reader(0).cadence == .weekly)
        #expect(try fixture.reader(1).pausedUntil == Day("2026-12-09"))
        #expect(try fixture.reader(2).cadence == .daily && fixture.reader(2).pausedUntil == nil)
        // "+2" is the second item printed in reader 2's digest; there was no ninth.
        #expect(try fixture.digestVotes() == [fixture.readers[2].id!: [102]])
        let outbox = try fixture.outbox()
        #expect(outbox.map(\.purpose) == ["reply-done", "reply-done", "reply-done"])
        #expect(outbox.map(\.recipient) == fixture.readers.map(\.email.description))
        let weekly = outbox[0].text
        #expect(weekly.contains("Subject: Done: your digest is now weekly"))
        #expect(weekly.contains("Undo: reply \"daily\"."))
        #expect(weekly.contains("Auto-Submitted: auto-replied"))
        #expect(weekly.contains("In-Reply-To: <"))
        #expect(weekly.contains("Reply-To: The Amman Courier <\(fixture.to(0))>"))
        #expect(outbox[0].sender.hasPrefix("bounces+m"), "a Done mail that bounces names its reader too")
        #expect(outbox[1].text.contains("Done: your digest is paused until 2026-12-09") && outbox[1].text.contains("Undo: reply \"resume\""))
        #expect(outbox[2].text.contains("Subject: Done: your vote for 2 (Item 102) counted"))
        #expect(outbox[2].text.contains("There was no item 9 in that digest."))

        // The same messages again: nothing changes, nothing more is sent, no vote counts twice.
        let again = try fixture.importing(messages)
        #expect(again.applied == [:] && again.duplicates == 3, "\(again.lines)")
        #expect(try fixture.outbox().count == 3)
        #expect(try fixture.digestVotes() == [fixture.readers[2].id!: [102]])
        #expect(try fixture.store.inboundCounts() == [.command: 3])

        // A second reply with "+2" finds the vote already cast; "resume" ends the pause; "stop" unsubscribes.
        let later = try fixture.importing([
            Replies.thunderbird("vote 2", to: fixture.to(2)).replacingOccurrences(of: "From: reader0@", with: "From: reader2@"),
            Replies.gmail("resume", to: fixture.to(1), from: "reader1@reader.example"),
            Replies.gmail("stop", to: fixture.to(0)),
        ], now: InboundFixture.now + 3600)
        #expect(later.applied == ["command": 3], "\(later.lines)")
        #expect(try fixture.digestVotes() == [fixture.readers[2].id!: [102]])
        #expect(try fixture.reader(1).pausedUntil == nil)
        #expect(try fixture.reader(0).status == .unsubscribed)
        let answers = try fixture.outbox().suffix(3).map(\.text)
        #expect(answers[0].contains("Done: no new vote counted") && answers[0].contains("You had already voted for 2 (Item 102)."))
        #expect(answers[1].contains("Done: your digest is no longer paused") && answers[1].contains("pause until 2026-12-09"))
        #expect(answers[2].contains("Done: you are unsubscribed"))
        let day = try #require(try fixture.store.dailyStats(from: Day("2026-11-25")!, through: Day("2026-11-25")!).first)
        #expect(day.unsubscribes == 1)
        // Their replies are part of their data, and go with them when they are erased.
        let data = try #require(try fixture.store.readerData(id: fixture.readers[0].id!, now: InboundFixture.now))
        #expect(data.replies.map(\.kind) == ["command", "command"] && data.replies.map(\.detail) == ["weekly", "stop"])
        #expect(try fixture.store.removeSubscriber(email: fixture.readers[0].email))
        #expect(try fixture.store.inboundCounts() == [.command: 4])
    }

    /// A reply that fails a trust check changes nothing, is counted with its reason, and reaches people as a letter.
    @Test(arguments: StoreBackend.allCases) func untrustedRepliesChangeNothingAndAreCounted(backend: StoreBackend) throws {
        let fixture = try InboundFixture(backend)
        let failing = "Authentication-Results: mx.courier.example; dkim=fail header.d=reader.example; spf=fail smtp.mailfrom=reader.example"
        let forgedPass = "Authentication-Results: mx.evil.example; dkim=pass header.d=reader.example"
        let messages = [
            Replies.gmail("stop", to: fixture.to(0), from: "mallory@evil.example"),
            Replies.gmail("stop", to: fixture.to(1), from: "reader0@reader.example"),
            Replies.message(to: fixture.to(0), headers: [forgedPass, failing], body: "stop\n"),
            Replies.gmail("stop", to: fixture.to(0, day: "2026-09-01")),
            Replies.gmail("stop", to: "reply@courier.example"),
            Replies.gmail("stop", to: fixture.to(0).replacingOccurrences(of: "reply+20261124d", with: "reply+20261123d")),
        ]
        let summary = try fixture.importing(messages)
        #expect(summary.applied == ["refused": 6], "\(summary.lines)")
        let reasons = summary.details.joined(separator: "\n")
        #expect(reasons.contains("From mallory@evil.example is not the address of the reader the token names"))
        #expect(reasons.contains("From reader0@reader.example is not the address"))
        #expect(reasons.contains("Authentication-Results: mx.courier.example reports no DKIM or SPF pass for reader.example"))
        #expect(reasons.contains("the reply token of the edition of 2026-09-01 has expired"))
        #expect(reasons.contains("no reply token of ours"))
        #expect(try fixture.readers.indices.allSatisfy { try fixture.reader($0).status == .active })
        // People see each one, with why nothing was done (a reader replying from a forwarding address means it).
        let outbox = try fixture.outbox()
        #expect(outbox.count == 6 && outbox.allSatisfy { $0.purpose == "letter" && $0.recipient == "newsroom@courier.example" })
        #expect(outbox.allSatisfy { $0.text.contains("A reply with commands that were not applied: ") })
        #expect(outbox.contains { $0.text.contains("Reply-To: mallory@evil.example") })
        #expect(try fixture.store.inboundCounts() == [.refused: 6])
        let again = try fixture.importing(messages)
        #expect(again.applied == [:] && again.duplicates == 6, "\(again.lines)")
        #expect(try fixture.outbox().count == 6)
        #expect(try fixture.store.inboundCounts() == [.refused: 6])
    }

    /// A letter reaches the people at mail.replyTo, its author as Reply-To; an auto-reply is counted and dropped; a
    /// report that the mailbox does not exist bounces the reader at once; none of it twice.
    @Test(arguments: StoreBackend.allCases) func lettersAreForwardedAutoRepliesDroppedAndBouncesApplied(backend: StoreBackend) throws {
        let fixture = try InboundFixture(backend)
        let verp = BounceAddress(base: try EmailAddress("bounces@courier.example"), signer: fixture.signer)
            .sender(for: .init(date: Day("2026-11-24")!, subscriberID: fixture.readers[2].id!)).description
        let messages = [
            Replies.arabic("شكرا على النشرة، هل يمكن إضافة أخبار الرياضة؟", to: fixture.to(0)),
            Replies.outOfOffice(to: fixture.to(1)),
            Replies.dsn(to: verp, recipient: fixture.readers[2].email.description, status: "5.1.1"),
            Replies.gmail("Thanks! +3 from me", to: fixture.to(0)),
        ]
        let summary = try fixture.importing(messages)
        #expect(summary.applied == ["letter": 2, "auto-reply": 1], "\(summary.lines)")
        #expect(summary.bounces.bounced == [fixture.readers[2].email.description], "\(summary.lines)")
        // One count of the four messages, then what the report did: no second count that disagrees with it.
        #expect(
            summary.lines.first
                == "4 messages read: 1 bounce or complaint report(s), 0 command, 0 refused, 2 letter, 1 auto-reply, "
                + "0 already applied", "\(summary.lines)")
        #expect(summary.lines.filter { $0.contains("message read") || $0.contains("messages read") }.count == 1, "\(summary.lines)")
        #expect(summary.lines.contains { $0.hasPrefix("bounce and complaint reports: 1 hard bounce(s)") }, "\(summary.lines)")
        #expect(try fixture.reader(2).status == .bounced)
        #expect(try fixture.digestVotes().isEmpty)
        let outbox = try fixture.outbox()
        #expect(outbox.map(\.purpose) == ["letter", "letter"])
        #expect(outbox.allSatisfy { $0.recipient == "newsroom@courier.example" })
        let letter = outbox[0].text
        #expect(letter.contains("Reply-To: reader0@reader.example"))
        #expect(letter.contains("To: Newsroom <newsroom@courier.example>"))
        #expect(letter.contains("Auto-Submitted: auto-replied"))
        let body = try #require(InboundMessage(raw: Array(letter.utf8)).fullText as String?)
        #expect(body.contains("هل يمكن إضافة أخبار الرياضة"))
        #expect(try fixture.reader(0).status == .active && fixture.reader(1).status == .active)

        let again = try fixture.importing(messages)
        #expect(again.applied == [:] && again.duplicates == 3 && again.bounces.duplicates == 1, "\(again.lines)")
        #expect(try fixture.outbox().count == 2)
        #expect(try fixture.store.inboundCounts() == [.letter: 2, .autoReply: 1])
    }

    @Test func aDigestsReplyToNamesTheReaderAndTheEdition() async throws {
        let rendering = DigestRenderingTests()
        let (store, _, reader) = try await rendering.setUp()
        var configuration = try Fixtures.configuration(in: rendering.directory)
        configuration.mail.replyAddress = try EmailAddress("reply@courier.example")
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: DigestRenderingTests.secret])
        let digest = try rendering.compose(store, composer, reader)
        let text = String(decoding: digest.message.data, as: UTF8.self)
        let replyTo = try #require(text.components(separatedBy: "\r\n").first { $0.hasPrefix("Reply-To: ") })
        #expect(replyTo.hasPrefix("Reply-To: Newsroom <reply+20261124d-\(reader.id!)-"))
        let address = String(replyTo.split(separator: "<")[1].dropLast())
        #expect(composer.replyAddress?.reference(in: address) == .init(date: DigestRenderingTests.date, kind: .daily, subscriberID: reader.id!))
        #expect(text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Reply-To:") }.count == 1)
        // The footer says what a reply can do; without mail.replyAddress it says nothing of the kind.
        #expect(digest.text.contains("Or reply with one word: weekly, daily, pause 14, resume or stop."))
        #expect(try #require(digest.html).contains("Or reply with one word"))
        // In the reader's language; the commands stay as the parser reads them.
        var arabic = reader
        arabic.language = "ar"
        try store.update(arabic)
        let inArabic = try rendering.compose(store, composer, arabic)
        #expect(inArabic.text.contains("أو ردّ بكلمة واحدة: weekly أو daily أو pause 14 أو resume أو stop."))
        #expect(try #require(inArabic.html).contains("<br>أو ردّ بكلمة واحدة: weekly"))
        let plain = try rendering.compose(store, try await DigestComposer.make(
            configuration: try Fixtures.configuration(in: rendering.directory),
            environment: [configuration.web.secretEnv: DigestRenderingTests.secret]), reader)
        #expect(!plain.text.contains("Or reply with"))
    }
}
