import Foundation

/// Fills `daily_stats` and `edition_stats` from the rows they summarize, for a database that had history
/// before they existed (migration `v7-stats-summaries`) or was filled by other means
/// (`Store.rebuildSummaries`). Written against the columns of v7 only, so the migration stays what it was
/// when later ones add columns.
///
/// The past is read from what the rows still say: a reader's sign-up, confirmation, unsubscription and bounce
/// from their timestamps, and each reader's current status counted as a net change on the day they reached
/// it (so the net changes still add up to today's counts; earlier status changes left no trace). Reports by
/// the day they were received; each edition's outcome from its ledger rows (one pass over the ledger).
enum StatsBackfill {
    static func run(_ db: any SQLConnection) throws {
        let postgres = db.dialect == .postgres
        func day(_ column: String) -> String {
            postgres ? "to_char((\(column)) AT TIME ZONE 'UTC', 'YYYY-MM-DD')" : "substr(\(column), 1, 10)"
        }
        let daily: [(column: String, table: String, day: String, condition: String)] = [
            ("signups", "subscribers", "createdAt", "true"),
            ("confirmations", "subscribers", "confirmedAt", "confirmedAt IS NOT NULL"),
            ("unsubscribes", "subscribers", "unsubscribedAt", "status = 'unsubscribed' AND unsubscribedAt IS NOT NULL"),
            ("bounced", "subscribers", "bouncedAt", "status = 'bounced' AND bouncedAt IS NOT NULL"),
            ("pendingChange", "subscribers", "createdAt", "status = 'pending'"),
            ("activeChange", "subscribers", "coalesce(confirmedAt, createdAt)", "status = 'active'"),
            ("unsubscribedChange", "subscribers", "coalesce(unsubscribedAt, createdAt)", "status = 'unsubscribed'"),
            ("bouncedChange", "subscribers", "coalesce(bouncedAt, confirmedAt, createdAt)", "status = 'bounced'"),
            ("hardBounces", "bounce_events", "receivedAt", "kind = 'hard'"),
            ("softBounces", "bounce_events", "receivedAt", "kind = 'soft'"),
            ("otherBounces", "bounce_events", "receivedAt", "kind = 'failed'"),
            ("complaints", "bounce_events", "receivedAt", "kind = 'complaint'"),
        ]
        for (column, table, instant, condition) in daily {
            // SQLite reads `ON CONFLICT` after a SELECT's FROM as a join's ON unless a WHERE comes between.
            try db.execute(
                """
                INSERT INTO daily_stats (day, \(column))
                SELECT d, count(*) FROM (SELECT \(day(instant)) AS d FROM \(table) WHERE \(condition)) t
                WHERE true GROUP BY d
                ON CONFLICT (day) DO UPDATE SET \(column) = daily_stats.\(column) + excluded.\(column)
                """)
        }
        let now = postgres ? "now()" : "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        func sum(_ condition: String) -> String { "sum(CASE WHEN \(condition) THEN 1 ELSE 0 END)" }
        try db.execute(
            """
            INSERT INTO edition_stats (editionID, recipients, queued, sent, deferred, failed, skipped, updatedAt)
            SELECT editionID, count(*), \(sum("status IN ('queued', 'sending')")), \(sum("status = 'sent'")),
                \(sum("status = 'deferred'")), \(sum("status = 'failed'")), \(sum("status = 'skipped'")), \(now)
            FROM deliveries WHERE true GROUP BY editionID
            """)
        try db.execute(
            """
            INSERT INTO edition_stats (editionID, hardBounces, softBounces, otherBounces, complaints, updatedAt)
            SELECT d.editionID, \(sum("b.kind = 'hard'")), \(sum("b.kind = 'soft'")), \(sum("b.kind = 'failed'")),
                \(sum("b.kind = 'complaint'")), \(now)
            FROM bounce_events b JOIN deliveries d ON d.id = b.deliveryID WHERE true GROUP BY d.editionID
            ON CONFLICT (editionID) DO UPDATE SET hardBounces = excluded.hardBounces,
                softBounces = excluded.softBounces, otherBounces = excluded.otherBounces,
                complaints = excluded.complaints
            """)
        // The replies of the rows not sent, grouped in Swift as run reports group them.
        var outcomes: [Int64: EditionOutcome] = [:]
        for row in try db.fetchAll(
            """
            SELECT editionID, status, lastReply, count(*) AS total FROM deliveries
            WHERE status IN ('deferred', 'failed', 'skipped') GROUP BY editionID, status, lastReply
            """)
        {
            outcomes[try row["editionID"], default: EditionOutcome()]
                .add(status: try row["status"], reply: try row["lastReply"], count: try row["total"])
        }
        for (id, outcome) in outcomes {
            try db.execute(
                "UPDATE edition_stats SET deferredReasons = ?, failedReasons = ?, skippedReasons = ? WHERE editionID = ?",
                .text(EditionOutcome.json(outcome.deferredReasons)), .text(EditionOutcome.json(outcome.failedReasons)),
                .text(EditionOutcome.json(outcome.skippedReasons)), id.sqlValue)
        }
    }
}
