import Foundation
import Testing

@testable import DigestCore

/// A store with readers, an edition of 2026-11-24 sent to each of them (ledger rows with their
/// Message-IDs), and the VERP addresses their digests left with.
struct BounceFixture {
    let directory = TemporaryDirectory("bounces")
    let store: Store
    let signer = try! LinkSigner(secret: String(repeating: "k", count: 32))
    let bounceAddress: BounceAddress
    let importer: BounceImporter
    var readers: [Subscriber] = []
    let date = Day("2026-11-24")!

    init(readers count: Int = 3, _ backend: StoreBackend = .sqlite) throws {
        store = try Fixtures.store(in: directory, backend)
        bounceAddress = BounceAddress(base: try EmailAddress("bounces@courier.example"), signer: signer)
        importer = BounceImporter(store: store, bounceAddress: bounceAddress)
        for index in 0..<count {
            readers.append(
                try store.addSubscriber(
                    Subscriber(email: try EmailAddress("reader\(index)@reader.example"), status: .active)))
        }
        let ids = readers.map { $0.id! }
        try store.database.write { db in
            for (index, day) in ["2026-11-22", "2026-11-23", "2026-11-24"].enumerated() {
                try db.execute(
                    "INSERT INTO editions (id, date, windowStart, cutoff, createdAt) VALUES (?, ?, ?, ?, ?)",
                    (index + 1).sqlValue, .text(day), Date().sqlValue, Date().sqlValue, Date().sqlValue)
                for id in ids {
                    try db.execute(
                        """
                        INSERT INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt)
                        VALUES (?, ?, 'sent', ?, ?, ?)
                        """,
                        (index + 1).sqlValue, id.sqlValue, .text(Self.messageID(day, id)), Date().sqlValue,
                        Date().sqlValue)
                }
            }
        }
    }

    static func messageID(_ day: String, _ subscriberID: Int64) -> String {
        "<digest.\(day.filter { $0 != "-" }).\(subscriberID).f00d@courier.example>"
    }

    func verp(_ reader: Subscriber, day: String = "2026-11-24") -> String {
        bounceAddress.sender(for: .init(date: Day(day)!, subscriberID: reader.id!)).description
    }

    func reader(_ index: Int) throws -> Subscriber { try store.subscriber(id: readers[index].id!)! }

    func importing(_ paths: [String]) throws -> BounceImportSummary {
        try importer.importPaths(paths, now: Fixtures.date("2026-11-25T08:00:00Z"))
    }
}

/// Report messages as mail systems write them.
enum Reports {
    /// An RFC 3464 report with one recipient, written by hand as Exim or Sendmail would.
    static func dsn(
        to: String, recipient: String, status: String, action: String = "failed", originalMessageID: String,
        reportID: String = "<dsn.\(UUID().uuidString)@mx.reader.example>"
    ) -> String {
        """
        Return-Path: <>\r
        From: Mail Delivery Subsystem <MAILER-DAEMON@mx.reader.example>\r
        To: \(to)\r
        Subject: Delivery Status Notification (Failure)\r
        Message-ID: \(reportID)\r
        Auto-Submitted: auto-replied\r
        MIME-Version: 1.0\r
        Content-Type: multipart/report; report-type="delivery-status";\r
        \tboundary="==b0undary=="\r
        \r
        --==b0undary==\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        Delivery to \(recipient) failed.\r
        \r
        --==b0undary==\r
        Content-Type: message/delivery-status\r
        \r
        Reporting-MTA: dns; mx.reader.example\r
        Arrival-Date: Tue, 24 Nov 2026 06:00:01 +0000\r
        \r
        Final-Recipient: rfc822; \(recipient)\r
        Action: \(action)\r
        Status: \(status)\r
        Diagnostic-Code: smtp; \(status.hasPrefix("5") ? "550" : "452") \(status) mailbox problem\r
        \r
        --==b0undary==\r
        Content-Type: text/rfc822-headers\r
        \r
        From: The Amman Courier <digest@courier.example>\r
        To: \(recipient)\r
        Subject: The Amman Courier: today\r
        Message-ID: \(originalMessageID)\r
        \r
        --==b0undary==--\r

        """
    }

    /// An RFC 5965 feedback report, as a mailbox provider's feedback loop sends it.
    static func arf(mailFrom: String, recipient: String, originalMessageID: String) -> String {
        """
        From: Feedback Loop <fbl@mailbox.example>\r
        To: abuse@courier.example\r
        Subject: FW: The Amman Courier: today\r
        Message-ID: <arf.\(UUID().uuidString)@mailbox.example>\r
        MIME-Version: 1.0\r
        Content-Type: multipart/report; report-type=feedback-report; boundary="part"\r
        \r
        --part\r
        Content-Type: text/plain\r
        \r
        This is an email abuse report for an email message received from IP 192.0.2.1.\r
        \r
        --part\r
        Content-Type: message/feedback-report\r
        \r
        Feedback-Type: abuse\r
        User-Agent: MailboxFBL/1.0\r
        Version: 1\r
        Original-Mail-From: <\(mailFrom)>\r
        Original-Rcpt-To: <\(recipient)>\r
        Arrival-Date: Tue, 24 Nov 2026 06:00:01 +0000\r
        \r
        --part\r
        Content-Type: message/rfc822\r
        \r
        From: The Amman Courier <digest@courier.example>\r
        To: \(recipient)\r
        Subject: The Amman Courier: today\r
        Message-ID: \(originalMessageID)\r
        \r
        Top stories…\r
        --part--\r

        """
    }

    static let vacation = """
        From: Reader Zero <reader0@reader.example>\r
        To: bounces+20261124-1-000000000000@courier.example\r
        Subject: Out of Office: The Amman Courier: today\r
        Message-ID: <vacation.1@reader.example>\r
        Auto-Submitted: auto-replied\r
        \r
        I am away until Monday.\r

        """

    static let challenge = """
        From: Spam Guard <guard@reader.example>\r
        To: digest@courier.example\r
        Subject: Please confirm your message to reader1@reader.example\r
        Message-ID: <challenge.1@reader.example>\r
        \r
        Click here so your mail is delivered.\r

        """
}

@Suite struct BounceImportTests {
    @Test(arguments: StoreBackend.allCases) func aVERPTokenRoundTripsAndAForgedOneIsRefused(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 1, backend)
        let address = fixture.verp(fixture.readers[0])
        #expect(address.hasPrefix("bounces+20261124-\(fixture.readers[0].id!)-"))
        #expect(address.hasSuffix("@courier.example"))
        #expect(address.split(separator: "@")[0].count <= 64)
        let reference = fixture.bounceAddress.reference(in: "<\(address.uppercased())>")
        #expect(reference == .init(date: fixture.date, subscriberID: fixture.readers[0].id!))
        // Another reader's id with the same MAC, a changed date, a foreign domain: none of ours.
        let forged = address.replacingOccurrences(of: "-\(fixture.readers[0].id!)-", with: "-999-")
        #expect(fixture.bounceAddress.reference(in: forged) == nil)
        #expect(fixture.bounceAddress.reference(in: address.replacingOccurrences(of: "20261124", with: "20261125")) == nil)
        #expect(fixture.bounceAddress.reference(in: address.replacingOccurrences(of: "courier.example", with: "evil.example")) == nil)
        #expect(fixture.bounceAddress.reference(in: "bounces@courier.example") == nil)
    }

    /// A digest's token keeps the form and MAC it has always had, so bounces of digests already sent still match.
    @Test func aDigestsTokenKeepsItsForm() throws {
        let fixture = try BounceFixture(readers: 0)
        let address = fixture.bounceAddress.sender(for: .init(date: fixture.date, subscriberID: 1)).description
        #expect(address == "bounces+20261124-1-d2a3900deec4@courier.example")
        #expect(fixture.bounceAddress.reference(in: address) == .init(mail: .edition(fixture.date), subscriberID: 1))
    }

    /// A mail of the outbox (a confirmation) has a token of its own: the second it was made and the reader, signed
    /// the same way; neither kind of token passes for the other, and a changed or unsigned one is refused.
    @Test func anOutboxMailsTokenRoundTripsAndAForgedOneIsRefused() throws {
        let fixture = try BounceFixture(readers: 0)
        let made = Fixtures.date("2026-11-24T09:30:15.750Z")
        let reference = BounceAddress.Reference(outboxMailMadeAt: made, subscriberID: 42)
        #expect(reference.mail == .outbox(madeAt: 1_795_512_615))
        let address = fixture.bounceAddress.sender(for: reference).description
        let local = String(address.split(separator: "@")[0])
        #expect(local.hasPrefix("bounces+m1795512615-42-") && local.count <= 64)
        #expect(local.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "+" })
        #expect(fixture.bounceAddress.reference(in: "<\(address.uppercased())>") == reference)
        let mac = String(local.split(separator: "-").last!)
        for forged in [
            address.replacingOccurrences(of: "-42-", with: "-43-"),
            address.replacingOccurrences(of: "m1795512615", with: "m1795512616"),
            "bounces+m1795512615-42-000000000000@courier.example",
            "bounces+m1795512615-42@courier.example",
            "bounces+m-42-\(mac)@courier.example",
            // The same MAC under a digest's field, and a digest's MAC under an outbox field.
            "bounces+20261124-42-\(mac)@courier.example",
            fixture.bounceAddress.sender(for: .init(date: fixture.date, subscriberID: 42)).description
                .replacingOccurrences(of: "20261124", with: "m1795512615"),
        ] {
            #expect(fixture.bounceAddress.reference(in: forged) == nil, "\(forged)")
        }
    }

    /// A hard bounce of a confirmation marks the pending reader `bounced` at once (they would stay pending
    /// forever), whatever its status; a soft one changes nothing.
    @Test(arguments: StoreBackend.allCases) func aConfirmationsBounceMarksThePendingReaderBounced(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 0, backend)
        let pending = try (0..<2).map { index in
            try fixture.store.addSubscriber(
                Subscriber(email: try EmailAddress("pending\(index)@reader.example"), status: .pending))
        }
        let made = Fixtures.date("2026-11-24T09:30:00Z")
        func report(_ reader: Subscriber, _ status: String, action: String = "failed") -> String {
            fixture.directory.write(
                "confirm-\(reader.id!)-\(status).eml",
                Reports.dsn(
                    to: fixture.bounceAddress.sender(for: .init(outboxMailMadeAt: made, subscriberID: reader.id!)).description,
                    recipient: reader.email.description, status: status, action: action,
                    originalMessageID: "<confirm.\(reader.id!).1795512600.abc@courier.example>"))
        }
        let summary = try fixture.importing([report(pending[0], "5.1.2"), report(pending[1], "4.2.2", action: "delayed")])
        #expect(summary.unmatched == [], "\(summary.lines)")
        #expect(summary.bounced == [pending[0].email.description])
        #expect(try fixture.store.subscriber(id: pending[0].id!)?.status == .bounced)
        #expect(try fixture.store.subscriber(id: pending[1].id!)?.status == .pending)
        let day = try #require(try fixture.store.dailyStats(from: Day("2026-11-25")!, through: Day("2026-11-25")!).first)
        #expect(day.bounced == 1)
    }

    @Test(arguments: StoreBackend.allCases) func hardBouncesCountTowardBouncedAndASecondImportChangesNothing(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let reader = fixture.readers[0]
        var files: [String] = []
        for day in ["2026-11-22", "2026-11-23", "2026-11-24"] {
            files.append(
                fixture.directory.write(
                    "dsn-\(day).eml",
                    // 5.1.2 (bad destination system): hard, but not "no such mailbox", so it counts to 3.
                    Reports.dsn(
                        to: fixture.verp(reader, day: day), recipient: reader.email.description, status: "5.1.2",
                        originalMessageID: "<unrelated@elsewhere.example>")))
        }
        let first = try fixture.importing(Array(files.prefix(2)))
        #expect(first.recorded.hard == 2)
        #expect(first.unmatched == [])
        #expect(try fixture.reader(0).status == .active)
        #expect(try fixture.reader(0).bounceCount == 2)

        let second = try fixture.importing(files)
        #expect(second.recorded.hard == 1)
        #expect(second.duplicates == 2)
        #expect(second.bounced == [reader.email.description])
        #expect(try fixture.reader(0).status == .bounced)

        let again = try fixture.importing(files)
        #expect(again.recorded == BounceCounts())
        #expect(again.duplicates == 3)
        #expect(again.bounced == [])
        #expect(try fixture.reader(0).bounceCount == 3)
        #expect(try fixture.store.bounceCountsBySubscriber()[reader.id!]?.hard == 3)
        #expect(try fixture.store.bounceCounts(editionDates: ["2026-11-24"]).hard == 1)
        // The other readers are untouched.
        #expect(try fixture.reader(1).status == .active && fixture.reader(1).bounceCount == 0)
    }

    /// A report that the mailbox does not exist (5.1.1, or 5.1.10: the domain has a null MX, RFC 7505) marks the
    /// reader `bounced` at once, its status and reason on record; a full mailbox (5.2.2) and other hard
    /// statuses (5.1.2) do not.
    @Test(arguments: StoreBackend.allCases) func aMailboxThatDoesNotExistBouncesTheReaderAtOnce(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        func report(_ index: Int, _ status: String, day: String = "2026-11-24") -> String {
            let reader = fixture.readers[index]
            return fixture.directory.write(
                "dsn-\(index)-\(status)-\(day).eml",
                Reports.dsn(
                    to: fixture.verp(reader, day: day), recipient: reader.email.description, status: status,
                    originalMessageID: BounceFixture.messageID(day, reader.id!)))
        }
        let summary = try fixture.importing([
            report(0, "5.1.1"), report(1, "5.1.10"), report(2, "5.2.2"), report(2, "5.1.2", day: "2026-11-23"),
        ])
        #expect(summary.recorded.hard == 3 && summary.recorded.failed == 1, "\(summary.lines)")
        #expect(summary.bounced == [fixture.readers[0].email.description, fixture.readers[1].email.description])
        #expect(try fixture.reader(0).status == .bounced && fixture.reader(0).bounceCount == 1)
        #expect(try fixture.reader(1).status == .bounced)
        #expect(try fixture.reader(2).status == .active && fixture.reader(2).bounceCount == 1)
        let events = try fixture.store.database.read { db in
            try db.fetchAll("SELECT status, reason FROM bounce_events WHERE subscriberID = ?", fixture.readers[1].id!.sqlValue)
        }
        #expect(try events.map { try $0["status"] as String } == ["5.1.10"])
        #expect(try events.first.map { try $0["reason"] as String } == "550 5.1.10 mailbox problem")
        // The rule itself, as both callers ask it.
        #expect(Store.hardBounceLimit(status: "5.1.1", limit: 3) == 1)
        #expect(Store.hardBounceLimit(status: "5.1.10", limit: 3) == 1)
        #expect(["5.1.2", "5.1.100", "5.2.1", "4.1.1", "", "5.1"].allSatisfy { Store.hardBounceLimit(status: $0, limit: 3) == 3 })
        #expect(Store.hardBounceLimit(status: SMTPReplyCode("550-5.1.1 no such user")?.status, limit: 3) == 1)
        #expect(Store.hardBounceLimit(status: SMTPReplyCode("550 no such user")?.status, limit: 3) == 3)
    }

    @Test(arguments: StoreBackend.allCases) func withoutATokenTheOriginalMessageIDMatchesAndSoftBouncesChangeNothing(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let reader = fixture.readers[1]
        let hard = fixture.directory.write(
            "hard.eml",
            Reports.dsn(
                to: "digest@courier.example", recipient: reader.email.description, status: "5.1.2",
                originalMessageID: BounceFixture.messageID("2026-11-23", reader.id!)))
        let soft = fixture.directory.write(
            "soft.eml",
            Reports.dsn(
                to: fixture.verp(reader), recipient: reader.email.description, status: "4.2.2", action: "delayed",
                originalMessageID: BounceFixture.messageID("2026-11-24", reader.id!)))
        let full = fixture.directory.write(
            "full.eml",
            Reports.dsn(
                to: fixture.verp(reader), recipient: reader.email.description, status: "5.2.2",
                originalMessageID: BounceFixture.messageID("2026-11-24", reader.id!)))
        let summary = try fixture.importing([hard, soft, full])
        #expect(summary.recorded.hard == 1)
        #expect(summary.recorded.soft == 1)
        #expect(summary.recorded.failed == 1)
        #expect(try fixture.reader(1).bounceCount == 1)
        #expect(try fixture.reader(1).status == .active)
    }

    @Test(arguments: StoreBackend.allCases) func unmatchedReportsAreListedNeverGuessed(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        // The recipient is a subscriber, but neither the token nor the Message-ID is ours.
        let file = fixture.directory.write(
            "stranger.eml",
            Reports.dsn(
                to: "bounces+20261124-1-000000000000@courier.example", recipient: fixture.readers[0].email.description,
                status: "5.1.1", originalMessageID: "<not-ours@elsewhere.example>"))
        let summary = try fixture.importing([file])
        #expect(summary.recorded == BounceCounts())
        #expect(summary.unmatched.count == 1)
        #expect(summary.unmatched.first?.contains("<not-ours@elsewhere.example> is not in the ledger") == true)
        #expect(summary.lines.contains { $0.hasPrefix("unmatched: \(file)") })
        #expect(try fixture.reader(0).bounceCount == 0)
    }

    @Test(arguments: StoreBackend.allCases) func aComplaintUnsubscribesAtOnceWithItsReason(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let reader = fixture.readers[2]
        let file = fixture.directory.write(
            "arf.eml",
            Reports.arf(
                mailFrom: fixture.verp(reader), recipient: reader.email.description,
                originalMessageID: BounceFixture.messageID("2026-11-24", reader.id!)))
        let summary = try fixture.importing([file])
        #expect(summary.recorded.complaints == 1)
        #expect(summary.unsubscribed == [reader.email.description])
        let after = try fixture.reader(2)
        #expect(after.status == .unsubscribed)
        #expect(after.unsubscribedAt == Fixtures.date("2026-11-25T08:00:00Z"))
        #expect(try fixture.store.complaintReason(subscriberID: reader.id!) == "complaint (abuse) reported by MailboxFBL/1.0")
        #expect(try fixture.importing([file]).duplicates == 1)
    }

    @Test(arguments: StoreBackend.allCases) func autoRepliesAreLeftAlone(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let files = [
            fixture.directory.write("vacation.eml", Reports.vacation),
            fixture.directory.write("challenge.eml", Reports.challenge),
        ]
        let summary = try fixture.importing(files)
        #expect(summary.autoReplies == 2)
        #expect(summary.unmatched == [])
        #expect(summary.recorded == BounceCounts())
        for index in 0..<3 { #expect(try fixture.reader(index).status == .active) }
    }

    @Test(arguments: StoreBackend.allCases) func anMboxHoldsSeveralReports(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let reader = fixture.readers[0]
        let dsn = Reports.dsn(
            to: fixture.verp(reader), recipient: reader.email.description, status: "5.1.1",
            originalMessageID: BounceFixture.messageID("2026-11-24", reader.id!))
        let arf = Reports.arf(
            mailFrom: fixture.verp(fixture.readers[1]), recipient: fixture.readers[1].email.description,
            originalMessageID: BounceFixture.messageID("2026-11-24", fixture.readers[1].id!))
        func lf(_ text: String) -> String {
            // mbox stores local line ends, and quotes body lines that start with "From ".
            text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\nFrom ", with: "\n>From ")
        }
        let mbox =
            "From MAILER-DAEMON Wed Nov 25 07:00:00 2026\n" + lf(dsn) + "\n"
            + "From fbl@mailbox.example Wed Nov 25 07:01:00 2026\n" + lf(arf) + "\n"
            + "From reader0@reader.example Wed Nov 25 07:02:00 2026\n" + lf(Reports.vacation) + "\n"
        let file = fixture.directory.write("bounces.mbox", mbox)
        let summary = try fixture.importing([file])
        #expect(summary.messages == 3)
        #expect(summary.recorded.hard == 1)
        #expect(summary.recorded.complaints == 1)
        #expect(summary.autoReplies == 1)
        #expect(try fixture.reader(1).status == .unsubscribed)
        #expect(try fixture.importing([file]).duplicates == 2)
    }

    @Test(arguments: StoreBackend.allCases) func aMaildirIsReadFromNewAndMovedToCur(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 3, backend)
        let maildir = fixture.directory.file("Maildir")
        for folder in ["new", "cur", "tmp"] {
            try FileManager.default.createDirectory(atPath: "\(maildir)/\(folder)", withIntermediateDirectories: true)
        }
        let reader = fixture.readers[0]
        fixture.directory.write(
            "Maildir/new/1764054000.1.mx",
            Reports.dsn(
                to: fixture.verp(reader), recipient: reader.email.description, status: "5.1.1",
                originalMessageID: "<x@y.example>"
            ).replacingOccurrences(of: "\r\n", with: "\n"))
        fixture.directory.write("Maildir/new/1764054001.2.mx", Reports.vacation)
        let summary = try fixture.importing([maildir])
        #expect(summary.messages == 2)
        #expect(summary.recorded.hard == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(maildir)/new").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(maildir)/cur").sorted()
            == ["1764054000.1.mx:2,S", "1764054001.2.mx:2,S"])
        let again = try fixture.importing([maildir])
        #expect(again.messages == 0)
        #expect(try fixture.reader(0).bounceCount == 1)
    }

    @Test(arguments: StoreBackend.allCases) func aMissingPathIsNamed(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 0, backend)
        #expect(throws: BounceImportError("\(fixture.directory.file("none")) does not exist (expected a message file, an mbox file or a Maildir)")) {
            try fixture.importing([fixture.directory.file("none")])
        }
    }

    /// One rule for both kinds of hard bounce (`Store.countHardBounce`): refusals in the SMTP session
    /// (`recordDeliveries`) and reports that came back later (`recordBounce`) count toward the same limit,
    /// a sent message resets the count, and the reader is marked `bounced` with the time it happened.
    @Test(arguments: StoreBackend.allCases)
    func sessionRefusalsAndLaterReportsCountByOneRule(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 2, backend)
        let (first, second) = (fixture.readers[0].id!, fixture.readers[1].id!)
        let deliveries: [Int64] = try fixture.store.database.read { db in
            try db.fetchColumn("SELECT id FROM deliveries WHERE subscriberID = ? ORDER BY id", first.sqlValue)
        }
        let now = Fixtures.date("2026-11-24T05:00:00Z")
        func refuse(_ index: Int, at time: Date) throws {
            let outcome = DeliveryOutcome(
                id: deliveries[index], subscriberID: first, outcome: .permanent(reason: "550 5.2.1 mailbox disabled"),
                attempts: 1, messageID: "<m\(index)@courier.example>", itemIDs: [], retryAt: nil, bounceLimit: 2)
            try fixture.store.recordDeliveries([outcome], now: time)
        }
        try refuse(0, at: now)
        #expect(try fixture.reader(0).status == .active && fixture.reader(0).bounceCount == 1)
        try refuse(1, at: now + 60)
        #expect(try fixture.reader(0).status == .bounced)
        try refuse(2, at: now + 120)
        let bounced = try fixture.store.database.read { db -> (Date?, Int?) in
            let row = try db.fetchOne("SELECT bouncedAt, bounceCount FROM subscribers WHERE id = ?", first.sqlValue)
            return (try row?["bouncedAt"], try row?["bounceCount"])
        }
        #expect(bounced.0 == now + 60, "the time it became bounced, not a later refusal's")
        #expect(bounced.1 == 3)

        // Reports: the same limit, counted per message, however many reports one drew.
        func report(_ key: String, delivery: Int64?) throws -> BounceEffect {
            try fixture.store.recordBounce(
                BounceEvent(
                    reportKey: key, recipient: "reader1@reader.example", kind: .hard, subscriberID: second,
                    deliveryID: delivery, status: "5.1.2", reason: "no such domain", source: "import"),
                bounceLimit: 2, now: now + 300)
        }
        let secondDeliveries: [Int64] = try fixture.store.database.read { db in
            try db.fetchColumn("SELECT id FROM deliveries WHERE subscriberID = ? ORDER BY id", second.sqlValue)
        }
        func accepted() throws {
            try fixture.store.recordDelivery(
                id: secondDeliveries[2], subscriberID: second, outcome: .sent(reply: "250 ok"), attempts: 1,
                messageID: "<s@courier.example>", itemIDs: [], retryAt: nil, bounceLimit: 2, now: now + 301)
        }
        #expect(try report("a", delivery: secondDeliveries[0]) == .recorded(newStatus: nil))
        try accepted()
        #expect(try fixture.reader(1).bounceCount == 0, "a message the relay accepted resets the count in a row")
        #expect(try report("b", delivery: secondDeliveries[0]) == .recorded(newStatus: nil), "the same message again")
        try accepted()
        // One in a row, but two messages drew hard-bounce reports.
        #expect(try report("c", delivery: secondDeliveries[1]) == .recorded(newStatus: .bounced))
        #expect(try fixture.reader(1).bounceCount == 1)
        let reported: Date? = try fixture.store.database.read { db in
            try db.fetchValue("SELECT bouncedAt FROM subscribers WHERE id = ?", second.sqlValue)
        }
        #expect(reported == now + 300)
    }

    /// A DSN written by Postfix itself: a digest sent through a private Postfix to an unknown
    /// local user comes back to its VERP address (caught by smtp-sink), and the import bounces it.
    @Test(.requires(.postfix))
    func aDSNFromPostfixItself() async throws {
        let directory = TemporaryDirectory()
        let configuration = try Fixtures.configuration(in: directory) { json in
            var mail = json["mail"] as! [String: Any]
            mail["bounceAddress"] = "bounces@courier.example"
            json["mail"] = mail
        }
        let secret = String(repeating: "s", count: 32)
        let composer = try await DigestComposer.make(configuration: configuration, environment: ["DIGEST_SECRET": secret])
        let store = try Store(path: configuration.database)
        let reader = try store.addSubscriber(
            Subscriber(email: try EmailAddress("no-such-reader@\(PrivatePostfix.localDomain)"), status: .active))
        let date = Day("2026-11-24")!
        let edition = try composer.ranker.edition(for: date, store: store, freeze: true, now: Fixtures.date("2026-11-24T05:00:00Z"))
        let selection = composer.selection(for: reader, in: edition, alreadyReceived: [])
        let digest = try composer.compose(selection: selection, date: date, subscriber: reader, now: Fixtures.date("2026-11-24T05:00:00Z"))
        #expect(digest.message.sender.description.hasPrefix("bounces+20261124-\(reader.id!)-"))

        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let dsn = try await PrivatePostfix.with(relayPort: sink.port) { postfix in
            try await postfix.submit(
                digest.message.data, from: digest.message.sender.description, to: reader.email.description)
            var received: [SMTPSinkServer.ReceivedMessage] = []
            for _ in 0..<240 where received.isEmpty {
                try await Task.sleep(for: .milliseconds(250))
                received = try sink.receivedMessages()
            }
            return try #require(received.first, "no DSN came back within a minute; Postfix log:\n\(postfix.log)")
        }
        #expect(dsn.mailFrom == "<>")
        #expect(dsn.recipient == digest.message.sender.description)

        let importer = BounceImporter(
            store: store, bounceAddress: composer.bounceAddress)
        let file = directory.write("postfix-dsn.eml", String(decoding: dsn.data, as: UTF8.self))
        let summary = try importer.importPaths([file], now: Date())
        #expect(summary.recorded.hard == 1, "\(summary.lines)")
        #expect(summary.unmatched == [])
        #expect(try store.subscriber(id: reader.id!)?.bounceCount == 1)
        // "5.1.1 … unknown user": the mailbox does not exist, so one report is enough.
        #expect(summary.bounced == [reader.email.description])
        #expect(try store.subscriber(id: reader.id!)?.status == .bounced)
        let events = try store.database.read { db in
            try db.fetchAll("SELECT status, reason, recipient FROM bounce_events")
        }
        #expect(events.count == 1)
        #expect(try events.first?["status"] as String? == "5.1.1")
        #expect(try (events.first?["reason"] as String?)?.contains("unknown user") == true)
        #expect(try importer.importPaths([file], now: Date()).duplicates == 1)
    }
}
