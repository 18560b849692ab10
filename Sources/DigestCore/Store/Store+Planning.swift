import Foundation

/// A reader the plan stage considers, with what the ledger holds for them.
public struct PlanningReader: Sendable {
    public var subscriber: Subscriber
    public var history: ReaderSchedule.History
}

extension Store {
    /// Active readers of one (time zone, delivery hour) group, defaults applied, who have no ledger row of an
    /// edition of `latestDue` or later (the latest day any of them can be due now), `limit` at a time after
    /// `afterID`, with their history (`ReaderSchedule.History`) over the `lookback` days before `latestDue`.
    /// Pages walk the primary key: `status || ''` keeps SQLite off `subscribers_by_status`, through which every
    /// page sorted the whole group again (100 pages of 1,000 readers read the group 100 times: 10× slower).
    public func readersToPlan(
        group: (timeZone: String, hour: Int), siteZone: String, sendHour: Int, latestDue: Day, lookback: Int,
        afterID: Int64, limit: Int
    ) throws -> [PlanningReader] {
        try database.read { db in
            let readers = try db.fetchAll(
                """
                SELECT \(Subscriber.columns("s")) FROM subscribers s
                WHERE s.status || '' = 'active' AND s.id > ?
                  AND coalesce(s.timeZone, ?) = ? AND coalesce(s.deliveryHour, ?) = ?
                  AND NOT EXISTS (\(Self.hasEditionFrom))
                ORDER BY s.id LIMIT ?
                """,
                afterID.sqlValue, .text(siteZone), .text(group.timeZone), sendHour.sqlValue, group.hour.sqlValue,
                latestDue.sqlValue, limit.sqlValue
            ).map(Subscriber.init(row:))
            let histories = try Self.histories(db, of: readers.compactMap(\.id), since: latestDue.adding(days: -lookback))
            return readers.map { PlanningReader(subscriber: $0, history: histories[$0.id!] ?? .none) }
        }
    }

    /// What the ledger holds for one reader over the `lookback` days before `date` (for `preview`).
    public func history(of subscriberID: Int64, before date: Day, lookback: Int) throws -> ReaderSchedule.History {
        try database.read { db in
            try Self.histories(db, of: [subscriberID], since: date.adding(days: -lookback))[subscriberID] ?? .none
        }
    }

    /// "Reader `s` has a row (not superseded) of an edition of this day (`?`) or later": a few index seeks on
    /// (subscriberID, editionID) for the handful of editions that recent, where a join of the reader's rows
    /// with their editions read every row they have (1.7 s an hour for 100,000 readers with 30 nights each).
    static let hasEditionFrom = """
        SELECT 1 FROM deliveries d WHERE d.subscriberID = s.id AND d.status <> 'superseded'
          AND d.editionID IN (SELECT id FROM editions WHERE date >= ?)
        """

    /// The histories of `subscriberIDs` from their rows of editions since `since`, in one pass over each
    /// reader's recent rows (an edition of `since` or later has an id at least the first such edition's, so the
    /// index range starts there: a reader of two years is not read whole every night): the newest day with a row, the last settled edition (`date kind`: one edition a day per
    /// reader, so the day orders them), and the first day whose row did not go out.
    private static func histories(
        _ db: any SQLConnection, of subscriberIDs: [Int64], since: Day
    ) throws -> [Int64: ReaderSchedule.History] {
        guard !subscriberIDs.isEmpty else { return [:] }
        let rows = try db.fetchAll(
            """
            SELECT d.subscriberID,
                max(CASE WHEN d.status <> 'superseded' THEN e.date END) AS latestDate,
                max(CASE WHEN d.status IN ('sent', 'skipped', 'failed') THEN e.date || ' ' || e.kind END) AS lastSettled,
                min(CASE WHEN d.status IN ('queued', 'deferred', 'superseded') THEN e.date END) AS firstMissed
            FROM deliveries d JOIN editions e ON e.id = d.editionID
            WHERE d.subscriberID IN (\(sqlPlaceholders(subscriberIDs.count)))
              AND d.editionID >= (SELECT coalesce(min(id), 0) FROM editions WHERE date >= ?) AND e.date >= ?
            GROUP BY d.subscriberID
            """,
            subscriberIDs.map(\.sqlValue) + [since.sqlValue, since.sqlValue])
        var histories: [Int64: ReaderSchedule.History] = [:]
        for row in rows {
            var history = ReaderSchedule.History(latest: try row["latestDate"])
            if let settled: String = try row["lastSettled"] {
                let parts = settled.split(separator: " ", maxSplits: 1).map(String.init)
                if parts.count == 2, let date = Day(parts[0]), let kind = EditionKind(rawValue: parts[1]) {
                    history.lastSettled = .init(date: date, kind: kind)
                }
            }
            // An unsent row older than the last settled edition is no gap: only what came after it counts.
            if let missed: Day = try row["firstMissed"], history.lastSettled.map({ missed > $0.date }) ?? true {
                history.firstMissed = missed
            }
            histories[try row["subscriberID"]] = history
        }
        return histories
    }

    /// Queues `edition` for `subscriberIDs` (each still active, with no row of this day or later), and marks
    /// their rows of earlier editions that have not gone out (queued or deferred) `superseded`: after an outage
    /// a reader gets the newest edition, not every one they missed. `coversSince` is a catch-up's start (the
    /// day of the reader's last edition). Returns how many were queued. Insert-or-ignore, in reader order:
    /// cooperating senders planning at the same moment queue each reader once and cannot deadlock.
    @discardableResult
    public func queueDeliveries(
        edition: Edition, subscriberIDs: [Int64], coversSince: Day?, now: Date
    ) throws -> Int {
        guard let editionID = edition.id, !subscriberIDs.isEmpty else { return 0 }
        let ids = subscriberIDs.sorted()
        return try database.write { db in
            var queued = 0
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                let inserted: [Int64] = try db.fetchColumn(
                    """
                    INSERT INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt, coversSince)
                    SELECT ?, s.id, 'queued', '', ?, ?, ? FROM subscribers s
                    WHERE s.id IN (\(sqlPlaceholders(chunk.count))) AND s.status = 'active'
                      AND NOT EXISTS (\(Self.hasEditionFrom))
                    ORDER BY s.id
                    ON CONFLICT DO NOTHING
                    RETURNING subscriberID
                    """,
                    [editionID.sqlValue, now.sqlValue, now.sqlValue, coversSince.sqlValue] + chunk.map(\.sqlValue)
                        + [edition.date.sqlValue])
                queued += inserted.count
                guard !inserted.isEmpty else { continue }
                try db.execute(
                    """
                    UPDATE deliveries SET status = 'superseded', nextAttemptAt = NULL, updatedAt = ?,
                        lastReply = ? || coalesce(': ' || lastReply, '')
                    WHERE subscriberID IN (\(sqlPlaceholders(inserted.count))) AND status IN ('queued', 'deferred')
                      AND editionID IN (SELECT id FROM editions WHERE date < ?)
                    """,
                    [now.sqlValue, .text("superseded by the \(edition.kind.rawValue) edition of \(edition.date)")]
                        + inserted.map(\.sqlValue) + [edition.date.sqlValue])
            }
            return queued
        }
    }
}
