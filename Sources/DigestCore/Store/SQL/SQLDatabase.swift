import Foundation

/// The store's contract with a SQL database: transactions of plain statements with `?` placeholders,
/// and rows of plain values. `Store` writes its SQL once against this; `SQLiteDatabase` (GRDB, the
/// embedded default) and `PostgresDatabase` (postgres-nio, the shared store, in the DigestPostgres
/// target) carry it out. The few statements the two dialects spell differently ask `dialect`.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Where the data lives, for messages: a file path, or a URL without its password.
    var location: String { get }
    /// Runs `body` in a read-only transaction (a consistent snapshot).
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` in one write transaction: all of it commits, or (when it throws) none of it.
    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Closes every connection; the value is unusable afterwards.
    func close()
    /// Runs `body`, which runs exactly one statement, as a write transaction of its own: all of it
    /// commits, or none of it. PostgreSQL runs a lone statement atomically without BEGIN and COMMIT, so
    /// this costs one round trip to the server where `write` costs two; a body that tries a second
    /// statement is refused there (it would not be atomic). The default is `write`.
    func writeStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body`, which runs exactly one statement, as a read of its own (one statement reads one
    /// snapshot). PostgreSQL: one round trip where `read` costs two. The default is `read`.
    func readStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// What the database sent and waited for since it was opened, where the driver counts it (PostgreSQL).
    var traffic: SQLTraffic? { get }
    /// Whether `error`, thrown by this database, says it is away rather than that a statement is wrong:
    /// it cannot be reached, it closed the connection, or (SQLite) another process holds its lock. The
    /// same work may succeed later; a web page answers 503 and asks to retry.
    func isUnavailable(_ error: any Error) -> Bool
    /// Runs `body` (the migrations) with foreign keys unenforced, then checks that every reference holds: an
    /// SQLite migration that rebuilds a table (the only way to change a constraint there) drops the old one,
    /// which would otherwise cascade into its children. The default runs `body` as it is (PostgreSQL alters
    /// constraints in place).
    func withForeignKeysDeferred<T>(_ body: () throws -> T) throws -> T
}

extension SQLDatabase {
    public func writeStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try write(body) }
    public func readStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try read(body) }
    public var traffic: SQLTraffic? { nil }
    public func isUnavailable(_ error: any Error) -> Bool { false }
    public func withForeignKeysDeferred<T>(_ body: () throws -> T) throws -> T { try body() }
}

/// Statements a database driver sent, and round trips it waited for (a statement sent ahead of the next
/// one without waiting, such as a transaction's BEGIN, is a statement but not a round trip of its own).
public struct SQLTraffic: Sendable, Equatable {
    public var statements: Int
    public var roundTrips: Int

    public init(statements: Int, roundTrips: Int) {
        self.statements = statements
        self.roundTrips = roundTrips
    }
}

/// One connection inside a transaction. Statements use `?` placeholders in both dialects.
public protocol SQLConnection {
    var dialect: SQLDialect { get }
    /// Runs one statement; the number of rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs one statement and collects its rows.
    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs several `;`-separated statements without arguments (migrations).
    func executeScript(_ sql: String) throws
}

extension SQLConnection {
    @discardableResult
    public func execute(_ sql: String, _ arguments: SQLValue...) throws -> Int {
        try execute(sql, arguments)
    }

    public func fetchAll(_ sql: String, _ arguments: SQLValue...) throws -> [SQLRow] {
        try fetchAll(sql, arguments)
    }

    public func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try fetchAll(sql, arguments).first
    }

    public func fetchOne(_ sql: String, _ arguments: SQLValue...) throws -> SQLRow? {
        try fetchAll(sql, arguments).first
    }

    /// The first column of the first row (nil when there is no row, or its value is NULL).
    public func fetchValue<T: SQLDecodable>(_ sql: String, _ arguments: [SQLValue]) throws -> T? {
        guard let row = try fetchAll(sql, arguments).first else { return nil }
        return try row[0] as T?
    }

    public func fetchValue<T: SQLDecodable>(_ sql: String, _ arguments: SQLValue...) throws -> T? {
        try fetchValue(sql, arguments)
    }

    /// The first column of every row.
    public func fetchColumn<T: SQLDecodable>(_ sql: String, _ arguments: [SQLValue]) throws -> [T] {
        try fetchAll(sql, arguments).map { try $0[0] }
    }

    public func fetchColumn<T: SQLDecodable>(_ sql: String, _ arguments: SQLValue...) throws -> [T] {
        try fetchColumn(sql, arguments)
    }
}

/// The SQL spoken by a database, for the statements that differ.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// Appended to a `SELECT` that claims rows: other workers skip what one holds (PostgreSQL);
    /// SQLite serializes its writers, so there is nothing to add.
    public var skipLocked: String { self == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    /// Appended to a `SELECT` whose rows the transaction goes on to change: readers of the same rows
    /// wait (PostgreSQL); SQLite's write transaction already excludes every other writer.
    public var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }

    /// The larger of two values (`max(a, b)` in SQLite, `greatest(a, b)` in PostgreSQL).
    public func greatest(_ a: String, _ b: String) -> String {
        self == .postgres ? "greatest(\(a), \(b))" : "max(\(a), \(b))"
    }

    /// The smaller of two values.
    public func least(_ a: String, _ b: String) -> String {
        self == .postgres ? "least(\(a), \(b))" : "min(\(a), \(b))"
    }

    /// "Now", `seconds` on, by the clock that judges leases (run locks, workers' leases, outbox claims),
    /// as SQL and its arguments. PostgreSQL's own clock: `clock_timestamp()`, the instant the statement
    /// reads it (`now()` is the transaction's start, and a claim may have waited for a row lock). Every
    /// worker on every machine then judges every lease by the same clock: one whose clock runs ahead
    /// cannot take a live worker's claims, nor one whose clock runs behind keep a dead one's.
    /// SQLite is one machine: `local`, the caller's clock (tests pass their own), bound as a parameter.
    public func leaseTime(_ local: Date, plus seconds: TimeInterval = 0) -> SQLFragment {
        switch self {
        case .postgres:
            seconds == 0
                ? SQLFragment("clock_timestamp()")
                : SQLFragment("(clock_timestamp() + ? * interval '1 second')", [.real(seconds)])
        case .sqlite:
            SQLFragment("?", [.date(local.addingTimeInterval(seconds))])
        }
    }

    /// A lease time written with `leaseTime` (the expression `value`), on the caller's clock `local`: its now
    /// plus what is left of the lease by the database's clock, so a caller whose clock is off by minutes
    /// still waits the lease's true length. SQLite: `value` itself (it was written on this clock).
    public func onLocalClock(leaseTime value: String, _ local: Date) -> SQLFragment {
        switch self {
        case .postgres: SQLFragment("(? + (\(value) - clock_timestamp()))", [.date(local)])
        case .sqlite: SQLFragment(value)
        }
    }
}

/// A piece of a statement and the values of its `?` placeholders, in order.
public struct SQLFragment: Sendable, Equatable {
    public var sql: String
    public var arguments: [SQLValue]

    public init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// One value bound to a statement or read from a row.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    /// SQLite keeps it as text ("yyyy-MM-dd HH:mm:ss.SSS", UTC, see `StorageDate`); PostgreSQL as timestamptz.
    case date(Date)
}

/// A row of a result: values by position, or by column name (ASCII case-insensitive, because
/// PostgreSQL folds unquoted names to lower case).
public struct SQLRow: Sendable {
    public let columns: SQLColumns
    public let values: [SQLValue]

    public init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript<T: SQLDecodable>(_ index: Int) -> T {
        get throws(SQLDecodingError) {
            guard values.indices.contains(index) else {
                throw SQLDecodingError(column: "#\(index)", message: "no such column (the row has \(values.count))")
            }
            do {
                return try T(sqlValue: values[index])
            } catch {
                throw SQLDecodingError(column: columns.names[index], message: error.message)
            }
        }
    }

    public subscript<T: SQLDecodable>(_ name: String) -> T {
        get throws(SQLDecodingError) {
            guard let index = columns.index(of: name) else {
                throw SQLDecodingError(column: name, message: "no such column in the result")
            }
            return try self[index]
        }
    }

    /// Whether the result has a column `name`.
    public func has(_ name: String) -> Bool { columns.index(of: name) != nil }
}

/// The column names of a result, shared by its rows.
public final class SQLColumns: Sendable {
    public let names: [String]
    private let positions: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name.lowercased()] == nil {
            positions[name.lowercased()] = index
        }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name.lowercased()] }
}

/// A value that was not what its column should hold.
public struct SQLDecodingError: Error, CustomStringConvertible {
    public var column: String
    public var message: String
    public var description: String { "column \(column): \(message)" }

    public init(column: String, message: String) {
        self.column = column
        self.message = message
    }
}

/// A Swift value that can be bound to a statement.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

/// A Swift value that can be read from a column.
public protocol SQLDecodable {
    init(sqlValue: SQLValue) throws(SQLDecodingError)
}

public typealias SQLValueConvertible = SQLBindable & SQLDecodable

extension SQLDecodingError {
    static func mismatch(_ value: SQLValue, _ type: Any.Type) -> SQLDecodingError {
        SQLDecodingError(column: "?", message: "cannot read \(value) as \(type)")
    }
}

extension SQLValue: SQLBindable {
    public var sqlValue: SQLValue { self }
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value) where value.rounded() == value && abs(value) < 9e18: self = Int64(value)
        case .text(let text) where Int64(text) != nil: self = Int64(text)!
        default: throw .mismatch(sqlValue, Int64.self)
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) { self = Int(try Int64(sqlValue: sqlValue)) }
}

extension Int32: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        let wide = try Int64(sqlValue: sqlValue)
        guard let value = Int32(exactly: wide) else { throw .mismatch(sqlValue, Int32.self) }
        self = value
    }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) { self = try Int64(sqlValue: sqlValue) != 0 }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .real(self) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        case .text(let text) where Double(text) != nil: self = Double(text)!
        default: throw .mismatch(sqlValue, Double.self)
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        switch sqlValue {
        case .text(let text): self = text
        case .integer(let value): self = String(value)
        case .blob(let bytes): self = String(decoding: bytes, as: UTF8.self)
        default: throw .mismatch(sqlValue, String.self)
        }
    }
}

extension Date: SQLValueConvertible {
    public var sqlValue: SQLValue { .date(self) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        switch sqlValue {
        case .date(let date): self = date
        case .text(let text):
            guard let date = StorageDate.date(text) else { throw .mismatch(sqlValue, Date.self) }
            self = date
        default: throw .mismatch(sqlValue, Date.self)
        }
    }
}

extension Data: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        switch sqlValue {
        case .blob(let bytes): self = Data(bytes)
        case .text(let text): self = Data(text.utf8)
        default: throw .mismatch(sqlValue, Data.self)
        }
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        if case .null = sqlValue { self = nil } else { self = try Wrapped(sqlValue: sqlValue) }
    }
}

/// Enums stored as their raw text.
public protocol SQLTextEnum: SQLValueConvertible, RawRepresentable where RawValue == String {}

extension SQLTextEnum {
    public var sqlValue: SQLValue { .text(rawValue) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        let text = try String(sqlValue: sqlValue)
        guard let value = Self(rawValue: text) else {
            throw SQLDecodingError(column: "?", message: "unknown \(Self.self) \"\(text)\"")
        }
        self = value
    }
}

/// `?, ?, ?` for `count` values (an `IN (...)` list).
func sqlPlaceholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}
