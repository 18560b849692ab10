import Foundation

/// Moves a whole installation from one store to another (SQLite to PostgreSQL when a site outgrows one
/// machine, and back): every table, ids kept, in one transaction on the target, then counted again.
///
/// The target must be empty (freshly migrated): a copy never merges into data it could overwrite. The
/// source is read in one snapshot, so it may stay online; what it records after the snapshot is not copied
/// (stop cron and `digest serve` for the switch).
public struct StoreCopy {
    /// Every table, parents before the tables that refer to them.
    static let tables = [
        "items", "subscribers", "editions", "edition_items", "deliveries", "runs", "locks", "feed_state",
        "used_challenges", "bounce_events", "outbox", "daily_stats", "edition_stats", "admin_sessions", "admin_audit",
        "digest_votes", "clicks", "reader_clicks",
        "inbound_messages",
    ]

    /// Rows read and written per statement.
    static let pageSize = 500

    /// How many rows each table held in the source and holds now in the target (always equal: a copy
    /// whose counts differ is rolled back and reported as an error).
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int)]
        public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    public struct CopyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Copies `source` into the empty `target`.
    public static func copy(from source: Store, to target: Store) throws -> Report {
        try source.database.read { from in
            try target.database.write { to in
                try refuseNonEmpty(to, target: target.path)
                var report = Report(tables: [])
                for table in tables {
                    let copied = try copyTable(table, from: from, to: to)
                    let counted: Int = try to.fetchValue("SELECT count(*) FROM \(table)") ?? -1
                    let expected: Int = try from.fetchValue("SELECT count(*) FROM \(table)") ?? -1
                    guard copied == expected, counted == expected else {
                        throw CopyError(
                            description: "table \(table): \(expected) rows in \(source.path), \(copied) copied, "
                                + "\(counted) in \(target.path); nothing was copied")
                    }
                    report.tables.append((table, copied))
                }
                if to.dialect == .postgres { try restartIdentities(to) }
                return report
            }
        }
    }

    private static func refuseNonEmpty(_ db: any SQLConnection, target: String) throws {
        var filled: [String] = []
        for table in tables {
            let rows: Int = try db.fetchValue("SELECT count(*) FROM \(table)") ?? 0
            if rows > 0 { filled.append("\(table) has \(rows) rows") }
        }
        guard filled.isEmpty else {
            throw CopyError(
                description: "\(target) is not empty (\(filled.joined(separator: ", "))): copy into a new, empty "
                    + "database, so that nothing in it is overwritten or mixed")
        }
    }

    /// The rows of `table`, page by page in the order of their first column (the key), written as read.
    private static func copyTable(_ table: String, from: any SQLConnection, to: any SQLConnection) throws -> Int {
        let targetTypes = try columnTypes(table, in: to)
        var copied = 0
        var offset = 0
        while true {
            let rows = try from.fetchAll(
                "SELECT * FROM \(table) ORDER BY 1 LIMIT ? OFFSET ?", pageSize.sqlValue, offset.sqlValue)
            guard let first = rows.first else { return copied }
            let names = first.columns.names
            let insert = """
                INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(sqlPlaceholders(names.count)))
                """
            for row in rows {
                let values = try zip(names, row.values).map { name, value in
                    try convert(value, to: targetTypes[name.lowercased()], column: "\(table).\(name)")
                }
                try to.execute(insert, values)
            }
            copied += rows.count
            offset += rows.count
        }
    }

    /// PostgreSQL's type of each column of `table` (lower-cased names); empty on SQLite, which keeps what it is given.
    private static func columnTypes(_ table: String, in db: any SQLConnection) throws -> [String: String] {
        guard db.dialect == .postgres else { return [:] }
        var types: [String: String] = [:]
        for row in try db.fetchAll(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
            .text(table))
        {
            types[(try row["column_name"] as String).lowercased()] = try row["data_type"]
        }
        return types
    }

    /// SQLite keeps instants as text: PostgreSQL wants them as timestamps.
    private static func convert(_ value: SQLValue, to type: String?, column: String) throws -> SQLValue {
        guard case .text(let text) = value, type?.hasPrefix("timestamp") == true else { return value }
        guard let date = StorageDate.date(text) else {
            throw CopyError(description: "column \(column): \"\(text)\" is not a stored instant; nothing was copied")
        }
        return .date(date)
    }

    /// Identity columns continue after the copied ids (rows inserted with their ids do not move them).
    private static func restartIdentities(_ db: any SQLConnection) throws {
        let columns = try db.fetchAll(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'")
        for column in columns {
            let (table, name): (String, String) = (try column[0], try column[1])
            guard tables.contains(table) else { continue }
            try db.execute(
                "SELECT setval(pg_get_serial_sequence(?, ?), (SELECT coalesce(max(\(name)), 0) + 1 FROM \(table)), false)",
                .text(table), .text(name))
        }
    }
}
