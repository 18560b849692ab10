import Foundation

extension Store {
    /// Starts a run report; returns its id.
    public func startRun(command: String, now: Date) throws -> Int64 {
        try database.write { db in
            try db.fetchValue("INSERT INTO runs (startedAt, command) VALUES (?, ?) RETURNING id", now.sqlValue, .text(command))
                ?? 0
        }
    }

    /// Stores the run's report, and writes the outcome of the editions it sent and of those it may have
    /// retried (`refreshEditionStats`) in the same transaction.
    public func finishRun(id: Int64, summary: RunSummary, exitStatus: Int32, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(summary), as: UTF8.self)
        try database.write { db in
            try db.execute(
                "UPDATE runs SET finishedAt = ?, summary = ?, exitStatus = ? WHERE id = ?",
                now.sqlValue, .text(json), exitStatus.sqlValue, id.sqlValue)
            // "2026-11-24" or "2026-11-24 weekly": every edition of those days is refreshed.
            try Self.refreshEditionStats(dates: summary.editions.map { String($0.prefix(10)) }, now: now, in: db)
        }
    }

    /// Past runs, newest first.
    public func runs(limit: Int = 50) throws -> [RunReport] {
        try database.read { db in
            try db.fetchAll(
                "SELECT id, command, startedAt, finishedAt, exitStatus, summary FROM runs ORDER BY id DESC LIMIT ?",
                limit.sqlValue
            ).map(Self.runReport(row:))
        }
    }
}
