import Foundation

/// The one doorway to the data: owns every SQL statement the rest of the program needs, written once
/// against `SQLDatabase`, and runs the named migrations. The data lives in an SQLite file (the embedded
/// default, through GRDB) or in PostgreSQL (shared by several machines, through postgres-nio).
public final class Store: Sendable {
    let database: any SQLDatabase
    /// Where the data lives, for messages: a file path, or a PostgreSQL URL without its password.
    public let path: String

    /// The SQL this store's database speaks.
    public var dialect: SQLDialect { database.dialect }

    /// Whether several processes on several machines may share this store (PostgreSQL): then
    /// cooperating senders claim rows under per-worker leases instead of one run lock.
    public var isShared: Bool { database.dialect == .postgres }

    /// Statements sent and round trips waited for since the store was opened, where the driver counts
    /// them (PostgreSQL; nil for SQLite, which has no round trips).
    public var traffic: SQLTraffic? { database.traffic }

    /// Opens the SQLite database at `path` and brings its schema up to date. With `create` false (every
    /// command but `digest init`) a database that does not exist is refused, never made anew: a mistyped
    /// path or an unmounted volume must not look like an empty list to cron.
    public convenience init(path: String, create: Bool = true) throws(StoreError) {
        if !create && !FileManager.default.fileExists(atPath: path) {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            let hasFolder = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
            throw StoreError(
                path: path,
                underlying: StoreError.Missing(
                    message: (hasFolder ? "does not exist" : "does not exist (nor does its folder \(folder))")
                        + "; run `digest init` to create it, or correct `database` in the configuration"))
        }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path)
        } catch {
            throw StoreError(path: path, underlying: error)
        }
        try self.init(database: database)
    }

    /// A store over an open database, its schema brought up to date.
    public init(database: any SQLDatabase) throws(StoreError) {
        self.database = database
        self.path = database.location
        do {
            try Self.migrate(database)
        } catch {
            throw StoreError(path: path, underlying: error)
        }
    }

    /// Returns once the database would take a write: a write transaction that changes nothing (readiness
    /// probes; on SQLite it waits, as a sign-up would, while another process holds the write lock).
    public func ping() throws {
        _ = try database.write { db in try db.fetchAll("SELECT 1") }
    }

    /// Whether `error`, thrown by one of this store's calls, says the database is away (unreachable, its
    /// connection lost, locked by another process) rather than that the call is wrong: worth a retry later.
    public func isUnavailable(_ error: any Error) -> Bool {
        database.isUnavailable((error as? StoreError)?.underlying ?? error)
    }

    /// Closes the database's connections.
    public func close() { database.close() }

    /// Names of the migrations applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try database.read { db in
            try db.fetchColumn("SELECT identifier FROM \(Self.migrationsTable(db.dialect)) ORDER BY rowid")
        }
    }

    /// Every migration this build knows, in order (what `appliedMigrations` has once the store is opened).
    public static var migrationNames: [String] { migrations.map(\.name) }

    /// The database's size in bytes: SQLite's pages (the main file), PostgreSQL's `pg_database_size`.
    public func databaseSize() throws -> Int64 {
        try database.read { db in
            let sql = db.dialect == .postgres
                ? "SELECT pg_database_size(current_database())"
                : "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            return try db.fetchValue(sql) ?? 0
        }
    }

    /// SQLite keeps GRDB's table (databases made before the store had two dialects use it).
    static func migrationsTable(_ dialect: SQLDialect) -> String {
        dialect == .postgres ? "schema_migrations" : "grdb_migrations"
    }

    /// Applies the migrations this database lacks, in order, in one transaction. On PostgreSQL an advisory
    /// lock makes processes that start together (cron on several machines) apply them once.
    /// `upTo` stops after the migration of that name (tests make old databases with it).
    static func migrate(_ database: any SQLDatabase, upTo last: String? = nil) throws {
        let table = migrationsTable(database.dialect)
        try database.withForeignKeysDeferred { try migrate(database, table: table, upTo: last) }
    }

    private static func migrate(_ database: any SQLDatabase, table: String, upTo last: String?) throws {
        try database.write { db in
            if db.dialect == .postgres {
                try db.execute("SELECT pg_advisory_xact_lock(7411036207)")
                try db.executeScript(
                    "CREATE TABLE IF NOT EXISTS \(table) (rowid BIGINT GENERATED ALWAYS AS IDENTITY, identifier TEXT PRIMARY KEY)")
            } else {
                try db.executeScript("CREATE TABLE IF NOT EXISTS \(table) (identifier TEXT NOT NULL PRIMARY KEY)")
            }
            let applied = Set(try db.fetchColumn("SELECT identifier FROM \(table)") as [String])
            for migration in migrations {
                if !applied.contains(migration.name) {
                    try db.executeScript(migration.sql(for: db.dialect))
                    try migration.backfill?(db)
                    try db.execute("INSERT INTO \(table) (identifier) VALUES (?)", .text(migration.name))
                }
                if migration.name == last { break }
            }
            if db.dialect == .sqlite {
                let broken = try db.fetchAll("PRAGMA foreign_key_check")
                if let first = broken.first {
                    throw BrokenReferences(count: broken.count, table: try first["table"])
                }
            }
        }
    }
}

/// A migration that left rows pointing at rows that are not there (SQLite's `foreign_key_check`): it is
/// rolled back.
struct BrokenReferences: Error, CustomStringConvertible {
    var count: Int
    var table: String
    var description: String { "a migration left \(count) broken references (the first in table \(table)); nothing was changed" }
}

/// A database that cannot be opened, migrated, read or written, with its path.
public struct StoreError: Error, CustomStringConvertible {
    public var path: String
    public var underlying: any Error
    public var description: String { "database \(path): \(underlying)" }

    public init(path: String, underlying: any Error) {
        self.path = path
        self.underlying = underlying
    }

    /// The database file is not there and was not to be created.
    public struct Missing: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Whether the database was missing (not created).
    public var isMissing: Bool { underlying is Missing }
}
