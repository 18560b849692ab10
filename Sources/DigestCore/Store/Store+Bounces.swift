import Foundation

/// One bounce or complaint about one reader, matched and ready to apply.
public struct BounceEvent: Sendable, Equatable {
    /// With `recipient`, identifies the event: recording the same pair again changes nothing.
    public var reportKey: String
    public var recipient: String
    public var kind: BounceReport.Kind
    public var subscriberID: Int64
    /// The ledger row of the message it is about, when known.
    public var deliveryID: Int64?
    /// RFC 3463 status (`5.1.1`) or feedback type (`abuse`).
    public var status: String
    public var reason: String
    /// `import` (a report file) or `api` (`POST /api/bounces`).
    public var source: String

    public init(
        reportKey: String, recipient: String, kind: BounceReport.Kind, subscriberID: Int64, deliveryID: Int64?,
        status: String, reason: String, source: String
    ) {
        self.reportKey = reportKey
        self.recipient = recipient
        self.kind = kind
        self.subscriberID = subscriberID
        self.deliveryID = deliveryID
        self.status = status
        self.reason = reason
        self.source = source
    }
}

/// What recording a bounce did.
public enum BounceEffect: Sendable, Equatable {
    /// Already recorded by an earlier import or request; nothing changed.
    case duplicate
    /// Recorded; `newStatus` is the reader's status when this event changed it (`bounced`, `unsubscribed`).
    case recorded(newStatus: SubscriberStatus?)
}

/// Bounces and complaints recorded after the SMTP session, by kind.
public struct BounceCounts: Sendable, Equatable, Codable {
    public var hard = 0
    public var soft = 0
    public var failed = 0
    public var complaints = 0

    public init() {}

    public var isEmpty: Bool { hard == 0 && soft == 0 && failed == 0 && complaints == 0 }

    mutating func add(_ kind: String, _ count: Int) {
        switch BounceReport.Kind(rawValue: kind) {
        case .hard: hard += count
        case .soft: soft += count
        case .failed: failed += count
        case .complaint: complaints += count
        case nil: break
        }
    }
}

/// The reader (and ledger row) a bounce is about.
public struct BounceMatch: Sendable, Equatable {
    public var subscriberID: Int64
    public var email: EmailAddress
    public var deliveryID: Int64?
}

extension Store {
    /// The reader of a VERP reference, and the ledger row of the digest it names when that edition was
    /// sent to them (a test send has none, nor has a mail of the outbox).
    public func bounceMatch(_ reference: BounceAddress.Reference) throws -> BounceMatch? {
        switch reference.mail {
        case .edition(let date): try bounceMatch(date: date, subscriberID: reference.subscriberID)
        case .outbox: try bounceMatch(date: nil, subscriberID: reference.subscriberID)
        }
    }

    /// The reader `subscriberID`, and their ledger row of the edition of `date` when given and sent to them.
    public func bounceMatch(date: Day?, subscriberID: Int64) throws -> BounceMatch? {
        try database.read { db in
            guard let email: String = try db.fetchValue("SELECT email FROM subscribers WHERE id = ?", subscriberID.sqlValue)
            else { return nil }
            guard let date else { return BounceMatch(subscriberID: subscriberID, email: try EmailAddress(stored: email)) }
            let deliveryID: Int64? = try db.fetchValue(
                """
                SELECT d.id FROM deliveries d JOIN editions e ON e.id = d.editionID
                WHERE e.date = ? AND d.subscriberID = ? AND d.status <> 'superseded'
                """, .text(date.description), subscriberID.sqlValue)
            return BounceMatch(subscriberID: subscriberID, email: try EmailAddress(stored: email), deliveryID: deliveryID)
        }
    }

    /// The reader of the message with this `Message-ID`, from the ledger.
    public func bounceMatch(messageID: String) throws -> BounceMatch? {
        try database.read { db in
            guard
                let row = try db.fetchOne(
                    """
                    SELECT d.id, d.subscriberID, s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriberID
                    WHERE d.messageID = ? ORDER BY d.id DESC LIMIT 1
                    """, .text(messageID))
            else { return nil }
            return BounceMatch(
                subscriberID: try row["subscriberID"], email: try EmailAddress(stored: try row["email"] as String),
                deliveryID: try row["id"])
        }
    }

    /// The subscriber with this address (the bounces API names readers by address).
    public func bounceMatch(email: EmailAddress) throws -> BounceMatch? {
        try subscriber(email: email).map { BounceMatch(subscriberID: $0.id!, email: $0.email, deliveryID: nil) }
    }

    /// Records `event` once and applies it: a hard bounce counts toward `bounced` (`bounceLimit`
    /// in a row, or that many hard bounces reported after delivery, whichever comes first; one when its
    /// status says the mailbox does not exist, see `hardBounceLimit`, or when the reader is still pending);
    /// a complaint unsubscribes at once; soft and other failures only go on record. `bounce_events` keeps
    /// the status and reason, which say why. The report and the status change it causes count in `now`'s
    /// day, and the report in its edition's outcome.
    public func recordBounce(_ event: BounceEvent, bounceLimit: Int, now: Date) throws -> BounceEffect {
        try database.write { db in
            let inserted = try db.execute(
                """
                INSERT INTO bounce_events
                    (reportKey, recipient, kind, subscriberID, deliveryID, status, reason, source, receivedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
                .text(event.reportKey), .text(event.recipient.lowercased()), .text(event.kind.rawValue),
                event.subscriberID.sqlValue, event.deliveryID.sqlValue, .text(event.status), .text(event.reason),
                .text(event.source), now.sqlValue)
            guard inserted > 0 else { return .duplicate }
            let status = "SELECT status FROM subscribers WHERE id = ?\(db.dialect.forUpdate)"
            let before: SubscriberStatus? = try db.fetchValue(status, event.subscriberID.sqlValue)
            switch event.kind {
            case .hard:
                try Self.countHardBounce(
                    subscriberID: event.subscriberID, limit: Self.hardBounceLimit(status: event.status, limit: bounceLimit),
                    countingReports: true, now: now, in: db)
            case .complaint:
                try db.execute(
                    """
                    UPDATE subscribers SET status = 'unsubscribed', unsubscribedAt = ?
                    WHERE id = ? AND status <> 'unsubscribed'
                    """, now.sqlValue, event.subscriberID.sqlValue)
            case .soft, .failed:
                break
            }
            let after: SubscriberStatus? = try db.fetchValue(status, event.subscriberID.sqlValue)
            var counts = DailyCounts()
            counts.reportReceived(event.kind)
            if let before, let after { counts.statusChanged(from: before, to: after) }
            try Self.count(counts, at: now, in: db)
            if let deliveryID = event.deliveryID {
                try Self.countEditionReport(event.kind, deliveryID: deliveryID, now: now, in: db)
            }
            return .recorded(newStatus: after != before ? after : nil)
        }
    }

    /// Counts one hard bounce of `subscriberID`: the one rule for a refusal in the SMTP session
    /// (`recordDeliveries`) and a report that came back later (`recordBounce`), see `hardBounceMarksBounced`.
    /// With `countingReports`, the messages that drew hard-bounce reports count too (one per message, however
    /// many reports it drew; `bounce_events` must already hold this one).
    static func countHardBounce(
        subscriberID: Int64, limit: Int, countingReports: Bool, now: Date, in db: any SQLConnection
    ) throws {
        let id = subscriberID.sqlValue
        let reports = """
            (SELECT COUNT(DISTINCT COALESCE('d' || deliveryID, 'r' || id)) FROM bounce_events
                WHERE subscriberID = ? AND kind = 'hard')
            """
        let reached = hardBounceMarksBounced(
            bounceCount: "bounceCount", status: "status", limit: "?", reports: countingReports ? reports : nil)
        let reachedArguments = [limit.sqlValue] + (countingReports ? [id, limit.sqlValue] : [])
        try db.execute(
            """
            UPDATE subscribers SET bounceCount = bounceCount + 1,
                bouncedAt = CASE WHEN \(reached) THEN ? ELSE bouncedAt END,
                status = CASE WHEN \(reached) THEN 'bounced' ELSE status END
            WHERE id = ?
            """,
            reachedArguments + [now.sqlValue] + reachedArguments + [id])
    }

    /// The rule, as a SQL condition over the reader's row before this bounce is counted (so a set-based
    /// statement can state it over its own aliases): an active reader becomes `bounced` at the `limit`-th
    /// hard bounce in a row (a message the relay accepted resets `bounceCount`) or, when `reports` (the
    /// number of messages that drew hard-bounce reports) is given, once that many messages drew them.
    /// A report can also be about a confirmation, the one mail a pending reader gets: its hard bounce
    /// marks them `bounced` at once, since nobody is there to confirm and they would stay pending forever.
    static func hardBounceMarksBounced(bounceCount: String, status: String, limit: String, reports: String? = nil)
        -> String
    {
        let counted = "\(status) = 'active' AND (\(bounceCount) + 1 >= \(limit)"
        guard let reports else { return counted + ")" }
        return "(\(status) = 'pending' OR \(counted) OR \(reports) >= \(limit)))"
    }

    /// The hard bounces that mark a reader `bounced`, given the RFC 3463 `status` of this one: `limit`, or 1
    /// when the status says the mailbox does not exist: 5.1.1 ("Bad destination mailbox address",
    /// https://www.rfc-editor.org/rfc/rfc3463#section-3.2) or 5.1.10 ("Recipient address has null MX",
    /// https://www.rfc-editor.org/rfc/rfc7505#section-4.2). No later night can reach such an address, and each
    /// try costs the sender's reputation; Amazon SES, SendGrid and Mailchimp suppress after one such bounce.
    /// The one rule for a refusal in the SMTP session (`DeliveryOutcome.hardBounceLimit`) and a report
    /// that came back later (`recordBounce`).
    static func hardBounceLimit(status: String?, limit: Int) -> Int {
        let parts = (status ?? "").split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        return parts == [5, 1, 1] || parts == [5, 1, 10] ? 1 : limit
    }

    /// Bounces and complaints per subscriber id (only readers who have any).
    public func bounceCountsBySubscriber() throws -> [Int64: BounceCounts] {
        try database.read { db in
            var result: [Int64: BounceCounts] = [:]
            let rows = try db.fetchAll(
                "SELECT subscriberID, kind, COUNT(*) AS total FROM bounce_events GROUP BY subscriberID, kind")
            for row in rows {
                result[try row["subscriberID"], default: BounceCounts()].add(try row["kind"], try row["total"])
            }
            return result
        }
    }

    /// Bounces and complaints that came back about the messages of the editions of `dates`.
    public func bounceCounts(editionDates dates: [String]) throws -> BounceCounts {
        guard !dates.isEmpty else { return BounceCounts() }
        return try database.read { db in
            var counts = BounceCounts()
            let rows = try db.fetchAll(
                """
                SELECT b.kind, COUNT(*) AS total FROM bounce_events b
                JOIN deliveries d ON d.id = b.deliveryID JOIN editions e ON e.id = d.editionID
                WHERE e.date IN (\(sqlPlaceholders(dates.count))) GROUP BY b.kind
                """, dates.map(\.sqlValue))
            for row in rows { counts.add(try row["kind"], try row["total"]) }
            return counts
        }
    }

    /// The reason recorded with the complaint that unsubscribed `subscriberID`, if any.
    public func complaintReason(subscriberID: Int64) throws -> String? {
        try database.read { db in
            try db.fetchValue(
                "SELECT reason FROM bounce_events WHERE subscriberID = ? AND kind = 'complaint' ORDER BY id DESC LIMIT 1",
                subscriberID.sqlValue)
        }
    }
}
