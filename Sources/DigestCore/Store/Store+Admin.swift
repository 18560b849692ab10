import Foundation

extension Store {
    // MARK: Sessions

    /// Stores a new admin session and `audit` (the sign-in) in one transaction, first forgetting every
    /// session that has expired at `now`.
    public func createAdminSession(_ session: AdminSession, now: Date, audit: AuditEntry? = nil) throws {
        try database.write { db in
            try db.execute("DELETE FROM admin_sessions WHERE expiresAt <= ?", now.sqlValue)
            try db.execute(
                "INSERT INTO admin_sessions (idHash, createdAt, expiresAt, clientAddress) VALUES (?, ?, ?, ?)",
                .text(session.idHash), session.createdAt.sqlValue, session.expiresAt.sqlValue,
                .text(session.clientAddress))
            if let audit { try Self.insertAudit(audit, in: db) }
        }
    }

    /// The session whose id hashes to `idHash`, when it exists and has not expired at `now`.
    public func adminSession(idHash: String, now: Date) throws -> AdminSession? {
        try database.readStatement { db in
            try db.fetchOne(
                """
                SELECT idHash, createdAt, expiresAt, clientAddress FROM admin_sessions
                WHERE idHash = ? AND expiresAt > ?
                """, .text(idHash), now.sqlValue
            ).map { row in
                AdminSession(
                    idHash: try row["idHash"], createdAt: try row["createdAt"], expiresAt: try row["expiresAt"],
                    clientAddress: try row["clientAddress"])
            }
        }
    }

    /// Ends the session (sign-out) and writes `audit` in the same transaction; false when there was no
    /// such session (already ended or expired and pruned).
    @discardableResult
    public func endAdminSession(idHash: String, audit: AuditEntry? = nil) throws -> Bool {
        try database.write { db in
            let ended = try db.execute("DELETE FROM admin_sessions WHERE idHash = ?", .text(idHash)) > 0
            if let audit { try Self.insertAudit(audit, in: db) }
            return ended
        }
    }

    /// Sessions that have not expired at `now` (for the health page and tests).
    public func adminSessionCount(now: Date) throws -> Int {
        try database.readStatement { db in
            try db.fetchValue("SELECT count(*) FROM admin_sessions WHERE expiresAt > ?", now.sqlValue) ?? 0
        }
    }

    // MARK: Audit

    /// Writes one audit row on its own; returns its id. Actions that change something write theirs inside
    /// their own transaction instead (`insertAudit(_:in:)`), so that the change and its record stand or
    /// fall together.
    @discardableResult
    public func recordAudit(_ entry: AuditEntry) throws -> Int64 {
        try database.write { db in try Self.insertAudit(entry, in: db) }
    }

    /// Writes `entry` inside the caller's transaction (a store action's `database.write { db in … }`),
    /// so the audit row commits with the action or not at all; returns its id.
    @discardableResult
    static func insertAudit(_ entry: AuditEntry, in db: any SQLConnection) throws -> Int64 {
        try db.fetchValue(
            """
            INSERT INTO admin_audit (at, action, subscriberID, subscriberEmail, detail, actor, clientAddress)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            entry.at.sqlValue, .text(entry.action), entry.subscriberID.sqlValue, entry.subscriberEmail.sqlValue,
            .text(entry.detail), .text(entry.actor), .text(entry.clientAddress)) ?? 0
    }

    /// Audit rows, newest first (by id: the order they were written), `limit` of them after skipping
    /// `offset`; with `subscriberID`, only the rows about that reader.
    public func auditLog(limit: Int = 50, offset: Int = 0, subscriberID: Int64? = nil) throws -> [AuditEntry] {
        try database.readStatement { db in
            let filter = subscriberID == nil ? "" : "WHERE subscriberID = ? "
            return try db.fetchAll(
                """
                SELECT id, at, action, subscriberID, subscriberEmail, detail, actor, clientAddress FROM admin_audit
                \(filter)ORDER BY id DESC LIMIT ? OFFSET ?
                """, (subscriberID.map { [$0.sqlValue] } ?? []) + [limit.sqlValue, offset.sqlValue]
            ).map { row in
                AuditEntry(
                    id: try row["id"], at: try row["at"], action: try row["action"],
                    subscriberID: try row["subscriberID"], subscriberEmail: try row["subscriberEmail"],
                    detail: try row["detail"], actor: try row["actor"], clientAddress: try row["clientAddress"])
            }
        }
    }

    /// How many audit rows there are (for paging).
    public func auditCount() throws -> Int {
        try database.readStatement { db in try db.fetchValue("SELECT count(*) FROM admin_audit") ?? 0 }
    }
}
