import DigestCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One pooled connection inside a `PostgresDatabase` transaction.
///
/// A statement with placeholders, run for its rows, that this connection has run before is sent as a named
/// prepared statement (`PreparedStatementCache` says which), so the server parses it once per connection
/// (and plans it once, when it keeps the generic plan); the others go as the unnamed statement (Parse, Bind,
/// Execute every time).
struct PostgresSQLConnection: SQLConnection {
    let pooled: PooledConnection
    var connection: PostgresConnection { pooled.connection }
    let translations: PostgresDatabase.TranslationCache
    let logger: Logger
    let counter: PostgresDatabase.TrafficCounter
    /// The transaction's BEGIN, sent but not yet answered.
    var began: PendingStatement? = nil
    /// A lone statement outside BEGIN and COMMIT (`writeStatement`): how many the body may still run.
    var statementsLeft: StatementsLeft? = nil
    var dialect: SQLDialect { .postgres }

    /// Statements a body may still send; used by the one thread that runs it.
    final class StatementsLeft: @unchecked Sendable {
        var count: Int
        init(_ count: Int) { self.count = count }

        func take(_ sql: String) throws {
            guard count > 0 else {
                throw PostgresError(
                    message: "a second statement in a lone-statement transaction would not be atomic; use write",
                    sql: sql)
            }
            count -= 1
        }
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try query(sql, arguments, wanted: .count).changed
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let rows = try query(sql, arguments, wanted: .rows).rows
        guard let first = rows.first else { return [] }
        let columns = SQLColumns(first.map(\.columnName))
        return try rows.map { row in
            SQLRow(columns: columns, values: try row.map(Self.value))
        }
    }

    func executeScript(_ sql: String) throws {
        for statement in PostgresStatementText.statements(sql) {
            try run(statement)
        }
    }

    /// A statement without placeholders, as written (transaction control, migration steps).
    func run(_ sql: String) throws {
        try statementsLeft?.take(sql)
        counter.roundTrip()
        let sent = connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        try began?.settle()
        do {
            _ = try PostgresAnswer.wait(for: sent, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
        }
    }

    /// What a statement answered: its rows (for `fetchAll`) and how many rows it changed (for `execute`).
    private struct Answer {
        var rows: [PostgresRow] = []
        var changed = 0
    }

    private func query(_ sql: String, _ arguments: [SQLValue], wanted: PreparedStatementCache.Wanted) throws -> Answer {
        let translated = translations.translate(sql)
        guard translated.count == arguments.count else {
            throw PostgresError(
                message: "the statement has \(translated.count) placeholders but \(arguments.count) arguments were given",
                sql: sql)
        }
        try statementsLeft?.take(sql)
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number)
            case .real(let number): binds.append(number)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            case .date(let date): binds.append(PostgresTimestamp(date: date))
            }
        }
        let types = arguments.map(Self.dataType)
        let key = PreparedStatementCache.Key(sql: translated.sql, types: types)
        let name: String
        var preparing = false
        switch pooled.statements.run(key, placeholders: translated.count, wanted: wanted) {
        case .unnamed:
            counter.roundTrip()
            let sent = connection.query(PostgresQuery(unsafeSQL: translated.sql, binds: binds), logger: logger)
            try began?.settle()
            let result: PostgresQueryResult
            do {
                result = try PostgresAnswer.wait(for: sent, on: connection)
            } catch {
                throw PostgresError(error, sql: sql)
            }
            return Answer(rows: result.rows, changed: Self.rowsAffected(result.metadata))
        case .prepare(let newName, let deallocating):
            for old in deallocating { try deallocate(old) }
            // postgres-nio sends Parse, Describe and Sync, and waits for their answer before it binds.
            counter.roundTrip()
            name = newName
            preparing = true
        case .execute(let known):
            name = known
        }
        let text = NamedStatement.Text(name: name, sql: translated.sql, types: types)
        counter.roundTrip()
        let sent = NamedStatement.rows(text, binds, on: pooled, logger: logger)
        try began?.settle()
        return Answer(rows: try waitNamed(sent, key, sql: sql, preparing: preparing))
    }

    /// The answer of a named statement. After a failure, the name is forgotten when it cannot serve again,
    /// and the statement is prepared anew at its next run: a name whose preparation failed (postgres-nio
    /// refuses it from then on; the server never had it, or has it unused until the connection closes when
    /// only the first execution failed), one the server no longer has (26000), and one whose plan the
    /// server will not change ("cached plan must not change result type", after a change to a table it
    /// reads; deallocated with the next preparation).
    private func waitNamed<T: Sendable>(
        _ sent: EventLoopFuture<T>, _ key: PreparedStatementCache.Key, sql: String, preparing: Bool
    ) throws -> T {
        do {
            return try PostgresAnswer.wait(for: sent, on: connection)
        } catch {
            let failure = PostgresError(error, sql: sql)
            if failure.isChangedResultType {
                pooled.statements.discard(key, deallocate: true)
            } else if preparing || failure.isUnknownPreparedStatement {
                pooled.statements.discard(key, deallocate: false)
            }
            throw failure
        }
    }

    /// Frees a prepared statement on the server: one round trip, rare (a statement evicted from a full
    /// cache, or one whose plan went stale).
    private func deallocate(_ name: String) throws {
        let sql = "DEALLOCATE \(name)"
        counter.roundTrip()
        let sent = connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        try began?.settle()
        do {
            _ = try PostgresAnswer.wait(for: sent, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
        }
    }

    /// The type an argument is bound as (what `PostgresBindings.append` writes for it): declared with a prepared
    /// statement, and part of its key (the server fixes a parameter's type when the statement is prepared).
    static func dataType(_ value: SQLValue) -> PostgresDataType {
        switch value {
        case .null: .null
        case .integer: .int8
        case .real: .float8
        case .text: .text
        case .blob: .bytea
        case .date: PostgresTimestamp.psqlType
        }
    }

    /// From the command tag: "INSERT 0 n", "UPDATE n", "DELETE n", "MERGE n"; 0 for the others.
    static func rowsAffected(_ metadata: PostgresQueryMetadata) -> Int {
        switch metadata.command {
        case "INSERT", "UPDATE", "DELETE": return metadata.rows ?? 0
        default:
            let parts = metadata.command.split(separator: " ")
            if parts.count == 2, parts[0] == "MERGE", let rows = Int(parts[1]) { return rows }
            return 0
        }
    }

    /// Object ids below this belong to the types built into PostgreSQL (`FirstNormalObjectId`).
    static let firstUserDefinedType: UInt32 = 16384

    /// One cell as a store value, by the column's type (postgres-nio asks for every result in
    /// PostgreSQL's binary format).
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        do {
            switch cell.dataType {
            case .int2, .int4, .int8:
                return .integer(try cell.decode(Int64.self))
            case .bool:
                return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .float4, .float8:
                return .real(try cell.decode(Double.self))
            case .numeric:
                var number = try cell.decode(Decimal.self)
                var whole = Decimal()
                NSDecimalRound(&whole, &number, 0, .plain)
                let integer = NSDecimalNumber(decimal: number).int64Value
                if whole == number, Decimal(integer) == number { return .integer(integer) }
                return .real(NSDecimalNumber(decimal: number).doubleValue)
            case .bytea:
                return .blob(Array(bytes.readableBytesView))
            case .timestamptz, .timestamp:
                return .date(try PostgresTimestamp(bytes).date)
            case .date:
                return .text(Self.dayFormat(try cell.decode(Date.self)))
            case .uuid:
                return .text(try cell.decode(UUID.self).uuidString.lowercased())
            case .jsonb:
                // A version byte (1), then the JSON text.
                return .text(String(decoding: bytes.readableBytesView.dropFirst(), as: UTF8.self))
            case .text, .varchar, .bpchar, .name, .char, .unknown, .json, .xml:
                return .text(String(decoding: bytes.readableBytesView, as: UTF8.self))
            case _ where cell.dataType.rawValue >= Self.firstUserDefinedType:
                // Types of extensions and CREATE TYPE (citext, enums) have no fixed number; the ones the
                // store could meet send their text as their binary form.
                return .text(String(decoding: bytes.readableBytesView, as: UTF8.self))
            default:
                // The binary form of the other built-in types (interval, arrays, geometry…) is not their
                // text; PostgreSQL sends text only for all columns or none in postgres-nio.
                throw SQLDecodingError(
                    column: cell.columnName,
                    message: "PostgreSQL type \(cell.dataType) is not read by the store; cast it in the query (::text)")
            }
        } catch let error as SQLDecodingError {
            throw error
        } catch {
            throw SQLDecodingError(column: cell.columnName, message: "cannot read PostgreSQL type \(cell.dataType): \(error)")
        }
    }

    private static func dayFormat(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
