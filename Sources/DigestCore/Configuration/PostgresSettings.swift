import Foundation

/// Where the shared store lives, read from a libpq-style URL:
///
///     postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=verify-full&sslrootcert=/etc/ca.pem]
///
/// Only the parts DailyDigest acts on are accepted; any other query option is an error rather than
/// silently ignored, so a typo in `sslmode` cannot turn TLS off. Special characters in the user name,
/// password or database name are percent-encoded, as libpq expects
/// (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
///
/// The password is kept out of every message: `description` is the URL with it replaced by `***`.
public struct PostgresSettings: Sendable, CustomStringConvertible {
    /// How the connection uses TLS; the names and meanings of libpq's `sslmode` (without `allow`).
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate; plain TCP otherwise.
        case prefer
        /// TLS, encrypted but not authenticated (the certificate is not checked).
        case require
        /// TLS, with a certificate signed by a trusted CA (`sslrootcert`, or the system's roots).
        case verifyCA = "verify-ca"
        /// TLS, with a trusted certificate that names the host.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// Never printed; `description` leaves it out.
    public var password: String?
    public var sslMode: SSLMode
    /// A PEM file of the CA certificates to trust (`sslrootcert`), for `verify-ca` and `verify-full`.
    public var rootCertificate: String?
    /// Seconds allowed for the TCP connect and the start-up exchange (`connect_timeout`).
    public var connectTimeout: Double
    /// Shown in `pg_stat_activity` (`application_name`).
    public var applicationName: String?

    /// The URL as given, its password replaced by `***`.
    public let description: String

    public static let defaultPort = 5432
    /// libpq's default `connect_timeout` is "wait forever"; a store that cannot be reached should fail
    /// a nightly run within a bounded time instead.
    public static let defaultConnectTimeout: Double = 10

    /// Whether `text` is a PostgreSQL URL rather than a SQLite file path.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// `url` with the password (in the user part, or a `password=` option) replaced by `***`. Works on
    /// text that does not parse, so it is safe to use in the message about a bad URL.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        var result = String(url[..<schemeEnd.upperBound])
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            result += authority[..<colon] + ":***" + authority[at...]
        } else {
            result += authority
        }
        var tail = String(rest[authorityEnd...])
        if let question = tail.firstIndex(of: "?") {
            let options = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
                .map { option -> String in
                    option.lowercased().hasPrefix("password=") ? "password=***" : String(option)
                }
            tail = tail[...question] + options.joined(separator: "&")
        }
        return result + tail
    }

    /// The password to use when the URL carries none. `env` is the configuration's `databasePasswordEnv`:
    /// when given, that variable must be set (a deployment that names it means to use it, and a missing
    /// secret should stop the run, not fall back to no password). Otherwise `PGPASSWORD`, as libpq reads it.
    public static func password(
        env: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        if let env {
            guard let value = environment[env], !value.isEmpty else {
                throw PostgresSettingsError(
                    "databasePasswordEnv names the environment variable \(env), but \(env) is not set")
            }
            return value
        }
        if let value = environment["PGPASSWORD"], !value.isEmpty { return value }
        return nil
    }

    /// Parses `url`. `password`, when not nil, is used instead of one written in the URL (it comes from
    /// the environment, which a deployment controls more tightly than a configuration file).
    public init(url: String, password: String? = nil) throws {
        description = Self.redacted(url)
        guard Self.isURL(url), let schemeEnd = url.range(of: "://") else {
            throw PostgresSettingsError("\"\(description)\" does not start with postgresql:// or postgres://")
        }
        var rest = url[schemeEnd.upperBound...]
        var query: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }

        var userText: Substring?
        var passwordText: Substring?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                userText = userInfo[..<colon]
                passwordText = userInfo[userInfo.index(after: colon)...]
            } else {
                userText = userInfo
            }
        }

        var hostText = hostPort
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            // An IPv6 literal: [::1]:5432
            guard let close = hostPort.firstIndex(of: "]") else {
                throw PostgresSettingsError("host \"\(hostPort)\" has no closing ]")
            }
            hostText = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw PostgresSettingsError("unexpected \"\(after)\" after the host")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            hostText = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }

        let host = try Self.decode(hostText, "host")
        guard !host.contains(",") else {
            throw PostgresSettingsError("several hosts (\(host)) are not supported; name one")
        }
        self.host = host.isEmpty ? "localhost" : host

        if let portText, !portText.isEmpty {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw PostgresSettingsError("port \"\(portText)\" is not a number from 1 to 65535")
            }
            self.port = port
        } else {
            port = Self.defaultPort
        }

        let user = try userText.map { try Self.decode($0, "user name") } ?? ""
        self.user = user.isEmpty ? NSUserName() : user

        let database = try Self.decode(path, "database name")
        guard !database.isEmpty else {
            throw PostgresSettingsError("no database name (postgresql://user@host:port/DATABASE)")
        }
        self.database = database

        let urlPassword = try passwordText.map { try Self.decode($0, "password") }
        self.password = password ?? urlPassword

        sslMode = .prefer
        rootCertificate = nil
        connectTimeout = Self.defaultConnectTimeout
        applicationName = nil
        for option in query.split(separator: "&") {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.decode(parts[0], "option name")
            let value = parts.count > 1 ? try Self.decode(parts[1], key) : ""
            switch key {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    let names = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PostgresSettingsError("sslmode \"\(value)\" is not one of \(names)")
                }
                sslMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw PostgresSettingsError("sslrootcert is empty; name a PEM file") }
                rootCertificate = value
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0, seconds.isFinite else {
                    throw PostgresSettingsError("connect_timeout \"\(value)\" is not a positive number of seconds")
                }
                connectTimeout = seconds
            case "application_name":
                applicationName = value
            default:
                throw PostgresSettingsError(
                    "unknown option \"\(key)\" (known: sslmode, sslrootcert, connect_timeout, application_name)")
            }
        }
    }

    /// `host:port/database`, for messages.
    public var endpoint: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)/\(database)"
    }

    private static func decode(_ text: Substring, _ what: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw PostgresSettingsError("the \(what) has an invalid percent-encoding")
        }
        return decoded
    }
}

/// A database URL that cannot be used as it is.
public struct PostgresSettingsError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "database URL: \(message)" }
}
