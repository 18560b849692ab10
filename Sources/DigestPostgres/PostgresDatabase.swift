import DigestCore
import Foundation
import Logging
import NIOConcurrencyHelpers
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
///
/// Each connection keeps the statements it runs repeatedly as named prepared statements
/// (`PreparedStatementCache`), parsed and planned once per connection. When a change to a table leaves
/// one of them stale ("cached plan must not change result type"), the transaction, read or write, is run
/// once more with the statement prepared anew: **read bodies too must be safe to run again**.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let settings: PostgresSettings
    public var location: String { settings.description }

    /// Tries of one `write` that the server aborted for a serialization failure or deadlock.
    public static let maximumAttempts = 5

    private let group: MultiThreadedEventLoopGroup
    private let pool: PostgresConnectionPool<PooledConnection>
    private let translations = TranslationCache()
    private let counter = TrafficCounter()
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
                    return PooledConnection(
                        try PostgresConnection.connect(
                            on: group.next(), configuration: configuration, id: connectionIDs.next(), logger: logger
                        ).wait())
                } catch {
                    throw PostgresError(connecting: settings, error)
                }
            },
            close: { pooled in try? pooled.connection.close().wait() },
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

    /// A lone statement, sent without BEGIN and COMMIT: the server runs it as a transaction of its own
    /// (all of it or none), so it costs one round trip. Retried like `write`.
    public func writeStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(nil, attempts: Self.maximumAttempts, body)
    }

    /// A lone statement, sent without BEGIN and COMMIT: it reads one snapshot of its own.
    public func readStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(nil, attempts: 1, body)
    }

    public var traffic: SQLTraffic? { counter.traffic }

    public func isUnavailable(_ error: any Error) -> Bool { (error as? PostgresError)?.isUnavailable ?? false }

    public func close() {
        guard pool.close() else { return }
        try? group.syncShutdownGracefully()
    }

    /// BEGIN, the body, COMMIT; ROLLBACK when anything throws, and another try when the server asks
    /// for one (serialization failure, deadlock) and `attempts` allow, or once when a prepared statement went
    /// stale. `begin` nil: the body's one statement alone, in the server's own transaction for it (nothing to
    /// commit or roll back).
    private func transaction<T>(
        _ begin: String?, attempts: Int, _ body: (any SQLConnection) throws -> T
    ) throws -> T {
        var attempt = 1
        var preparedAgain = false
        while true {
            let pooled = try pool.lease(isUsable: { !$0.isClosed })
            let connection = pooled.connection
            // BEGIN goes out ahead of the body's first statement, without a round trip of its own: its
            // answer is checked before that statement's (and before COMMIT, for a body that ran none).
            let began = begin.map { begin in
                counter.sent()
                return PendingStatement(
                    sql: begin, connection.query(PostgresQuery(unsafeSQL: begin), logger: logger), on: connection)
            }
            let sqlConnection = PostgresSQLConnection(
                pooled: pooled, translations: translations, logger: logger, counter: counter, began: began,
                statementsLeft: begin == nil ? PostgresSQLConnection.StatementsLeft(1) : nil)
            do {
                let value = try body(sqlConnection)
                if let began {
                    try began.settle()
                    try sqlConnection.run("COMMIT")
                }
                pool.release(pooled)
                return value
            } catch {
                // After a failed COMMIT the server has ended the transaction already; ROLLBACK then only
                // warns. A ROLLBACK that fails means the connection is gone or unusable. A lone statement
                // that failed has ended its own transaction.
                if connection.isClosed || (began != nil && (try? sqlConnection.run("ROLLBACK")) == nil) {
                    pool.drop(pooled)
                } else {
                    pool.release(pooled)
                }
                if !preparedAgain, let failure = error as? PostgresError, failure.isStalePreparedStatement {
                    // The connection has forgotten the statement; the next run prepares it again.
                    logger.debug(
                        "A prepared statement's plan went stale; running the transaction again",
                        metadata: ["postgres.sqlState": "\(failure.sqlState ?? "")"])
                    preparedAgain = true
                    continue
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
        private let translations = NIOLockedValueBox<[String: (sql: String, count: Int)]>([:])

        func translate(_ sql: String) -> (sql: String, count: Int) {
            if let known = translations.withLockedValue({ $0[sql] }) { return known }
            let translated = PostgresStatementText.numberingPlaceholders(sql)
            translations.withLockedValue {
                // A bound on memory, should statements ever be built with their values inside.
                if $0.count >= 4096 { $0.removeAll(keepingCapacity: true) }
                $0[sql] = translated
            }
            return translated
        }
    }

    /// Statements sent and answers waited for, by every connection of the database.
    final class TrafficCounter: Sendable {
        private let counts = NIOLockedValueBox(SQLTraffic(statements: 0, roundTrips: 0))

        /// A statement sent whose answer is waited for later, with the next statement's.
        func sent() { counts.withLockedValue { $0.statements += 1 } }

        /// A statement sent and its answer waited for.
        func roundTrip() {
            counts.withLockedValue {
                $0.statements += 1
                $0.roundTrips += 1
            }
        }

        var traffic: SQLTraffic { counts.withLockedValue { $0 } }
    }

    /// Numbers the connections for postgres-nio's log metadata.
    private final class ConnectionCounter: Sendable {
        private let last = NIOLockedValueBox(0)
        func next() -> Int {
            last.withLockedValue {
                $0 += 1
                return $0
            }
        }
    }
}
