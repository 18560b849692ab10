import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, through GRDB's `DatabasePool` (concurrent readers,
/// one writer at a time). Every statement is compiled once per connection and reused.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    public let path: String
    let pool: DatabasePool

    public var location: String { path }

    /// Opens (creating when missing) the database file at `path`.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last ones.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.read { db in try body(GRDBConnection(db: db)) }
    }

    /// `BEGIN IMMEDIATE` … `COMMIT`, both compiled once per connection (GRDB's `write` compiles them for every
    /// transaction, and the ledger commits once per few messages of a send).
    @discardableResult
    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
            do {
                let result = try body(GRDBConnection(db: db))
                try db.cachedStatement(sql: "COMMIT").execute()
                return result
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
    }

    /// SQLITE_BUSY and SQLITE_LOCKED: another connection held the lock for longer than the busy timeout.
    public func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// "PRAGMA foreign_keys is a no-op within a transaction; foreign key constraint enforcement may only be
    /// enabled or disabled when there is no pending BEGIN or SAVEPOINT" (https://sqlite.org/pragma.html#pragma_foreign_keys):
    /// so it is switched off around the migrations' transaction, on the pool's one writer connection, and
    /// `PRAGMA foreign_key_check` runs before the transaction commits (`Store.migrate`).
    public func withForeignKeysDeferred<T>(_ body: () throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        defer { try? pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = ON") } }
        return try body()
    }

    public func close() {
        try? pool.close()
    }
}

/// A GRDB connection inside one of `SQLiteDatabase`'s transactions.
struct GRDBConnection: SQLConnection {
    let db: GRDB.Database
    var dialect: SQLDialect { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        try statement.execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let columns = SQLColumns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(columns: columns, values: row.databaseValues.map(Self.value)))
        }
        return rows
    }

    func executeScript(_ sql: String) throws {
        try db.execute(sql: sql)
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .integer(let number): number.databaseValue
            case .real(let number): number.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let bytes): Data(bytes).databaseValue
            case .date(let date): StorageDate.databaseValue(date)
            }
        })
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
