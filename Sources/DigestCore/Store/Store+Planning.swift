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
        let since = latestDue.adding(days: -lookback)
        return try database.read { db in
            try db.fetchAll(
                """
                SELECT \(Subscriber.columns("s")), \(Self.historyColumns)
                FROM subscribers s
                WHERE s.status || '' = 'active' AND s.id > ?
                  AND coalesce(s.timeZone, ?) = ? AND coalesce(s.deliveryHour, ?) = ?
                  AND NOT EXISTS (
                      SELECT 1 FROM deliveries d JOIN editions e ON e.id = d.editionID
                      WHERE d.subscriberID = s.id AND e.date >= ? AND d.status <> 'superseded')
                ORDER BY s.id LIMIT ?
                """,
                [since.sqlValue, since.sqlValue, since.sqlValue, afterID.sqlValue, .text(siteZone), .text(group.timeZone),
                 sendHour.sqlValue, group.hour.sqlValue, latestDue.sqlValue, limit.sqlValue]
            ).map { row in PlanningReader(subscriber: try Subscriber(row: row), history: try Self.history(row)) }
        }
    }

    /// What the ledger holds for one reader over the `lookback` days before `date` (for `preview`).
    public func history(of subscriberID: Int64, before date: Day, lookback: Int) throws -> ReaderSchedule.History {
        let since = date.adding(days: -lookback)
        return try database.read { db in
            guard
                let row = try db.fetchOne(
                    "SELECT \(Self.historyColumns) FROM subscribers s WHERE s.id = ?",
                    since.sqlValue, since.sqlValue, since.sqlValue, subscriberID.sqlValue)
            else { return .none }
            return try Self.history(row)
        }
    }

    /// A reader's history as three columns of a query on `subscribers s` (three `?`: the first day to look at):
    /// the newest day they have a row for, their last settled edition (`date kind`), and the first day whose
    /// row did not go out.
    private static let historyColumns = """
        (SELECT max(e.date) FROM deliveries d JOIN editions e ON e.id = d.editionID
         WHERE d.subscriberID = s.id AND d.status <> 'superseded' AND e.date >= ?) AS latestDate,
        (SELECT e.date || ' ' || e.kind FROM deliveries d JOIN editions e ON e.id = d.editionID
         WHERE d.subscriberID = s.id AND d.status IN ('sent', 'skipped', 'failed') AND e.date >= ?
         ORDER BY e.date DESC LIMIT 1) AS lastSettled,
        (SELECT min(e.date) FROM deliveries d JOIN editions e ON e.id = d.editionID
         WHERE d.subscriberID = s.id AND d.status IN ('queued', 'deferred', 'superseded') AND e.date >= ?)
            AS firstMissed
        """

    private static func history(_ row: SQLRow) throws -> ReaderSchedule.History {
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
        return history
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
                      AND NOT EXISTS (
                          SELECT 1 FROM deliveries d JOIN editions e ON e.id = d.editionID
                          WHERE d.subscriberID = s.id AND e.date >= ? AND d.status <> 'superseded')
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
