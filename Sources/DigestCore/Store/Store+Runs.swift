import Foundation
import GRDB

extension Store {
    /// Starts a run report; returns its id.
    public func startRun(command: String, now: Date) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO runs (startedAt, command) VALUES (?, ?)", arguments: [now, command])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(id: Int64, summary: RunSummary, exitStatus: Int32, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(summary), as: UTF8.self)
        try pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET finishedAt = ?, summary = ?, exitStatus = ? WHERE id = ?",
                arguments: [now, json, exitStatus, id])
        }
    }

    /// Past runs, newest first.
    public func runs(limit: Int = 50) throws -> [RunReport] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                let text: String = row["summary"]
                return RunReport(
                    id: row["id"], command: row["command"], startedAt: row["startedAt"], finishedAt: row["finishedAt"],
                    exitStatus: row["exitStatus"],
                    summary: try? JSONDecoder().decode(RunSummary.self, from: Data(text.utf8)))
            }
        }
    }
}
