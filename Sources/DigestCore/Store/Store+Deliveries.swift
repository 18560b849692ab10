import Foundation
import GRDB

/// A delivery row as a worker sees it: which edition, which reader, how often tried.
public struct ClaimedDelivery: Sendable {
    public var id: Int64
    public var editionID: Int64
    public var attempts: Int
    public var subscriber: Subscriber
}

/// The final result of one delivery, to record in the ledger.
public struct DeliveryOutcome: Sendable {
    public var id: Int64
    public var subscriberID: Int64
    public var outcome: SendOutcome
    /// Tries made by this run (added to the row's count).
    public var attempts: Int
    public var messageID: String
    /// The items the message held (kept for "already received").
    public var itemIDs: [Int64]
    /// When a deferred row is due again.
    public var retryAt: Date?
    /// Hard bounces in a row that mark the reader `bounced`; nil when the failure is not the reader's.
    public var bounceLimit: Int?
    /// The caller knows the reader's bounce count is 0 (read when the row was claimed, and no bounce
    /// recorded since): a sent message then has no count to reset.
    public var noBouncesToReset = false

    public init(
        id: Int64, subscriberID: Int64, outcome: SendOutcome, attempts: Int, messageID: String, itemIDs: [Int64],
        retryAt: Date?, bounceLimit: Int?
    ) {
        self.id = id
        self.subscriberID = subscriberID
        self.outcome = outcome
        self.attempts = attempts
        self.messageID = messageID
        self.itemIDs = itemIDs
        self.retryAt = retryAt
        self.bounceLimit = bounceLimit
    }
}

/// One write to the ledger, as the run's recorder hands them over.
public enum LedgerEntry: Sendable {
    /// The final result of a message.
    case delivery(DeliveryOutcome)
    /// A claimed row that needs no message (nothing new for the reader, or they left meanwhile).
    case skipped(id: Int64, reason: String)
}

/// The ledger's status of one (edition, subscriber) pair.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case queued, sending, sent, deferred, failed, skipped
}

/// One row of the ledger, for reports and `digest deliveries`.
public struct DeliveryRecord: Sendable, Codable, Equatable, FetchableRecord {
    public var id: Int64
    public var editionDate: String
    public var email: String
    public var status: DeliveryStatus
    public var attempts: Int
    public var messageID: String
    public var lastReply: String?
    public var updatedAt: Date
}

extension Store {
    /// Queues edition `editionID` for the active readers of one (time zone, hour) group who have
    /// no delivery of this or a later edition. INSERT-or-ignore: re-running queues nothing twice.
    /// `zone`/`hour` nil queues every active reader (an explicit `send --date`).
    @discardableResult
    public func queueDeliveries(
        editionID: Int64, date: Day, zone: (timeZone: String, hour: Int, siteZone: String, sendHour: Int)?, now: Date
    ) throws -> Int {
        try pool.write { db in
            if let zone {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt)
                        SELECT ?, s.id, 'queued', '', ?, ? FROM subscribers s
                        WHERE s.status = 'active'
                          AND coalesce(s.timeZone, ?) = ? AND coalesce(s.deliveryHour, ?) = ?
                          AND NOT EXISTS (
                              SELECT 1 FROM deliveries d JOIN editions e ON e.id = d.editionID
                              WHERE d.subscriberID = s.id AND e.date >= ?)
                        """,
                    arguments: [
                        editionID, now, now, zone.siteZone, zone.timeZone, zone.sendHour, zone.hour, date.description,
                    ])
            } else {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt)
                        SELECT ?, s.id, 'queued', '', ?, ? FROM subscribers s WHERE s.status = 'active'
                        """,
                    arguments: [editionID, now, now])
            }
            return db.changesCount
        }
    }

    /// The distinct (time zone, delivery hour) pairs of active readers, defaults applied.
    public func activeDeliveryGroups(siteZone: String, sendHour: Int) throws -> [(timeZone: String, hour: Int)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT coalesce(timeZone, ?) AS zone, coalesce(deliveryHour, ?) AS hour
                    FROM subscribers WHERE status = 'active'
                    """,
                arguments: [siteZone, sendHour]
            ).map { ($0["zone"], $0["hour"]) }
        }
    }

    /// Rows left `sending` by a run that died: put back in the queue. Safe only while holding
    /// the run lock. Their messages may have been in flight (at most one per connection).
    @discardableResult
    public func requeueAbandoned(now: Date) throws -> Int {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE deliveries SET status = 'queued', claimedBy = NULL, updatedAt = ? WHERE status = 'sending'",
                arguments: [now])
            return db.changesCount
        }
    }

    /// Rows this run claimed but never sent (sending stopped early): deferred with `reason`.
    @discardableResult
    public func deferClaimed(run: String, reason: String, retryAt: Date, now: Date) throws -> Int {
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET status = 'deferred', lastReply = ?, nextAttemptAt = ?, updatedAt = ?,
                        claimedBy = NULL
                    WHERE status = 'sending' AND claimedBy = ?
                    """,
                arguments: [reason, retryAt, now, run])
            return db.changesCount
        }
    }

    /// Deferred rows of editions older than `cutoffDate` are given up as failed: nothing is
    /// retried forever, and the reason stays in the ledger.
    @discardableResult
    public func expireDeferred(before cutoffDate: Day, now: Date) throws -> Int {
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET status = 'failed', updatedAt = ?,
                        lastReply = 'gave up: still deferred after the edition expired; last reply: ' || coalesce(lastReply, '-')
                    WHERE status = 'deferred' AND editionID IN (SELECT id FROM editions WHERE date < ?)
                    """,
                arguments: [now, cutoffDate.description])
            return db.changesCount
        }
    }

    /// Claims up to `limit` queued rows, and deferred rows whose retry time has come, for `run`.
    public func claimDeliveries(run: String, limit: Int, now: Date) throws -> [ClaimedDelivery] {
        try pool.write { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    UPDATE deliveries SET status = 'sending', claimedBy = ?, updatedAt = ?
                    WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE status = 'queued' OR (status = 'deferred' AND nextAttemptAt <= ?)
                        ORDER BY id LIMIT ?)
                    RETURNING id
                    """,
                arguments: [run, now, now, limit])
            guard !ids.isEmpty else { return [] }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.editionID, d.attempts, \(Subscriber.selectedColumns("s")) FROM deliveries d
                    JOIN subscribers s ON s.id = d.subscriberID
                    WHERE d.id IN (\(ids.map { _ in "?" }.joined(separator: ","))) ORDER BY d.id
                    """,
                arguments: StatementArguments(ids))
            return try rows.map { row in
                ClaimedDelivery(id: row[0], editionID: row[1], attempts: row[2], subscriber: try Subscriber(row: row, from: 3))
            }
        }
    }

    /// Records the outcome of one delivery right after the server's reply (see `recordDeliveries`).
    public func recordDelivery(
        id: Int64, subscriberID: Int64, outcome: SendOutcome, attempts: Int, messageID: String, itemIDs: [Int64],
        retryAt: Date?, bounceLimit: Int?, now: Date
    ) throws {
        try recordDeliveries(
            [
                DeliveryOutcome(
                    id: id, subscriberID: subscriberID, outcome: outcome, attempts: attempts, messageID: messageID,
                    itemIDs: itemIDs, retryAt: retryAt, bounceLimit: bounceLimit)
            ], now: now)
    }

    /// Records outcomes that arrived together, in one committed write transaction: the sender pool
    /// hands over everything that finished while the previous batch was being written (group commit),
    /// so with several connections one commit serves several messages. A permanent failure counts a
    /// hard bounce when `bounceLimit` is given; that many in a row mark the reader `bounced`.
    /// Failures that are not the recipient's (a message that could not be built) pass nil.
    ///
    /// The statements are compiled once per connection (`cachedStatement`): this runs for every
    /// message of a send.
    public func recordDeliveries(_ outcomes: [DeliveryOutcome], now: Date) throws {
        try record(outcomes.map(LedgerEntry.delivery), now: now)
    }

    /// Writes `entries` in one committed transaction (see `recordDeliveries`).
    public func record(_ entries: [LedgerEntry], now: Date) throws {
        guard !entries.isEmpty else { return }
        let now = StorageDate.databaseValue(now)
        try pool.writeWithoutTransaction { db in
            // BEGIN and COMMIT compiled once per connection too (GRDB's `write` compiles both every time).
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
            do {
                for entry in entries {
                    switch entry {
                    case .delivery(let record):
                        try Self.record(record, now: now, in: db)
                    case .skipped(let id, let reason):
                        try db.cachedStatement(
                            sql: """
                                UPDATE deliveries SET status = 'skipped', lastReply = ?, updatedAt = ?, claimedBy = NULL
                                WHERE id = ?
                                """
                        ).execute(arguments: [reason, now, id])
                    }
                }
                try db.cachedStatement(sql: "COMMIT").execute()
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
    }

    private static func record(_ record: DeliveryOutcome, now: DatabaseValue, in db: Database) throws {
        let (id, attempts, messageID) = (record.id, record.attempts, record.messageID)
        switch record.outcome {
        case .sent(let reply):
            try db.cachedStatement(
                sql: """
                    UPDATE deliveries SET status = 'sent', attempts = attempts + ?, lastReply = ?, messageID = ?,
                        itemIDs = ?, sentAt = ?, updatedAt = ?, nextAttemptAt = NULL, claimedBy = NULL WHERE id = ?
                    """
            ).execute(arguments: [
                attempts, reply, messageID, record.itemIDs.map(String.init).joined(separator: ","), now, now, id,
            ])
            if !record.noBouncesToReset {
                try db.cachedStatement(sql: "UPDATE subscribers SET bounceCount = 0 WHERE id = ? AND bounceCount > 0")
                    .execute(arguments: [record.subscriberID])
            }
        case .transient(let reason):
            try db.cachedStatement(
                sql: """
                    UPDATE deliveries SET status = 'deferred', attempts = attempts + ?, lastReply = ?, messageID = ?,
                        nextAttemptAt = ?, updatedAt = ?, claimedBy = NULL WHERE id = ?
                    """
            ).execute(arguments: [attempts, reason, messageID, record.retryAt.map(StorageDate.databaseValue) ?? now, now, id])
        case .permanent(let reason):
            try db.cachedStatement(
                sql: """
                    UPDATE deliveries SET status = 'failed', attempts = attempts + ?, lastReply = ?, messageID = ?,
                        updatedAt = ?, claimedBy = NULL WHERE id = ?
                    """
            ).execute(arguments: [attempts, reason, messageID, now, id])
            guard let bounceLimit = record.bounceLimit else { return }
            try db.cachedStatement(
                sql: """
                    UPDATE subscribers SET bounceCount = bounceCount + 1,
                        bouncedAt = CASE WHEN bounceCount + 1 >= ?1 AND status = 'active' THEN ?2 ELSE bouncedAt END,
                        status = CASE WHEN bounceCount + 1 >= ?1 AND status = 'active' THEN 'bounced' ELSE status END
                    WHERE id = ?3
                    """
            ).execute(arguments: [bounceLimit, now, record.subscriberID])
        }
    }

    /// The edition with this id (for workers resolving claimed rows).
    public func edition(id: Int64) throws -> Edition? {
        try pool.read { db in
            guard let date = try String.fetchOne(db, sql: "SELECT date FROM editions WHERE id = ?", arguments: [id])
                .flatMap(Day.init)
            else { return nil }
            return try Self.fetchEdition(db, date: date)
        }
    }

    /// Ledger rows, newest first, optionally of one edition date and/or status.
    public func deliveries(date: Day? = nil, status: DeliveryStatus? = nil, limit: Int = 1000) throws -> [DeliveryRecord] {
        try pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let date {
                conditions.append("e.date = ?")
                arguments += [date.description]
            }
            if let status {
                conditions.append("d.status = ?")
                arguments += [status]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try DeliveryRecord.fetchAll(
                db,
                sql: """
                    SELECT d.id, e.date AS editionDate, s.email, d.status, d.attempts, d.messageID, d.lastReply, d.updatedAt
                    FROM deliveries d JOIN editions e ON e.id = d.editionID JOIN subscribers s ON s.id = d.subscriberID
                    \(filter) ORDER BY d.id DESC LIMIT ?
                    """,
                arguments: arguments + [limit])
        }
    }

    /// Rows still waiting (queued or deferred), across all editions.
    public func pendingDeliveryCount() throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries WHERE status IN ('queued', 'deferred', 'sending')") ?? 0
        }
    }
}
