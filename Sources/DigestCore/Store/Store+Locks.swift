import Foundation

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
    /// expired, or whose process is gone from this host, is replaced. The holder's row is read
    /// under a row lock (SQLite serializes its writers anyway), so two runs racing here cannot both win.
    public func acquireLock(
        _ name: String, owner: String, pid: Int32, host: String, lease: TimeInterval, now: Date,
        isAlive: (Int32) -> Bool
    ) throws -> LockHolder? {
        try database.write { db in
            // Two first takers on PostgreSQL: the second insert waits for the first, then finds its row.
            try db.execute(
                "INSERT INTO locks (name, owner, pid, host, expiresAt) VALUES (?, '', 0, '', ?) ON CONFLICT (name) DO NOTHING",
                .text(name), Date.distantPast.sqlValue)
            let row = try db.fetchOne(
                "SELECT owner, pid, host, expiresAt FROM locks WHERE name = ?\(db.dialect.forUpdate)", .text(name))
            if let row {
                let holder = LockHolder(owner: try row[0], pid: try row[1], host: try row[2], expiresAt: try row[3])
                let stale = holder.expiresAt <= now || (holder.host == host && !isAlive(holder.pid))
                if holder.owner != owner && !holder.owner.isEmpty && !stale { return holder }
            }
            try db.execute(
                "UPDATE locks SET owner = ?, pid = ?, host = ?, expiresAt = ? WHERE name = ?",
                .text(owner), pid.sqlValue, .text(host), now.addingTimeInterval(lease).sqlValue, .text(name))
            return nil
        }
    }

    /// Extends a held lease; false if someone else took it meanwhile.
    public func renewLock(_ name: String, owner: String, lease: TimeInterval, now: Date) throws -> Bool {
        try database.write { db in
            try db.execute(
                "UPDATE locks SET expiresAt = ? WHERE name = ? AND owner = ?",
                now.addingTimeInterval(lease).sqlValue, .text(name), .text(owner)) > 0
        }
    }

    public func releaseLock(_ name: String, owner: String) throws {
        try database.write { db in
            try db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", .text(name), .text(owner))
        }
    }
}
