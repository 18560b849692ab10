import Foundation

/// A delivery row as a worker sees it: which edition, which reader, how often tried.
public struct ClaimedDelivery: Sendable {
    public var id: Int64
    public var editionID: Int64
    public var attempts: Int
    /// A catch-up's start: the day of the reader's last edition before it.
    public var coversSince: Day?
    public var subscriber: Subscriber
}

extension ClaimedDelivery {
    /// From `deliveryID`, `editionID`, `attempts` and the reader's columns (`Subscriber.columns`).
    init(row: SQLRow) throws {
        self.init(
            id: try row["deliveryID"], editionID: try row["editionID"], attempts: try row["attempts"],
            coversSince: try row["coversSince"], subscriber: try Subscriber(row: row))
    }
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

    /// The hard bounces that mark the reader `bounced` after this refusal: `bounceLimit`, or 1 when the
    /// reply's enhanced status says the mailbox does not exist (`Store.hardBounceLimit`); nil when the
    /// failure is not the reader's. The reply itself is kept as the row's `lastReply`, which says why.
    var hardBounceLimit: Int? {
        guard let bounceLimit, case .permanent(let reply) = outcome else { return bounceLimit }
        return Store.hardBounceLimit(status: SMTPReplyCode(reply)?.status, limit: bounceLimit)
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
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    case queued, sending, sent, deferred, failed, skipped
    /// Not sent: a newer edition for the reader took its place before it went out (`lastReply` says which).
    case superseded
}

/// One row of the ledger, for reports and `digest deliveries`.
public struct DeliveryRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var editionDate: String
    public var email: String
    public var status: DeliveryStatus
    public var attempts: Int
    public var messageID: String
    public var lastReply: String?
    public var updatedAt: Date

    /// What `init(row:)` reads.
    static let columns =
        "d.id, e.date AS editionDate, s.email, d.status, d.attempts, d.messageID, d.lastReply, d.updatedAt"

    init(row: SQLRow) throws {
        id = try row["id"]
        editionDate = try row["editionDate"]
        email = try row["email"]
        status = try row["status"]
        attempts = try row["attempts"]
        messageID = try row["messageID"]
        lastReply = try row["lastReply"]
        updatedAt = try row["updatedAt"]
    }
}

extension Store {
    /// Queues edition `editionID` (of day `date`) for every active reader who is not paused that day and has
    /// not had it, whatever their hour and cadence: an explicit `send --date`. Insert-or-ignore: re-running
    /// queues nothing twice.
    @discardableResult
    public func queueDeliveries(editionID: Int64, date: Day, now: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                """
                INSERT INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt)
                SELECT ?, s.id, 'queued', '', ?, ? FROM subscribers s
                WHERE s.status = 'active' AND (s.pausedUntil IS NULL OR s.pausedUntil <= ?)
                ORDER BY s.id
                ON CONFLICT DO NOTHING
                """,
                editionID.sqlValue, now.sqlValue, now.sqlValue, date.sqlValue)
        }
    }

    /// Active readers whose pause covers `date`: the ones `queueDeliveries` leaves out, for the run's report.
    public func pausedReaderCount(on date: Day) throws -> Int {
        try database.read { db in
            try db.fetchValue(
                "SELECT count(*) FROM subscribers WHERE status = 'active' AND pausedUntil > ?", date.sqlValue) ?? 0
        }
    }

    /// The distinct (time zone, delivery hour) pairs of active readers, defaults applied.
    public func activeDeliveryGroups(siteZone: String, sendHour: Int) throws -> [(timeZone: String, hour: Int)] {
        try database.read { db in
            try db.fetchAll(
                """
                SELECT DISTINCT coalesce(timeZone, ?) AS zone, coalesce(deliveryHour, ?) AS hour
                FROM subscribers WHERE status = 'active'
                """,
                .text(siteZone), sendHour.sqlValue
            ).map { (try $0["zone"], try $0["hour"]) }
        }
    }

    /// Rows left `sending` by a run that died: put back in the queue. Safe only while holding
    /// the single run lock (SQLite). Their messages may have been in flight (at most one per connection).
    @discardableResult
    public func requeueAbandoned(now: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                "UPDATE deliveries SET status = 'queued', claimedBy = NULL, updatedAt = ? WHERE status = 'sending'",
                now.sqlValue)
        }
    }

    /// Cooperating senders (a shared store): every worker holds a lease named `workerLockPrefix` + its
    /// claim owner. Leases that ran out belong to workers that died or lost the database; they are
    /// removed, and the rows claimed by a worker without a lease go back to the queue for the living.
    /// Their messages may have been in flight (at most one per connection of the dead worker).
    /// "Ran out" is the database's judgement (`SQLDialect.leaseTime`), never this worker's clock: one that
    /// runs ahead would take the rows of live workers. `now` dates the re-queued rows (and judges on SQLite).
    @discardableResult
    public func takeOverAbandonedClaims(workerLockPrefix: String, now: Date) throws -> Int {
        try database.write { db in
            let current = db.dialect.leaseTime(now)
            try db.execute(
                "DELETE FROM locks WHERE name LIKE ? AND expiresAt <= \(current.sql)",
                [.text(workerLockPrefix + "%")] + current.arguments)
            return try db.execute(
                """
                UPDATE deliveries SET status = 'queued', claimedBy = NULL, updatedAt = ?
                WHERE status = 'sending'
                  AND NOT EXISTS (SELECT 1 FROM locks l WHERE l.name = ? || deliveries.claimedBy)
                """,
                now.sqlValue, .text(workerLockPrefix))
        }
    }

    /// How many rows other workers hold `sending` now (a worker that runs dry waits for them: a
    /// peer that dies leaves its share to whoever is still running once its lease is over).
    public func deliveriesClaimed(byOtherThan run: String) throws -> Int {
        try database.read { db in
            try db.fetchValue(
                "SELECT count(*) FROM deliveries WHERE status = 'sending' AND claimedBy <> ?", .text(run)) ?? 0
        }
    }

    /// Rows this run claimed but never sent (sending stopped early): deferred with `reason`.
    @discardableResult
    public func deferClaimed(run: String, reason: String, retryAt: Date, now: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                """
                UPDATE deliveries SET status = 'deferred', lastReply = ?, nextAttemptAt = ?, updatedAt = ?,
                    claimedBy = NULL
                WHERE status = 'sending' AND claimedBy = ?
                """,
                .text(reason), retryAt.sqlValue, now.sqlValue, .text(run))
        }
    }

    /// Deferred rows of editions older than `cutoffDate` are given up as failed: nothing is
    /// retried forever, and the reason stays in the ledger.
    @discardableResult
    public func expireDeferred(before cutoffDate: Day, now: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                """
                UPDATE deliveries SET status = 'failed', updatedAt = ?,
                    lastReply = 'gave up: still deferred after the edition expired; last reply: ' || coalesce(lastReply, '-')
                WHERE status = 'deferred' AND editionID IN (SELECT id FROM editions WHERE date < ?)
                """,
                now.sqlValue, .text(cutoffDate.description))
        }
    }

    /// The rows a claim may take (one `?`: now): queued, or deferred with their time come. The first term
    /// is `deliveries_due`'s own condition, written out so SQLite sees the partial index applies.
    static let due = "status IN ('queued', 'deferred') AND (status = 'queued' OR nextAttemptAt <= ?)"

    /// PostgreSQL, in a claim's transaction: read `deliveries_due` in id order and stop at the batch's end.
    /// The rows of a send are queued moments before the first claim, before autovacuum analyzes them: the
    /// statistics say few rows are due (none, on a ledger of sent rows), so the planner takes a bitmap scan
    /// of `deliveries_due` and sorts what it finds. With 12,000 readers that read and sorted all 12,000 due
    /// rows for every claim of 200 (8–19 ms each; 0.16 ms in id order, `EXPLAIN ANALYZE`, 2026-12-03).
    /// Without bitmap scans the index's order is the cheapest plan whatever the statistics say (a scan of
    /// the whole ledger and a sort cost more still). `SET LOCAL` ends with the claim's transaction.
    static let claimPlan = "SET LOCAL enable_bitmapscan = off"

    /// Claims up to `limit` queued rows, and deferred rows whose retry time has come, for `run`.
    /// On PostgreSQL the rows another worker is claiming at the same moment are skipped, not waited
    /// for: cooperating senders never claim the same row.
    public func claimDeliveries(run: String, limit: Int, now: Date) throws -> [ClaimedDelivery] {
        if database.dialect == .postgres {
            // The claim and its readers in one statement. Bitmap scans are off for it (`claimPlan`): with the
            // statistics of a ledger whose rows were queued seconds ago, the planner otherwise reads every due
            // row and sorts them, for each batch of 200.
            return try database.write { db in
                try db.execute(Self.claimPlan)
                return try db.fetchAll(
                    """
                    WITH claimed AS (
                        UPDATE deliveries SET status = 'sending', claimedBy = ?, updatedAt = ?
                        WHERE id IN (
                            SELECT id FROM deliveries
                            WHERE \(Self.due)
                            ORDER BY id LIMIT ?\(db.dialect.skipLocked))
                        RETURNING id, editionID, attempts, coversSince, subscriberID)
                    SELECT d.id AS deliveryID, d.editionID, d.attempts, d.coversSince, \(Subscriber.columns("s"))
                    FROM claimed d
                    JOIN subscribers s ON s.id = d.subscriberID ORDER BY d.id
                    """,
                    .text(run), now.sqlValue, now.sqlValue, limit.sqlValue
                ).map(ClaimedDelivery.init(row:))
            }
        }
        return try database.write { db in
            let ids: [Int64] = try db.fetchColumn(
                """
                UPDATE deliveries SET status = 'sending', claimedBy = ?, updatedAt = ?
                WHERE id IN (
                    SELECT id FROM deliveries
                    WHERE \(Self.due)
                    ORDER BY id LIMIT ?\(db.dialect.skipLocked))
                RETURNING id
                """,
                .text(run), now.sqlValue, now.sqlValue, limit.sqlValue)
            guard !ids.isEmpty else { return [] }
            let rows = try db.fetchAll(
                """
                SELECT d.id AS deliveryID, d.editionID, d.attempts, d.coversSince, \(Subscriber.columns("s"))
                FROM deliveries d
                JOIN subscribers s ON s.id = d.subscriberID
                WHERE d.id IN (\(sqlPlaceholders(ids.count))) ORDER BY d.id
                """,
                ids.map(\.sqlValue))
            return try rows.map(ClaimedDelivery.init(row:))
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
    public func recordDeliveries(_ outcomes: [DeliveryOutcome], now: Date) throws {
        try record(outcomes.map(LedgerEntry.delivery), now: now)
    }

    /// Writes `entries` in one committed transaction (see `recordDeliveries`). This runs for every
    /// message of a send: the statements are fixed strings, compiled once per connection.
    ///
    /// PostgreSQL: the whole group in one statement (`recordTogether`), sent alone, so a group commit is
    /// one round trip to the server whatever its size. SQLite writes in-process, statement by statement.
    public func record(_ entries: [LedgerEntry], now: Date) throws {
        guard !entries.isEmpty else { return }
        if database.dialect == .postgres {
            let groups = Self.statementGroups(entries)
            if groups.count == 1 {
                try database.writeStatement { db in try Self.recordTogether(groups[0], now: now, in: db) }
            } else {
                try database.write { db in
                    for group in groups { try Self.recordTogether(group, now: now, in: db) }
                }
            }
            return
        }
        try database.write { db in
            for entry in entries {
                switch entry {
                case .delivery(let record):
                    try Self.record(record, now: now, in: db)
                case .skipped(let id, let reason):
                    try db.execute(
                        """
                        UPDATE deliveries SET status = 'skipped', lastReply = ?, updatedAt = ?, claimedBy = NULL
                        WHERE id = ?
                        """,
                        .text(reason), now.sqlValue, id.sqlValue)
                }
            }
        }
    }

    /// `entries` cut, in order, into groups that one statement can write: a statement changes a row once,
    /// so a reader whose bounce count two entries change (or a row written twice) starts a new group.
    /// A group commit holds one entry per connection, for distinct readers: one group.
    static func statementGroups(_ entries: [LedgerEntry]) -> [[LedgerEntry]] {
        var groups: [[LedgerEntry]] = [[]]
        var rows: Set<Int64> = []
        var readers: Set<Int64> = []
        for entry in entries {
            let row: Int64
            var reader: Int64?
            switch entry {
            case .skipped(let id, _):
                row = id
            case .delivery(let outcome):
                row = outcome.id
                if Self.changesReader(outcome) { reader = outcome.subscriberID }
            }
            if rows.contains(row) || reader.map(readers.contains) == true {
                groups.append([])
                rows = []
                readers = []
            }
            rows.insert(row)
            if let reader { readers.insert(reader) }
            groups[groups.count - 1].append(entry)
        }
        return groups
    }

    /// Whether recording `outcome` changes its reader's row (a bounce counted, or a count reset).
    private static func changesReader(_ outcome: DeliveryOutcome) -> Bool {
        switch outcome.outcome {
        case .sent: !outcome.noBouncesToReset
        case .transient: false
        case .permanent: outcome.bounceLimit != nil
        }
    }

    /// PostgreSQL: `entries` (no row, nor reader whose bounce count changes, twice) in one statement, the
    /// same changes `record` makes one entry at a time. The entries travel as one JSON parameter
    /// (`JSONRecordSet`), so the statement's text is the same for any number of them.
    static func recordTogether(_ entries: [LedgerEntry], now: Date, in db: any SQLConnection) throws {
        var rows = JSONRecordSet()
        for entry in entries {
            switch entry {
            case .skipped(let id, let reason):
                rows.append([
                    "id": .integer(id), "reader": .null, "status": .text(DeliveryStatus.skipped.rawValue),
                    "attempts": .integer(0), "reply": .text(reason), "message": .null, "items": .null,
                    "retry": .null, "bounces": .null, "clears": .bool(false),
                ])
            case .delivery(let record):
                let status: DeliveryStatus
                let reply: String
                var retry: Date?
                var bounces: Int?
                switch record.outcome {
                case .sent(let text): (status, reply) = (.sent, text)
                case .transient(let text): (status, reply, retry) = (.deferred, text, record.retryAt ?? now)
                case .permanent(let text): (status, reply, bounces) = (.failed, text, record.hardBounceLimit)
                }
                rows.append([
                    "id": .integer(record.id), "reader": .integer(record.subscriberID), "status": .text(status.rawValue),
                    "attempts": .integer(Int64(record.attempts)), "reply": .text(reply),
                    "message": .text(record.messageID),
                    "items": status == .sent ? .text(record.itemIDs.map(String.init).joined(separator: ",")) : .null,
                    // Whole microseconds since 1970, as PostgreSQL keeps a timestamp (and the driver rounds one).
                    "retry": retry.map { .integer(Int64(($0.timeIntervalSince1970 * 1e6).rounded())) } ?? .null,
                    "bounces": bounces.map { .integer(Int64($0)) } ?? .null,
                    "clears": .bool(status == .sent && !record.noBouncesToReset),
                ])
            }
        }
        // The outcomes, and the ledger's rows written from them: every group's statement starts with these.
        // The LIMIT is at least the group's size (so never reached): without it the planner takes json_to_recordset
        // for 100 rows and scans `deliveries` and `subscribers` whole to hash-join them (a 12,000-reader send ran
        // at 0.7× the statement-per-entry build); with it each row is reached through its primary key. It is
        // written into the text, rounded up to a power of two (a few texts, each prepared once per connection):
        // as a parameter the server's generic plan guessed 10 rows and it planned the statement every time.
        let limit = 1 << (Int.bitWidth - (max(1, rows.count) - 1).leadingZeroBitCount)
        let outcomes = """
            WITH o AS (
                SELECT * FROM json_to_recordset(?::json) AS o(
                    id bigint, reader bigint, status text, attempts bigint, reply text, message text, items text,
                    retry bigint, bounces bigint, clears boolean)
                LIMIT \(limit)
            )
            """
        let written = """
            UPDATE deliveries d SET status = o.status, attempts = d.attempts + o.attempts, lastReply = o.reply,
                messageID = coalesce(o.message, d.messageID),
                itemIDs = CASE WHEN o.status = 'sent' THEN o.items ELSE d.itemIDs END,
                sentAt = CASE WHEN o.status = 'sent' THEN ?::timestamptz ELSE d.sentAt END,
                nextAttemptAt = CASE o.status
                    WHEN 'sent' THEN NULL
                    WHEN 'deferred' THEN timestamptz 'epoch' + (o.retry / 1000000) * interval '1 second'
                        + (o.retry % 1000000) * interval '1 microsecond'
                    ELSE d.nextAttemptAt END,
                updatedAt = ?, claimedBy = NULL
            FROM o WHERE d.id = o.id
            """
        let arguments: [SQLValue] = [.text(rows.text), now.sqlValue, now.sqlValue]
        // Most groups change no reader (every message sent to a reader with no bounce to reset): the ledger's
        // update alone. The server plans a statement each time it is sent, and planning the whole one below
        // (four more CTEs) cost ~0.30 ms of its CPU against ~0.08 ms for this one (EXPLAIN's planning time,
        // 2026-12-03): at 8 connections and ~3 outcomes a group, more than its execution.
        let changesReaders = entries.contains { entry in
            if case .delivery(let outcome) = entry { Self.changesReader(outcome) } else { false }
        }
        // Both statements return rows (the ids written, or the counts) and are run with `fetchAll`: the
        // PostgreSQL backend keeps a statement run for its rows prepared on each connection, so this one is
        // parsed and planned once per connection rather than once per group (17–31 % of the server's CPU a
        // message at 1 connection in a replay, 2026-12-03); its driver gives no row count for a prepared one.
        guard changesReaders else {
            _ = try db.fetchAll(outcomes + "\n" + written + "\nRETURNING d.id", arguments)
            return
        }
        let reached = hardBounceMarksBounced(bounceCount: "s.bounceCount", status: "s.status", limit: "o.bounces")
        _ = try db.fetchAll(
            outcomes + """
            , written AS (
            \(written)
                RETURNING d.id
            ), cleared AS (
                UPDATE subscribers s SET bounceCount = 0 FROM o
                WHERE o.clears AND s.id = o.reader AND s.bounceCount > 0
                RETURNING s.id
            ), bounced AS (
                UPDATE subscribers s SET bounceCount = s.bounceCount + 1,
                    bouncedAt = CASE WHEN \(reached) THEN ?::timestamptz ELSE s.bouncedAt END,
                    status = CASE WHEN \(reached) THEN 'bounced' ELSE s.status END
                FROM o JOIN subscribers prior ON prior.id = o.reader
                WHERE o.bounces IS NOT NULL AND s.id = o.reader
                RETURNING s.id, prior.status AS oldStatus, s.status AS newStatus
            ), marked AS (
                -- The readers this group marked bounced, in the day's figures (as `countStatusChange` counts).
                INSERT INTO daily_stats (day, bounced, activeChange, bouncedChange)
                SELECT ?, count(*), -count(*), count(*) FROM bounced WHERE oldStatus = 'active' AND newStatus = 'bounced'
                HAVING count(*) > 0
                ON CONFLICT (day) DO UPDATE SET bounced = daily_stats.bounced + excluded.bounced,
                    activeChange = daily_stats.activeChange + excluded.activeChange,
                    bouncedChange = daily_stats.bouncedChange + excluded.bouncedChange
                RETURNING day
            )
            SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM cleared), (SELECT count(*) FROM bounced),
                (SELECT count(*) FROM marked)
            """,
            arguments + [now.sqlValue, .text(statsDay(now))])
    }

    private static func record(_ record: DeliveryOutcome, now: Date, in db: any SQLConnection) throws {
        let (id, attempts, messageID) = (record.id.sqlValue, record.attempts.sqlValue, SQLValue.text(record.messageID))
        switch record.outcome {
        case .sent(let reply):
            try db.execute(
                """
                UPDATE deliveries SET status = 'sent', attempts = attempts + ?, lastReply = ?, messageID = ?,
                    itemIDs = ?, sentAt = ?, updatedAt = ?, nextAttemptAt = NULL, claimedBy = NULL WHERE id = ?
                """,
                attempts, .text(reply), messageID, .text(record.itemIDs.map(String.init).joined(separator: ",")),
                now.sqlValue, now.sqlValue, id)
            if !record.noBouncesToReset {
                try db.execute(
                    "UPDATE subscribers SET bounceCount = 0 WHERE id = ? AND bounceCount > 0", record.subscriberID.sqlValue)
            }
        case .transient(let reason):
            try db.execute(
                """
                UPDATE deliveries SET status = 'deferred', attempts = attempts + ?, lastReply = ?, messageID = ?,
                    nextAttemptAt = ?, updatedAt = ?, claimedBy = NULL WHERE id = ?
                """,
                attempts, .text(reason), messageID, (record.retryAt ?? now).sqlValue, now.sqlValue, id)
        case .permanent(let reason):
            try db.execute(
                """
                UPDATE deliveries SET status = 'failed', attempts = attempts + ?, lastReply = ?, messageID = ?,
                    updatedAt = ?, claimedBy = NULL WHERE id = ?
                """,
                attempts, .text(reason), messageID, now.sqlValue, id)
            guard let bounceLimit = record.hardBounceLimit else { return }
            let status = "SELECT status FROM subscribers WHERE id = ?"
            let before: SubscriberStatus? = try db.fetchValue(status, record.subscriberID.sqlValue)
            try countHardBounce(
                subscriberID: record.subscriberID, limit: bounceLimit, countingReports: false, now: now, in: db)
            let after: SubscriberStatus? = try db.fetchValue(status, record.subscriberID.sqlValue)
            if let before, let after { try countStatusChange(from: before, to: after, at: now, in: db) }
        }
    }

    /// The edition with this id (for workers resolving claimed rows).
    public func edition(id: Int64) throws -> Edition? {
        try database.read { db in
            guard let row = try db.fetchOne("SELECT date, kind FROM editions WHERE id = ?", id.sqlValue) else { return nil }
            return try Self.fetchEdition(db, date: try row["date"], kind: try row["kind"])
        }
    }

    /// Ledger rows, newest first, optionally of one edition date and/or status.
    public func deliveries(date: Day? = nil, status: DeliveryStatus? = nil, limit: Int = 1000) throws -> [DeliveryRecord] {
        try database.read { db in
            var conditions: [String] = []
            var arguments: [SQLValue] = []
            if let date {
                conditions.append("e.date = ?")
                arguments.append(.text(date.description))
            }
            if let status {
                conditions.append("d.status = ?")
                arguments.append(status.sqlValue)
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try db.fetchAll(
                """
                SELECT \(DeliveryRecord.columns)
                FROM deliveries d JOIN editions e ON e.id = d.editionID JOIN subscribers s ON s.id = d.subscriberID
                \(filter) ORDER BY d.id DESC LIMIT ?
                """,
                arguments + [limit.sqlValue]
            ).map(DeliveryRecord.init(row:))
        }
    }

    /// Rows still waiting (queued, deferred or being sent), across all editions.
    public func pendingDeliveryCount() throws -> Int {
        try database.read { db in
            // Two counts, each over its partial index (`deliveries_due`, `deliveries_claimed`), never the ledger.
            try db.fetchValue(
                """
                SELECT (SELECT count(*) FROM deliveries WHERE status IN ('queued', 'deferred'))
                     + (SELECT count(*) FROM deliveries WHERE status = 'sending')
                """) ?? 0
        }
    }
}
