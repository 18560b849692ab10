import Foundation
import GRDB

/// The state of one row of the outbox.
public enum OutboxStatus: String, Sendable, CaseIterable, DatabaseValueConvertible {
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

    /// Reads the columns `id, purpose, subscriberID, sender, recipient, messageID, data, attempts, createdAt`.
    init(row: Row) throws {
        id = row["id"]
        purpose = row["purpose"]
        subscriberID = row["subscriberID"]
        let data: Data = row["data"]
        message = MailMessage(
            sender: try EmailAddress(stored: row["sender"]), recipient: try EmailAddress(stored: row["recipient"]),
            messageID: row["messageID"], data: Array(data))
        attempts = row["attempts"]
        createdAt = row["createdAt"]
    }
}

/// When a deferred outbox mail is tried again: after 1 minute, doubling up to an hour, and given up
/// (`failed`) once it has been failing for a day.
public struct OutboxRetry: Sendable {
    public var first: TimeInterval = 60
    public var longest: TimeInterval = 3600
    public var giveUpAfter: TimeInterval = 24 * 3600

    public init() {}

    /// The delay after the `attempts`-th failed try.
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        min(longest, first * pow(2, Double(max(0, min(attempts - 1, 20)))))
    }
}

extension Store {
    /// Writes `message` to the outbox inside the caller's transaction, due now.
    static func queueMail(
        _ db: Database, _ message: MailMessage, purpose: String, subscriberID: Int64?, now: Date
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (purpose, subscriberID, sender, recipient, messageID, data, status, attempts,
                    createdAt, updatedAt, nextAttemptAt)
                VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
                """,
            arguments: [
                purpose, subscriberID, message.sender.description, message.recipient.description, message.messageID,
                Data(message.data), now, now, now,
            ])
    }

    /// Claims up to `limit` mails that are due (queued, deferred and due, or claimed by a worker whose
    /// lease ran out), oldest first, for `owner` until `now + lease`.
    public func claimOutbox(owner: String, limit: Int, lease: TimeInterval, now: Date) throws -> [OutboxMail] {
        try pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, purpose, subscriberID, sender, recipient, messageID, data, attempts, createdAt
                    FROM outbox
                    WHERE (status IN ('queued', 'deferred') AND nextAttemptAt <= ?)
                       OR (status = 'sending' AND claimedUntil < ?)
                    ORDER BY nextAttemptAt, id LIMIT ?
                    """,
                arguments: [now, now, limit])
            var claimed: [OutboxMail] = []
            for row in rows {
                let id: Int64 = row["id"]
                try db.execute(
                    sql: "UPDATE outbox SET status = 'sending', claimedBy = ?, claimedUntil = ?, updatedAt = ? WHERE id = ?",
                    arguments: [owner, now + lease, now, id])
                claimed.append(try OutboxMail(row: row))
            }
            return claimed
        }
    }

    /// Records what became of claimed mails, in one transaction: sent; failed for good; or deferred
    /// with a backoff (failed once it has been failing for `retry.giveUpAfter`). A configuration
    /// failure (wrong password, TLS) is always deferred: it is about the relay, not the reader.
    public func recordOutbox(_ results: [(mail: OutboxMail, result: DeliveryResult)], retry: OutboxRetry, now: Date)
        throws
    {
        try pool.write { db in
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
                    sql: """
                        UPDATE outbox SET status = ?, attempts = ?, lastReply = ?, updatedAt = ?, nextAttemptAt = ?,
                            sentAt = ?, claimedBy = NULL, claimedUntil = NULL
                        WHERE id = ?
                        """,
                    arguments: [status, attempts, result.outcome.text, now, next, sentAt, mail.id])
            }
        }
    }

    /// Puts back mails claimed by workers that are gone (`isGone(owner)`), due at once: a worker
    /// killed mid-send left them `sending`. Returns how many.
    @discardableResult
    public func releaseOutboxClaims(now: Date, isGone: (String) -> Bool) throws -> Int {
        try pool.write { db in
            let owners = try String.fetchAll(
                db, sql: "SELECT DISTINCT claimedBy FROM outbox WHERE status = 'sending' AND claimedBy IS NOT NULL")
            var released = 0
            for owner in owners where isGone(owner) {
                try db.execute(
                    sql: """
                        UPDATE outbox SET status = 'queued', claimedBy = NULL, claimedUntil = NULL, nextAttemptAt = ?,
                            updatedAt = ?
                        WHERE status = 'sending' AND claimedBy = ?
                        """,
                    arguments: [now, now, owner])
                released += db.changesCount
            }
            return released
        }
    }

    /// When the next mail comes due (queued or deferred), or a claim runs out; nil when nothing waits.
    public func nextOutboxDue() throws -> Date? {
        try pool.read { db in
            try Date.fetchOne(
                db,
                sql: """
                    SELECT MIN(due) FROM (
                        SELECT MIN(nextAttemptAt) AS due FROM outbox WHERE status IN ('queued', 'deferred')
                        UNION ALL SELECT MIN(claimedUntil) FROM outbox WHERE status = 'sending')
                    """)
        }
    }

    /// How many outbox rows are in each status.
    public func outboxCounts() throws -> [OutboxStatus: Int] {
        try pool.read { db in
            var counts: [OutboxStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status") {
                counts[row["status"]] = row["n"]
            }
            return counts
        }
    }

    /// Every outbox row of `subscriberID`, oldest first (tests, diagnostics).
    public func outboxMails(subscriberID: Int64) throws -> [(mail: OutboxMail, status: OutboxStatus)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, purpose, subscriberID, sender, recipient, messageID, data, attempts, createdAt, status
                    FROM outbox WHERE subscriberID = ? ORDER BY id
                    """,
                arguments: [subscriberID]
            ).map { row in (try OutboxMail(row: row), row["status"] as OutboxStatus) }
        }
    }
}
