import DigestCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

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

    /// Whether the server is away rather than the statement wrong: no connection could be opened, the
    /// server did not answer (no SQLSTATE), or it reported a connection exception (class 08) or that it is
    /// shutting down or starting up (57P01–57P03).
    public var isUnavailable: Bool {
        isConnectionFailure || sqlState == nil || sqlState?.hasPrefix("08") == true
            || ["57P01", "57P02", "57P03"].contains(sqlState ?? "")
    }

    /// Whether running the transaction again may succeed.
    public var isTransient: Bool { sqlState == Self.serializationFailure || sqlState == Self.deadlockDetected }

    public var isUniqueViolation: Bool { sqlState == Self.uniqueViolation }

    /// A prepared statement's plan no longer fits: a table it reads changed so that its rows would change
    /// shape, and PostgreSQL refuses to change a cached plan's result type (0A000, "cached plan must not
    /// change result type", `plancache.c`).
    var isChangedResultType: Bool {
        sqlState == "0A000" && message.contains("cached plan must not change result type")
    }

    /// A prepared statement the server no longer has (26000, invalid_sql_statement_name): deallocated by
    /// someone else (`DEALLOCATE ALL`, `DISCARD ALL`).
    var isUnknownPreparedStatement: Bool { sqlState == "26000" }

    /// A failure of the connection's prepared statement rather than of the transaction: the transaction
    /// is run again once, which prepares the statement anew.
    var isStalePreparedStatement: Bool { isChangedResultType || isUnknownPreparedStatement }

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
