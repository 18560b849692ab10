import Foundation

/// The state of one row of the outbox.
public enum OutboxStatus: String, Sendable, CaseIterable, SQLTextEnum {
    /// Waiting for the worker.
    case queued
    /// Claimed by a worker (`claimedBy`) until `claimedUntil`; after a crash it is put back.
    case sending
    case sent
    /// A transient failure; tried again at `nextAttemptAt`.
    case deferred
    /// Refused for good, or still failing after `OutboxRetry.giveUpAfter`.
    case failed
}

/// One mail of the outbox, as a worker claims it.
public struct OutboxMail: Sendable, Equatable {
    public var id: Int64
    /// What the mail is for (`confirm`).
    public var purpose: String
    public var subscriberID: Int64?
    /// The final bytes, built when the row was written: a re-send after a crash is the same message.
    public var message: MailMessage
    /// Tries so far (before this claim).
    public var attempts: Int
    public var createdAt: Date

    /// What `init(row:)` reads.
    static let columns = "id, purpose, subscriberID, sender, recipient, messageID, data, attempts, createdAt"

    init(row: SQLRow) throws {
        id = try row["id"]
        purpose = try row["purpose"]
        subscriberID = try row["subscriberID"]
        let data: Data = try row["data"]
        message = MailMessage(
            sender: try EmailAddress(stored: try row["sender"]),
            recipient: try EmailAddress(stored: try row["recipient"]), messageID: try row["messageID"],
            data: Array(data))
        attempts = try row["attempts"]
        createdAt = try row["createdAt"]
    }
}

/// When a deferred outbox mail is tried again: after 1 minute, doubling up to an hour, and given up
/// (`failed`) once it has been failing for a day.
public struct OutboxRetry: Sendable {
    /// A minute after the first failed try, doubling, at most an hour: the in-run retries' formula
    /// (`RetryPolicy`), without jitter.
    public var backoff = RetryPolicy(baseDelay: 60, maxDelay: 3600, jitter: 0)
    public var giveUpAfter: TimeInterval = 24 * 3600

    public init() {}

    /// The delay after the `attempts`-th failed try.
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        backoff.delay(afterAttempt: attempts, random: 0)
    }
}

extension Store {
    /// Writes `message` to the outbox inside the caller's transaction, due now.
    static func queueMail(
        _ db: any SQLConnection, _ message: MailMessage, purpose: String, subscriberID: Int64?, now: Date
    ) throws {
        try db.execute(
            """
            INSERT INTO outbox (purpose, subscriberID, sender, recipient, messageID, data, status, attempts,
                createdAt, updatedAt, nextAttemptAt)
            VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
            """,
            .text(purpose), subscriberID.sqlValue, .text(message.sender.description),
            .text(message.recipient.description), .text(message.messageID), .blob(message.data), now.sqlValue,
            now.sqlValue, now.sqlValue)
    }

    /// Writes `message` to the outbox, due now, with `audit` in the same transaction: what the admin console sends (a test digest, a confirmation
    /// sent again) goes the way confirmations go, so a relay that is down delays it and loses nothing.
    public func queueOutboxMail(
        _ message: MailMessage, purpose: String, subscriberID: Int64?, now: Date, audit: AuditEntry? = nil
    ) throws {
        try database.write { db in
            try Self.queueMail(db, message, purpose: purpose, subscriberID: subscriberID, now: now)
            if let audit { try Self.insertAudit(audit, in: db) }
        }
    }

    /// Claims up to `limit` mails that are due (queued, deferred and due, or claimed by a worker whose
    /// lease ran out), oldest first, for `owner` for `lease` seconds. Several web hosts on one PostgreSQL
    /// drain the same outbox: each skips the rows another one is claiming, so no mail is claimed twice.
    /// A claim's lease runs on the database's clock (`SQLDialect.leaseTime`): a host whose clock runs ahead
    /// cannot take another's live claim. When a mail is due (`nextAttemptAt`) is judged by `now`.
    public func claimOutbox(owner: String, limit: Int, lease: TimeInterval, now: Date) throws -> [OutboxMail] {
        try database.write { db in
            let current = db.dialect.leaseTime(now)
            let rows = try db.fetchAll(
                """
                SELECT \(OutboxMail.columns) FROM outbox
                WHERE (status IN ('queued', 'deferred') AND nextAttemptAt <= ?)
                   OR (status = 'sending' AND claimedUntil < \(current.sql))
                ORDER BY nextAttemptAt, id LIMIT ?\(db.dialect.skipLocked)
                """,
                [now.sqlValue] + current.arguments + [limit.sqlValue])
            let claimed = try rows.map(OutboxMail.init(row:))
            guard !claimed.isEmpty else { return [] }
            let expiry = db.dialect.leaseTime(now, plus: lease)
            try db.execute(
                """
                UPDATE outbox SET status = 'sending', claimedBy = ?, claimedUntil = \(expiry.sql), updatedAt = ?
                WHERE id IN (\(sqlPlaceholders(claimed.count)))
                """,
                [.text(owner)] + expiry.arguments + [now.sqlValue] + claimed.map(\.id.sqlValue))
            return claimed
        }
    }

    /// Puts back mails `owner` claimed and will not send (claimed ahead of a batch that stopped), due at once
    /// and in their place. A mail whose claim another worker took over (its lease ran out) stays theirs.
    /// Returns how many.
    @discardableResult
    public func releaseOutbox(_ mails: [OutboxMail], owner: String, now: Date) throws -> Int {
        guard !mails.isEmpty else { return 0 }
        return try database.write { db in
            try Self.requeueOutbox(
                db, now: now, where: "claimedBy = ? AND id IN (\(sqlPlaceholders(mails.count)))",
                [.text(owner)] + mails.map(\.id.sqlValue))
        }
    }

    /// Claimed mails (`sending`) matching `condition` back to `queued`, due `now`, unclaimed.
    private static func requeueOutbox(_ db: some SQLConnection, now: Date, where condition: String, _ arguments: [SQLValue])
        throws -> Int
    {
        try db.execute(
            """
            UPDATE outbox SET status = 'queued', claimedBy = NULL, claimedUntil = NULL, nextAttemptAt = ?, updatedAt = ?
            WHERE status = 'sending' AND \(condition)
            """,
            [now.sqlValue, now.sqlValue] + arguments)
    }

    /// Records what became of claimed mails, in one transaction: sent; failed for good; or deferred
    /// with a backoff (failed once it has been failing for `retry.giveUpAfter`). A configuration
    /// failure (wrong password, TLS) is always deferred: it is about the relay, not the reader.
    public func recordOutbox(_ results: [(mail: OutboxMail, result: DeliveryResult)], retry: OutboxRetry, now: Date)
        throws
    {
        try database.write { db in
            for (mail, result) in results {
                let attempts = mail.attempts + max(1, result.attempts)
                var status: OutboxStatus
                var next = now
                var sentAt: Date?
                switch result.outcome {
                case .sent:
                    status = .sent
                    sentAt = now
                case .permanent where !result.isConfigurationFailure:
                    status = .failed
                case .transient, .permanent:
                    status = now.timeIntervalSince(mail.createdAt) >= retry.giveUpAfter ? .failed : .deferred
                    next = now + retry.delay(afterAttempts: attempts)
                }
                try db.execute(
                    """
                    UPDATE outbox SET status = ?, attempts = ?, lastReply = ?, updatedAt = ?, nextAttemptAt = ?,
                        sentAt = ?, claimedBy = NULL, claimedUntil = NULL
                    WHERE id = ?
                    """,
                    status.sqlValue, attempts.sqlValue, .text(result.outcome.text), now.sqlValue, next.sqlValue,
                    sentAt.sqlValue, mail.id.sqlValue)
            }
        }
    }

    /// Puts back mails claimed by workers that are gone (`isGone(owner)`), due at once: a worker
    /// killed mid-send left them `sending`. Returns how many.
    @discardableResult
    public func releaseOutboxClaims(now: Date, isGone: (String) -> Bool) throws -> Int {
        try database.write { db in
            let owners: [String] = try db.fetchColumn(
                "SELECT DISTINCT claimedBy FROM outbox WHERE status = 'sending' AND claimedBy IS NOT NULL")
            var released = 0
            for owner in owners where isGone(owner) {
                released += try Self.requeueOutbox(db, now: now, where: "claimedBy = ?", [.text(owner)])
            }
            return released
        }
    }

    /// When the next mail comes due (queued or deferred), or a claim runs out; nil when nothing waits. On the
    /// caller's clock `now`: a claim's end (the database's clock) is `now` plus what is left of its lease.
    public func nextOutboxDue(now: Date = Date()) throws -> Date? {
        try database.read { db in
            let claimEnd = db.dialect.onLocalClock(leaseTime: "MIN(claimedUntil)", now)
            return try db.fetchValue(
                """
                SELECT MIN(due) FROM (
                    SELECT MIN(nextAttemptAt) AS due FROM outbox WHERE status IN ('queued', 'deferred')
                    UNION ALL SELECT \(claimEnd.sql) FROM outbox WHERE status = 'sending') AS dues
                """, claimEnd.arguments)
        }
    }

    /// How many outbox rows are in each status.
    public func outboxCounts() throws -> [OutboxStatus: Int] {
        try database.read { db in
            var counts: [OutboxStatus: Int] = [:]
            for row in try db.fetchAll("SELECT status, COUNT(*) AS total FROM outbox GROUP BY status") {
                counts[try row["status"]] = try row["total"]
            }
            return counts
        }
    }

    /// Every outbox row of `subscriberID`, oldest first (tests, diagnostics).
    public func outboxMails(subscriberID: Int64) throws -> [(mail: OutboxMail, status: OutboxStatus)] {
        try database.read { db in
            try db.fetchAll(
                "SELECT \(OutboxMail.columns), status FROM outbox WHERE subscriberID = ? ORDER BY id", subscriberID.sqlValue
            ).map { row in (try OutboxMail(row: row), try row["status"] as OutboxStatus) }
        }
    }
}
