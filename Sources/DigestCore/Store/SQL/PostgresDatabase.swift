import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// The shared store: a PostgreSQL database that several machines use at once, through postgres-nio.
///
/// The store's API is synchronous (as GRDB's is), postgres-nio's is asynchronous: each statement is
/// sent on one private event loop thread and the calling thread blocks on the answer
/// (`EventLoopFuture.wait()`). Callers are the worker threads of a run and, in the web server, Swift
/// concurrency tasks, which then block a pool thread for the length of a query, as they already do
/// for SQLite.
///
/// Connections come from a small pool (`maximumConnections`), one per transaction. `read` runs in a
/// REPEATABLE READ READ ONLY transaction (one snapshot for everything it reads); `write` in READ
/// COMMITTED, and when the server aborts it for a serialization failure (40001) or a deadlock (40P01)
/// it is rolled back and run again, up to `maximumAttempts` times: **a write body must be safe to run
/// again** (no side effects outside the transaction, no state carried over from a failed attempt).
/// A body must not start another transaction on the same database: it would wait for a connection of
/// its own, forever once the pool is exhausted (GRDB refuses such nesting too).
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let settings: PostgresSettings
    public var location: String { settings.description }

    /// Tries of one `write` that the server aborted for a serialization failure or deadlock.
    public static let maximumAttempts = 5

    private let group: MultiThreadedEventLoopGroup
    private let pool: PostgresConnectionPool<PostgresConnection>
    private let translations = TranslationCache()
    private let logger: Logger

    /// Opens one connection right away, so a wrong host, password or database name fails here with the
    /// server's reason; more (up to `maximumConnections`) are opened as transactions overlap. `logger`
    /// receives postgres-nio's events and the retried writes, at debug level and below.
    public init(
        settings: PostgresSettings, maximumConnections: Int = 8,
        logger: Logger = Logger(label: "DigestCore.PostgresDatabase", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        self.settings = settings
        self.logger = logger
        let configuration = try Self.configuration(settings)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let connectionIDs = ConnectionCounter()
        pool = PostgresConnectionPool(
            maximum: maximumConnections,
            open: {
                do {
                    return try PostgresConnection.connect(
                        on: group.next(), configuration: configuration, id: connectionIDs.next(), logger: logger
                    ).wait()
                } catch {
                    throw PostgresError(connecting: settings, error)
                }
            },
            close: { connection in try? connection.close().wait() },
            closedError: { PostgresError(message: "the database \(settings.description) was closed") })
        do {
            pool.release(try pool.lease())
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", attempts: 1, body)
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN", attempts: Self.maximumAttempts, body)
    }

    public func close() {
        guard pool.close() else { return }
        try? group.syncShutdownGracefully()
    }

    /// BEGIN, the body, COMMIT; ROLLBACK when anything throws, and another try when the server asks
    /// for one (serialization failure, deadlock) and `attempts` allow.
    private func transaction<T>(
        _ begin: String, attempts: Int, _ body: (any SQLConnection) throws -> T
    ) throws -> T {
        var attempt = 1
        while true {
            let connection = try pool.lease(isUsable: { !$0.isClosed })
            // BEGIN goes out ahead of the body's first statement, without a round trip of its own: its
            // answer is checked before that statement's (and before COMMIT, for a body that ran none).
            let began = PendingStatement(
                sql: begin, connection.query(PostgresQuery(unsafeSQL: begin), logger: logger), on: connection)
            let sqlConnection = PostgresSQLConnection(
                connection: connection, translations: translations, logger: logger, began: began)
            do {
                let value = try body(sqlConnection)
                try began.settle()
                try sqlConnection.run("COMMIT")
                pool.release(connection)
                return value
            } catch {
                // After a failed COMMIT the server has ended the transaction already; ROLLBACK then only
                // warns. A ROLLBACK that fails means the connection is gone or unusable.
                if connection.isClosed || (try? sqlConnection.run("ROLLBACK")) == nil {
                    pool.drop(connection)
                } else {
                    pool.release(connection)
                }
                if attempt < attempts, let failure = error as? PostgresError, failure.isTransient {
                    logger.debug(
                        "PostgreSQL aborted a write transaction; running it again",
                        metadata: ["postgres.sqlState": "\(failure.sqlState ?? "")", "postgres.attempt": "\(attempt)"])
                    attempt += 1
                    Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.025) * Double(attempt))
                    continue
                }
                throw error
            }
        }
    }

    /// postgres-nio's connection settings for `settings`, TLS included.
    static func configuration(_ settings: PostgresSettings) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            switch settings.sslMode {
            case .disable:
                tls = .disable
            case .prefer, .require:
                // libpq's meaning: encryption without authentication of the server.
                tlsConfiguration.certificateVerification = .none
                let context = try NIOSSLContext(configuration: tlsConfiguration)
                tls = settings.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyCA, .verifyFull:
                tlsConfiguration.certificateVerification =
                    settings.sslMode == .verifyCA ? .noHostnameVerification : .fullVerification
                if let file = settings.rootCertificate {
                    guard FileManager.default.isReadableFile(atPath: file) else {
                        throw PostgresSettingsError("sslrootcert \(file) is not a readable file")
                    }
                    guard let certificates = try? NIOSSLCertificate.fromPEMFile(file), !certificates.isEmpty else {
                        throw PostgresSettingsError("sslrootcert \(file) holds no PEM certificate")
                    }
                    tlsConfiguration.trustRoots = .certificates(certificates)
                }
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        } catch let error as PostgresSettingsError {
            throw error
        } catch {
            throw PostgresSettingsError("cannot set up TLS for sslmode=\(settings.sslMode.rawValue): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: settings.password,
            database: settings.database, tls: tls)
        configuration.options.connectTimeout = .nanoseconds(Int64(settings.connectTimeout * 1e9))
        if let name = settings.applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", name))
        }
        // synchronous_commit stays as the server has it (on): `synchronous_commit=off` lost the last
        // half second of ledger commits when the server crashed (`pg_ctl stop -m immediate` mid-send: 12
        // messages sent again where 4 connections allow 4), for no measurable speed on this machine.
        return configuration
    }

    /// Each distinct statement is translated once: the store sends the same few hundred over and over.
    final class TranslationCache: Sendable {
        private let translations = LockedValue<[String: (sql: String, count: Int)]>([:])

        func translate(_ sql: String) -> (sql: String, count: Int) {
            if let known = translations.withLock({ $0[sql] }) { return known }
            let translated = PostgresStatementText.numberingPlaceholders(sql)
            translations.withLock {
                // A bound on memory, should statements ever be built with their values inside.
                if $0.count >= 4096 { $0.removeAll(keepingCapacity: true) }
                $0[sql] = translated
            }
            return translated
        }
    }

    /// Numbers the connections for postgres-nio's log metadata.
    private final class ConnectionCounter: Sendable {
        private let last = LockedValue(0)
        func next() -> Int {
            last.withLock {
                $0 += 1
                return $0
            }
        }
    }
}

/// One pooled connection inside a `PostgresDatabase` transaction.
struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let translations: PostgresDatabase.TranslationCache
    let logger: Logger
    /// The transaction's BEGIN, sent but not yet answered.
    var began: PendingStatement? = nil
    var dialect: SQLDialect { .postgres }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let metadata = try query(sql, arguments).metadata
        return Self.rowsAffected(metadata)
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let rows = try query(sql, arguments).rows
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
        let sent = connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        try began?.settle()
        do {
            _ = try PostgresAnswer.wait(for: sent, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
        }
    }

    private func query(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        let translated = translations.translate(sql)
        guard translated.count == arguments.count else {
            throw PostgresError(
                message: "the statement has \(translated.count) placeholders but \(arguments.count) arguments were given",
                sql: sql)
        }
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
        let sent = connection.query(PostgresQuery(unsafeSQL: translated.sql, binds: binds), logger: logger)
        try began?.settle()
        do {
            return try PostgresAnswer.wait(for: sent, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
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

/// A `timestamptz` in PostgreSQL's binary form (microseconds since 2000-01-01 UTC), converted through
/// seconds since 1970 (the way `StorageDate` and `Date(timeIntervalSince1970:)` build dates) and rounded,
/// so a date of whole microseconds, e.g. the whole milliseconds SQLite keeps, reads back as the very same
/// `Date`. postgres-nio's own conversion truncates (x.123 s may come back as x.122999 s) and counts
/// from 2000 in floating point, which can miss by one unit in the last place.
struct PostgresTimestamp: PostgresNonThrowingEncodable {
    var date: Date

    /// 2000-01-01 UTC in microseconds since 1970.
    private static let epoch2000: Int64 = 946_684_800 * 1_000_000

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    init(date: Date) { self.date = date }

    init(_ bytes: ByteBuffer) throws {
        guard bytes.readableBytes == 8, let microseconds = bytes.getInteger(at: bytes.readerIndex, as: Int64.self) else {
            throw SQLDecodingError(column: "?", message: "a timestamp of \(bytes.readableBytes) bytes (8 expected)")
        }
        date = Date(timeIntervalSince1970: Double(microseconds + Self.epoch2000) / 1e6)
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(Int64((date.timeIntervalSince1970 * 1e6).rounded()) - Self.epoch2000)
    }
}

/// A statement PostgreSQL refused, or a connection that failed, with what the server said.
/// (postgres-nio's own `PSQLError` prints a generic text, deliberately, since it may hold data.)
public struct PostgresError: Error, CustomStringConvertible {
    /// The SQLSTATE code (https://www.postgresql.org/docs/15/errcodes-appendix.html), e.g. "23505" for
    /// a unique violation; nil when the server did not answer (connection errors).
    public var sqlState: String?
    /// The server's primary message, or what went wrong on the client side.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The start of the failing statement.
    public var sql: String?
    /// Opening a connection failed (`message` says where and as whom), as opposed to a statement.
    public var isConnectionFailure = false

    public static let uniqueViolation = "23505"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"

    public init(sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.sql = sql.map(Self.shortened)
    }

    /// Whether running the transaction again may succeed.
    public var isTransient: Bool { sqlState == Self.serializationFailure || sqlState == Self.deadlockDetected }

    public var isUniqueViolation: Bool { sqlState == Self.uniqueViolation }

    public var description: String {
        if isConnectionFailure { return message + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
        var text = "PostgreSQL"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        if let sql { text += " in: \(sql)" }
        return text
    }

    /// What the server or postgres-nio reported for `sql`.
    init(_ error: any Error, sql: String) {
        if let error = error as? PostgresError {
            self = error
            if self.sql == nil { self.sql = Self.shortened(sql) }
            return
        }
        guard let error = error as? PSQLError else {
            self.init(message: "\(error)", sql: sql)
            return
        }
        if let info = error.serverInfo {
            self.init(
                sqlState: info[.sqlState], message: info[.message] ?? "error \(error.code)", detail: info[.detail],
                hint: info[.hint], sql: sql)
        } else {
            self.init(message: Self.reason(error), sql: sql)
        }
    }

    /// Opening a connection failed: where, as whom, and why.
    init(connecting settings: PostgresSettings, _ error: any Error) {
        let reason: String
        var sqlState: String?
        if let error = error as? PSQLError, let info = error.serverInfo {
            reason = info[.message] ?? "error \(error.code)"
            sqlState = info[.sqlState]
        } else if let error = error as? PSQLError {
            reason = Self.reason(error, settings: settings)
        } else {
            reason = "\(error)"
        }
        self.init(
            sqlState: sqlState,
            message: "cannot connect to PostgreSQL at \(settings.endpoint) as \(settings.user): \(reason)")
        isConnectionFailure = true
    }

    /// A readable reason for a client-side failure: the cause postgres-nio wraps, when there is one.
    private static func reason(_ error: PSQLError, settings: PostgresSettings? = nil) -> String {
        if let underlying = error.underlying { return describe(underlying, settings: settings) }
        let sslMode = settings?.sslMode
        switch error.code {
        case .sslUnsupported:
            return "the server does not offer TLS, which sslmode=\(sslMode?.rawValue ?? "require") requires"
        case .serverClosedConnection, .uncleanShutdown:
            return "the server closed the connection"
        case .clientClosedConnection:
            return "the connection was closed"
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none was given (set PGPASSWORD, or name the variable that holds it in databasePasswordEnv)"
        default:
            return "\(error.code)"
        }
    }

    private static func describe(_ error: any Error, settings: PostgresSettings? = nil) -> String {
        let trusted = settings?.rootCertificate.map { "the CA in \($0)" } ?? "the system's CAs"
        switch error {
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the server's certificate is not for \(settings?.host ?? "this host") (sslmode=verify-full)"
        case NIOSSLError.handshakeFailed(let failure) where "\(failure)".contains("CERTIFICATE_VERIFY_FAILED"):
            return "the server's certificate is not signed by \(trusted) (TLS: \(failure))"
        case let error as NIOSSLError:
            return "TLS: \(error)"
        case let error as NIOConnectionError:
            var causes: [String] = []
            for failure in error.connectionErrors {
                let address = failure.target.ipAddress.map { "\($0):\(failure.target.port ?? error.port)" }
                causes.append((address.map { $0 + ": " } ?? "") + describe(failure.error, settings: settings))
            }
            for lookup in [error.dnsAError, error.dnsAAAAError].compactMap({ $0 }) {
                causes.append("cannot resolve \(error.host): " + describe(lookup, settings: settings))
            }
            var unique: [String] = []
            for cause in causes where !unique.contains(cause) { unique.append(cause) }
            return unique.isEmpty ? "connection failed" : unique.joined(separator: "; ")
        case let error as SocketAddressError.UnknownHost:
            return error.errorDescription
        case ChannelError.connectTimeout(let amount):
            return "no answer within \(Double(amount.nanoseconds) / 1e9) s (connect_timeout)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        default:
            return "\(error)"
        }
    }

    private static func shortened(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 200 ? flat.prefix(200) + "…" : flat
    }
}

/// A statement sent without waiting for its answer (a transaction's BEGIN), settled once: its error, if
/// any, is thrown by the first statement that follows it.
final class PendingStatement: @unchecked Sendable {
    let sql: String
    let connection: PostgresConnection
    /// Read and cleared only by the one thread that runs the transaction.
    private var answer: EventLoopFuture<PostgresQueryResult>?

    init(sql: String, _ answer: EventLoopFuture<PostgresQueryResult>, on connection: PostgresConnection) {
        self.sql = sql
        self.answer = answer
        self.connection = connection
    }

    func settle() throws {
        guard let answer else { return }
        self.answer = nil
        do {
            _ = try PostgresAnswer.wait(for: answer, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
        }
    }
}

/// Waiting for a statement's answer without waiting forever. A server that crashed in the middle of a
/// transaction once left a statement's answer pending on a connection postgres-nio had already closed
/// (`pg_ctl stop -m immediate` during a send: the ledger writer blocked for good, and with it every
/// sender at its barrier). So the wait looks at the connection twice a second: once it is closed, a
/// statement still unanswered a moment later fails as the connection's loss. And no statement of the
/// store runs for minutes: after `longest`, the connection is closed and the statement fails.
enum PostgresAnswer {
    static let longest: TimeInterval = 300

    static func wait<T: Sendable>(for future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = LockedValue<Result<T, any Error>?>(nil)
        future.whenComplete { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        let deadline = Date().addingTimeInterval(longest)
        var closedSeen = false
        while done.wait(timeout: .now() + 0.5) == .timedOut {
            if connection.isClosed {
                // One more slice for an answer already on its way, then the loss is the answer.
                if closedSeen { throw PostgresError(message: "the connection to the server was lost") }
                closedSeen = true
            } else if Date() >= deadline {
                let _: EventLoopFuture<Void> = connection.close()
                throw PostgresError(message: "no answer from the server in \(Int(longest)) s; the connection was closed")
            }
        }
        return try result.withLock { $0! }.get()
    }
}
