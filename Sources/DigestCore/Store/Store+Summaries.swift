import Foundation

/// A change to one UTC day's counters in `daily_stats`, made by the code that changes what they count and
/// written in its transaction (`Store.count`), so the admin figures never count the readers or the ledger.
struct DailyCounts: Sendable, Equatable {
    /// The columns of `daily_stats` (after `day`).
    enum Column: String, CaseIterable, Sendable {
        case signups, confirmations, unsubscribes, bounced, reactivated, removed
        case hardBounces, softBounces, otherBounces, complaints
        case pendingChange, activeChange, unsubscribedChange, bouncedChange

        /// The net change column of `status` (a new status needs a migration that adds its column).
        static func change(_ status: SubscriberStatus) -> Column {
            switch status {
            case .pending: .pendingChange
            case .active: .activeChange
            case .unsubscribed: .unsubscribedChange
            case .bounced: .bouncedChange
            }
        }
    }

    private(set) var amounts: [Column: Int] = [:]

    var isEmpty: Bool { amounts.values.allSatisfy { $0 == 0 } }

    mutating func add(_ column: Column, _ amount: Int = 1) { amounts[column, default: 0] += amount }

    /// A reader went from `old` to `new` (nil: not on the list, before being added or after being removed).
    /// Every status change of every reader comes through here, so each status's net changes add up to its
    /// count of readers; the events are what the list-growth chart shows.
    mutating func statusChanged(from old: SubscriberStatus?, to new: SubscriberStatus?) {
        guard old != new else { return }
        if let old { add(.change(old), -1) }
        if let new { add(.change(new)) }
        switch (old, new) {
        case (.pending?, .active?): add(.confirmations)
        case (.bounced?, .active?): add(.reactivated)
        case (_, .pending?), (nil, .active?), (.unsubscribed?, .active?): add(.signups)
        case (_, .unsubscribed?): add(.unsubscribes)
        case (_, .bounced?): add(.bounced)
        case (_, nil): add(.removed)
        default: break
        }
    }

    /// A bounce or complaint report about a reader was received.
    mutating func reportReceived(_ kind: BounceReport.Kind) {
        switch kind {
        case .hard: add(.hardBounces)
        case .soft: add(.softBounces)
        case .failed: add(.otherBounces)
        case .complaint: add(.complaints)
        }
    }
}

extension Store {
    /// The UTC day `now` falls on, as `daily_stats` keys it.
    static func statsDay(_ now: Date) -> String { Day(now, in: utc).description }

    static let utc = TimeZone(identifier: "UTC")!

    /// Adds `counts` to the row of `now`'s UTC day: the one writer of `daily_stats`, for both dialects (an
    /// upsert: the first change of a day makes its row).
    static func count(_ counts: DailyCounts, at now: Date, in db: any SQLConnection) throws {
        let changed = counts.amounts.filter { $0.value != 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
        guard !changed.isEmpty else { return }
        let names = changed.map(\.key.rawValue)
        try db.execute(
            """
            INSERT INTO daily_stats (day, \(names.joined(separator: ", "))) VALUES (?, \(sqlPlaceholders(names.count)))
            ON CONFLICT (day) DO UPDATE SET \(names.map { "\($0) = daily_stats.\($0) + excluded.\($0)" }.joined(separator: ", "))
            """, [.text(statsDay(now))] + changed.map { $0.value.sqlValue })
    }

    /// Counts one reader's status change (see `DailyCounts.statusChanged`).
    static func countStatusChange(
        from old: SubscriberStatus?, to new: SubscriberStatus?, at now: Date, in db: any SQLConnection
    ) throws {
        var counts = DailyCounts()
        counts.statusChanged(from: old, to: new)
        try count(counts, at: now, in: db)
    }

    /// A bounce or complaint report about delivery `deliveryID` adds to its edition's row of `edition_stats`
    /// (made if the edition has none yet; the run's refresh leaves these counts alone).
    static func countEditionReport(_ kind: BounceReport.Kind, deliveryID: Int64, now: Date, in db: any SQLConnection)
        throws
    {
        let column = EditionStats.reportColumn(kind)
        try db.execute(
            """
            INSERT INTO edition_stats (editionID, \(column), updatedAt)
            SELECT editionID, 1, ? FROM deliveries WHERE id = ?
            ON CONFLICT (editionID) DO UPDATE SET \(column) = edition_stats.\(column) + 1
            """, now.sqlValue, deliveryID.sqlValue)
    }

    /// Writes the ledger's outcome of the editions dated `dates`, and of every edition whose last summary still
    /// had rows to send (their deferred rows may have been retried or given up since), from their rows: one
    /// GROUP BY over one edition's rows each (reached through the ledger's (edition, subscriber) key). The end
    /// of every run calls it; the bounce and complaint counts are left as they are (they are counted as
    /// reports arrive).
    static func refreshEditionStats(dates: [String], now: Date, in db: any SQLConnection) throws {
        var ids: [Int64] = []
        if !dates.isEmpty {
            ids = try db.fetchColumn(
                "SELECT id FROM editions WHERE date IN (\(sqlPlaceholders(dates.count)))", dates.map(\.sqlValue))
        }
        let open: [Int64] = try db.fetchColumn("SELECT editionID FROM edition_stats WHERE queued > 0 OR deferred > 0")
        for id in Set(ids + open).sorted() {
            let rows = try db.fetchAll(
                """
                SELECT status, CASE WHEN status IN ('deferred', 'failed', 'skipped') THEN lastReply END AS reply,
                    count(*) AS total
                FROM deliveries WHERE editionID = ? GROUP BY status, reply
                """, id.sqlValue)
            var outcome = EditionOutcome()
            for row in rows { outcome.add(status: try row["status"], reply: try row["reply"], count: try row["total"]) }
            try outcome.write(editionID: id, now: now, in: db)
        }
    }

    /// Empties the summary rows and computes them again from the rows they summarize, as the migration that
    /// made them did (`StatsBackfill`): for a database filled by other means (a bulk load, `digest-bench`).
    public func rebuildSummaries() throws {
        try database.write { db in
            try db.execute("DELETE FROM daily_stats")
            try db.execute("DELETE FROM edition_stats")
            try StatsBackfill.run(db)
        }
    }
}

/// One edition's outcome as its ledger rows give it: counts by status, and the replies of the rows not sent,
/// grouped as run reports group them (`ReplyText.grouped`).
struct EditionOutcome: Sendable {
    var recipients = 0
    var queued = 0
    var sent = 0
    var deferred = 0
    var failed = 0
    var skipped = 0
    var deferredReasons: [String: Int] = [:]
    var failedReasons: [String: Int] = [:]
    var skippedReasons: [String: Int] = [:]

    /// `count` rows of `status` whose reply was `reply`.
    mutating func add(status: String, reply: String?, count: Int) {
        recipients += count
        let reason = ReplyText.grouped(reply ?? "-")
        switch DeliveryStatus(rawValue: status) {
        case .queued?, .sending?: queued += count
        case .sent?: sent += count
        case .deferred?:
            deferred += count
            deferredReasons[reason, default: 0] += count
        case .failed?:
            failed += count
            failedReasons[reason, default: 0] += count
        case .skipped?, .superseded?:
            // A superseded row is one the reader got a newer edition for instead: not sent, like a skip.
            skipped += count
            skippedReasons[reason, default: 0] += count
        case nil: break
        }
    }

    /// Stores this outcome as edition `editionID`'s row, keeping its report counts.
    func write(editionID: Int64, now: Date, in db: any SQLConnection) throws {
        try db.execute(
            """
            INSERT INTO edition_stats (editionID, recipients, queued, sent, deferred, failed, skipped,
                deferredReasons, failedReasons, skippedReasons, updatedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (editionID) DO UPDATE SET recipients = excluded.recipients, queued = excluded.queued,
                sent = excluded.sent, deferred = excluded.deferred, failed = excluded.failed,
                skipped = excluded.skipped, deferredReasons = excluded.deferredReasons,
                failedReasons = excluded.failedReasons, skippedReasons = excluded.skippedReasons,
                updatedAt = excluded.updatedAt
            """,
            editionID.sqlValue, recipients.sqlValue, queued.sqlValue, sent.sqlValue, deferred.sqlValue, failed.sqlValue,
            skipped.sqlValue, .text(Self.json(deferredReasons)), .text(Self.json(failedReasons)),
            .text(Self.json(skippedReasons)), now.sqlValue)
    }

    /// At most the 20 most frequent reasons are kept; the rest add up under "other reasons".
    static let keptReasons = 20

    static func json(_ reasons: [String: Int]) -> String {
        var kept = reasons
        if reasons.count > keptReasons {
            let sorted = reasons.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            kept = Dictionary(uniqueKeysWithValues: sorted.prefix(keptReasons - 1).map { ($0.key, $0.value) })
            kept["other reasons", default: 0] += sorted.dropFirst(keptReasons - 1).reduce(0) { $0 + $1.value }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(kept)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
