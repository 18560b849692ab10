import Foundation
import GRDB

/// Who holds a lease.
public struct LockHolder: Sendable, Equatable, CustomStringConvertible {
    public var owner: String
    public var pid: Int32
    public var host: String
    public var expiresAt: Date
    public var description: String { "pid \(pid) on \(host)" }
}

extension Store {
    /// Takes the lease `name` for `owner` unless a live holder has it. A holder whose lease
    /// expired, or whose process is gone from this host, is replaced. SQLite serializes the
    /// write transactions, so two runs racing here cannot both win.
    public func acquireLock(
        _ name: String, owner: String, pid: Int32, host: String, lease: TimeInterval, now: Date,
        isAlive: (Int32) -> Bool
    ) throws -> LockHolder? {
        try pool.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM locks WHERE name = ?", arguments: [name]) {
                let holder = LockHolder(owner: row["owner"], pid: row["pid"], host: row["host"], expiresAt: row["expiresAt"])
                let stale = holder.expiresAt <= now || (holder.host == host && !isAlive(holder.pid))
                if holder.owner != owner && !stale { return holder }
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO locks (name, owner, pid, host, expiresAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, owner, pid, host, now.addingTimeInterval(lease)])
            return nil
        }
    }

    /// Extends a held lease; false if someone else took it meanwhile.
    public func renewLock(_ name: String, owner: String, lease: TimeInterval, now: Date) throws -> Bool {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE locks SET expiresAt = ? WHERE name = ? AND owner = ?",
                arguments: [now.addingTimeInterval(lease), name, owner])
            return db.changesCount > 0
        }
    }

    public func releaseLock(_ name: String, owner: String) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM locks WHERE name = ? AND owner = ?", arguments: [name, owner])
        }
    }
}
