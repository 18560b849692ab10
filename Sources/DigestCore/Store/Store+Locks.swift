import Foundation

/// Who holds a lease.
public struct LockHolder: Sendable, Equatable, CustomStringConvertible {
    public var owner: String
    public var pid: Int32
    public var host: String
    /// By the clock that judges leases (`SQLDialect.leaseTime`): PostgreSQL's own on a shared store.
    public var expiresAt: Date
    public var description: String { "pid \(pid) on \(host)" }
}

/// Leases are judged by the database's clock (`SQLDialect.leaseTime`): on PostgreSQL every expiry is
/// written and compared as `clock_timestamp()` in the statement itself, so a worker whose clock runs ahead
/// cannot take a live holder's lease and one whose clock runs behind cannot hold a dead one. `now` is this
/// process's clock, which decides only on SQLite (one machine; tests pass their own).
extension Store {
    /// Takes the lease `name` for `owner` unless a live holder has it. A holder whose lease
    /// expired, or whose process is gone from this host, is replaced. The holder's row is read
    /// under a row lock (SQLite serializes its writers anyway), so two runs racing here cannot both win.
    public func acquireLock(
        _ name: String, owner: String, pid: Int32, host: String, lease: TimeInterval, now: Date,
        isAlive: (Int32) -> Bool
    ) throws -> LockHolder? {
        try database.write { db in
            let current = db.dialect.leaseTime(now)
            // Two first takers on PostgreSQL: the second insert waits for the first, then finds its row.
            try db.execute(
                "INSERT INTO locks (name, owner, pid, host, expiresAt) VALUES (?, '', 0, '', ?) ON CONFLICT (name) DO NOTHING",
                .text(name), Date.distantPast.sqlValue)
            let row = try db.fetchOne(
                """
                SELECT owner, pid, host, expiresAt, CASE WHEN expiresAt <= \(current.sql) THEN 1 ELSE 0 END AS expired
                FROM locks WHERE name = ?\(db.dialect.forUpdate)
                """,
                current.arguments + [.text(name)])
            if let row {
                let holder = LockHolder(
                    owner: try row["owner"], pid: try row["pid"], host: try row["host"], expiresAt: try row["expiresAt"])
                let stale = try row["expired"] || (holder.host == host && !isAlive(holder.pid))
                if holder.owner != owner && !holder.owner.isEmpty && !stale { return holder }
            }
            let expiry = db.dialect.leaseTime(now, plus: lease)
            try db.execute(
                "UPDATE locks SET owner = ?, pid = ?, host = ?, expiresAt = \(expiry.sql) WHERE name = ?",
                [.text(owner), pid.sqlValue, .text(host)] + expiry.arguments + [.text(name)])
            return nil
        }
    }

    /// Extends a held lease to `lease` from the database's now; false if someone else took it meanwhile.
    public func renewLock(_ name: String, owner: String, lease: TimeInterval, now: Date) throws -> Bool {
        try database.write { db in
            let expiry = db.dialect.leaseTime(now, plus: lease)
            return try db.execute(
                "UPDATE locks SET expiresAt = \(expiry.sql) WHERE name = ? AND owner = ?",
                expiry.arguments + [.text(name), .text(owner)]) > 0
        }
    }

    public func releaseLock(_ name: String, owner: String) throws {
        try database.write { db in
            try db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", .text(name), .text(owner))
        }
    }
}
