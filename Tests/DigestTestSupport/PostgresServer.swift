import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for the tests, one per test process: a throwaway cluster in a temporary
/// folder, listening on 127.0.0.1 at a free port (and a Unix socket in its folder), tuned for speed
/// over durability (fsync off), stopped and removed when the process exits. Each test takes a fresh
/// database of its own:
///
///     let url = try PostgresServer.shared().createDatabase("outbox")
///     let database = try PostgresDatabase(settings: PostgresSettings(url: url, password: nil))
///
/// Anyone may connect from 127.0.0.1 as `digest` without a password (trust), except the role
/// `passwordUser`, which must give `passwordUserPassword` (SCRAM), for the tests of authentication.
/// The server offers TLS with a certificate for the name `localhost` only (not 127.0.0.1), signed by
/// a throwaway CA whose certificate is the PEM file `certificateAuthority`, for the `sslmode` tests.
///
/// The server binaries come from Debian's `postgresql` package (`scripts/setup --test`); when they are
/// missing, `shared()` throws, so the tests that need PostgreSQL fail rather than being skipped.
/// PostgreSQL refuses to run as root: when the tests run as root (containers, CI), the cluster belongs
/// to `nobody` and its commands run through `runuser`.
public final class PostgresServer: @unchecked Sendable {
    public let port: UInt16
    public let folder: String
    public let binaries: String
    /// The CA that signed the server's certificate (PEM), for `sslrootcert`.
    public var certificateAuthority: String { folder + "/tls/ca.pem" }
    /// The cluster's superuser, trusted from 127.0.0.1.
    public static let user = "digest"
    /// A role that must log in with a password.
    public static let passwordUser = "digest_password"
    public static let passwordUserPassword = "s3cret pass/word"

    /// Whether commits are flushed to disk as on a production server (`dedicated(durable: true)`); the
    /// shared server trades that for speed.
    public let durable: Bool
    private let lock = NSLock()
    private var stopped = false
    private var databaseCount = 0

    nonisolated(unsafe) private static var sharedServer: PostgresServer?
    nonisolated(unsafe) private static var sharedError: (any Error)?
    private static let sharedLock = NSLock()

    /// The server of this test process, started on first use. A start that failed is not retried:
    /// every later call throws the same error.
    public static func shared() throws -> PostgresServer {
        try sharedLock.withLock {
            if let sharedServer { return sharedServer }
            if let sharedError { throw sharedError }
            do {
                let server = try PostgresServer()
                sharedServer = server
                atexit { PostgresServer.stopShared() }
                return server
            } catch {
                sharedError = error
                throw error
            }
        }
    }

    private static func stopShared() {
        sharedLock.withLock { sharedServer }?.stop()
    }

    /// `postgresql://digest@127.0.0.1:PORT/DATABASE?sslmode=disable`
    public func url(database: String, user: String = PostgresServer.user, password: String? = nil) -> String {
        let credentials = password.map {
            user + ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)
        } ?? user
        return "postgresql://\(credentials)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// A new, empty database (owned by `digest`) and its URL. `prefix` makes names readable in the
    /// server's log.
    public func createDatabase(_ prefix: String = "t") throws -> String {
        let number = lock.withLock {
            databaseCount += 1
            return databaseCount
        }
        let clean = prefix.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let name = "\(clean.prefix(30))_\(number)_\(UUID().uuidString.prefix(8).lowercased())"
        try psql("CREATE DATABASE \(name)", database: "postgres")
        return url(database: name)
    }

    /// Runs SQL through `psql` as `digest` (for setting up what a test needs outside the code under test).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run(
            binaries + "/psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database,
             "-c", sql],
            as: nil, what: "psql")
    }

    /// Stops the server at once (no checkpoint: the data is thrown away) and removes its folder.
    public func stop() {
        let proceed = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard proceed else { return }
        _ = try? Self.run(
            binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"], as: Self.serverAccount,
            what: "pg_ctl stop")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A server of the caller's own, which it may crash and restart (the shared one serves every test of
    /// the process). `durable`: PostgreSQL's own settings for fsync and synchronous_commit, so a crash loses
    /// no acknowledged commit. The caller stops it.
    public static func dedicated(durable: Bool) throws -> PostgresServer {
        try PostgresServer(durable: durable)
    }

    /// Kills the server as a crash would (`pg_ctl stop -m immediate`: no checkpoint, no flush of anything
    /// not flushed yet), keeping its data for `restart()`.
    public func crash() throws {
        try Self.run(
            binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"], as: Self.serverAccount,
            what: "pg_ctl stop")
    }

    /// Starts the server again on its port, after `crash()`: PostgreSQL recovers from its WAL.
    public func restart() throws {
        try Self.run(
            binaries + "/pg_ctl",
            ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o",
             Self.options(port: port, folder: folder, durable: durable), "start"],
            as: Self.serverAccount, what: "pg_ctl start")
    }

    /// Stops the server and every backend of it with SIGSTOP, as a network partition or a stuck disk
    /// stalls it: connections stay open and nothing answers until `resume()`.
    public func pause() throws {
        for pid in try processes() { kill(pid, SIGSTOP) }
    }

    /// Lets a paused server go on.
    public func resume() throws {
        for pid in try processes() { kill(pid, SIGCONT) }
    }

    /// The postmaster (the first line of `postmaster.pid`) and its children, from /proc.
    private func processes() throws -> [pid_t] {
        let file = try String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8)
        guard let line = file.split(separator: "\n").first, let postmaster = pid_t(line) else {
            throw TestServerError.didNotStart("no server process in \(folder)/data/postmaster.pid")
        }
        var pids = [postmaster]
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (name) state ppid …": the name may hold spaces and parentheses, so read after the last ")".
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { pids.append(pid) }
        }
        return pids
    }

    // MARK: Starting

    private init(durable: Bool = false) throws {
        self.durable = durable
        binaries = try Self.findBinaries()
        folder = NSTemporaryDirectory() + "postgres-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
            if let account = Self.serverAccount { try Self.chown(folder, to: account) }
            try Self.run(
                binaries + "/initdb",
                ["-D", folder + "/data", "-U", Self.user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                as: Self.serverAccount, what: "initdb")
            try Self.requirePassword(ofRole: Self.passwordUser, in: folder + "/data/pg_hba.conf")
            try Self.makeCertificates(in: folder + "/tls")
            port = try Self.start(binaries: binaries, folder: folder, durable: durable)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        do {
            try psql("CREATE ROLE \(Self.passwordUser) LOGIN PASSWORD '\(Self.passwordUserPassword)'")
            // The schema's case-insensitive e-mail column needs an ICU collation; say so plainly if this
            // build of PostgreSQL has none.
            try psql(
                "CREATE COLLATION icu_check (provider = icu, locale = 'und-u-ks-level2', deterministic = false); "
                    + "DROP COLLATION icu_check")
        } catch {
            stop()
            throw error
        }
    }

    /// `pg_ctl start` on a free port, another one when the chosen port was taken meanwhile.
    private static func start(binaries: String, folder: String, durable: Bool) throws -> UInt16 {
        var failures: [String] = []
        for _ in 0..<3 {
            let port = FreePort.next()
            let log = folder + "/server.log"
            let options = options(port: port, folder: folder, durable: durable)
            do {
                try run(
                    binaries + "/pg_ctl", ["-D", folder + "/data", "-l", log, "-w", "-t", "60", "-o", options, "start"],
                    as: serverAccount, what: "pg_ctl start")
                return port
            } catch {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                failures.append("port \(port): \(error) \(text.suffix(600))")
                _ = try? run(
                    binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"], as: serverAccount,
                    what: "pg_ctl stop")
                guard text.contains("Address already in use") else { break }
            }
        }
        throw TestServerError.didNotStart("PostgreSQL (\(failures.joined(separator: "; ")))")
    }

    /// The server's settings: loopback only, TLS on; not durable unless asked (tests throw the data away).
    private static func options(port: UInt16, folder: String, durable: Bool) -> String {
        let speed = durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        return ([
            "-p \(port)", "-c listen_addresses=127.0.0.1", "-k \(folder)", "-c max_connections=200",
            "-c ssl=on", "-c ssl_cert_file=\(folder)/tls/server.pem", "-c ssl_key_file=\(folder)/tls/server.key",
        ] + speed).joined(separator: " ")
    }

    /// The newest /usr/lib/postgresql/VERSION/bin that has the server programs.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Int(name).map { (number: $0, name: name) } }
            .sorted { $0.number > $1.number }
        for version in versions {
            let bin = "\(root)/\(version.name)/bin"
            if ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy({
                FileManager.default.isExecutableFile(atPath: "\(bin)/\($0)")
            }) {
                return bin
            }
        }
        throw TestServerError.didNotStart(
            "PostgreSQL is not installed (no \(root)/*/bin/initdb): run scripts/setup --test")
    }

    /// A CA and a server certificate it signed for `localhost`, with openssl, as the files
    /// ca.pem, server.pem and server.key (readable only by the server's account, as postgres demands).
    private static func makeCertificates(in folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let openssl = "/usr/bin/openssl"
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            openssl,
            ["req", "-x509"] + curve + [
                "-keyout", folder + "/ca.key", "-out", folder + "/ca.pem", "-days", "7",
                "-subj", "/CN=DailyDigest test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], as: nil, what: "openssl (CA)")
        try run(
            openssl,
            ["req"] + curve + ["-keyout", folder + "/server.key", "-out", folder + "/server.csr", "-subj", "/CN=localhost"],
            as: nil, what: "openssl (server key)")
        let extensions = folder + "/server.ext"
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: extensions, atomically: false, encoding: .utf8)
        try run(
            openssl,
            ["x509", "-req", "-in", folder + "/server.csr", "-CA", folder + "/ca.pem", "-CAkey", folder + "/ca.key",
             "-CAcreateserial", "-out", folder + "/server.pem", "-days", "7", "-extfile", extensions],
            as: nil, what: "openssl (server certificate)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder + "/server.key")
        if let account = serverAccount {
            for file in ["server.key", "server.pem"] { try chown(folder + "/" + file, to: account) }
        }
    }

    /// "host all ROLE 127.0.0.1/32 scram-sha-256" ahead of initdb's trust lines (the first match wins).
    private static func requirePassword(ofRole role: String, in file: String) throws {
        let rules = try String(contentsOfFile: file, encoding: .utf8)
        let line = "host all \(role) 127.0.0.1/32 scram-sha-256\nlocal all \(role) scram-sha-256\n"
        try (line + rules).write(toFile: file, atomically: false, encoding: .utf8)
    }

    // MARK: Running commands

    /// The account the cluster belongs to: nobody when the tests run as root (postgres will not), else
    /// the tests' own account (nil).
    private static let serverAccount: String? = geteuid() == 0 ? "nobody" : nil

    private static func chown(_ path: String, to account: String) throws {
        guard let entry = getpwnam(account) else {
            throw TestServerError.didNotStart("PostgreSQL: no account \(account) to own the cluster")
        }
        guard Glibc.chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw TestServerError.didNotStart("PostgreSQL: chown \(path) to \(account): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs a program to completion (as `account` through runuser, when given); its output, or an
    /// error holding it when it fails.
    @discardableResult
    private static func run(_ program: String, _ arguments: [String], as account: String?, what: String) throws
        -> String
    {
        let argv = account.map { ["/usr/sbin/runuser", "-u", $0, "--", program] } ?? [program]
        let outputFile = NSTemporaryDirectory() + "postgres-cmd-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        environment.removeValue(forKey: "PGPASSWORD")
        let status = try ChildProcess.spawnLock.withLock {
            try spawn(argv + arguments, environment: environment, output: outputFile)
        }.wait()
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestServerError.didNotStart(
                "\(what) exited with \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }

    /// A spawned program, to wait for.
    private struct Spawned {
        let pid: pid_t
        /// The exit status, or 128 + the signal that ended it.
        func wait() throws -> Int32 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                guard errno == EINTR else {
                    throw TestServerError.didNotStart("waitpid \(pid): \(String(cString: strerror(errno)))")
                }
            }
            let signal = status & 0x7F
            return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        }
    }

    /// posix_spawn and waitpid rather than Foundation's `Process`: its `waitUntilExit()` never returned
    /// for `runuser … pg_ctl start` (runuser ended and stayed a zombie, unreaped), presumably because
    /// the server that pg_ctl leaves running holds on to something Process watches. The child gets
    /// stdin from /dev/null, stdout and stderr into `output`, no other descriptor of the tests (the
    /// long-lived server would keep their sockets and pipes open), "/" as its working directory (every
    /// account may enter it), and an empty signal mask (spawning threads may block signals).
    private static func spawn(_ argv: [String], environment: [String: String], output: String) throws -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Glibc ≥ 2.34; looked up at run time because Swift's Glibc module does not declare GNU extensions.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>,
            UnsafePointer<CChar>) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") {
            _ = unsafeBitCast(symbol, to: ChangeDirectory.self)(&actions, "/")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = argv.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, variables)
        guard result == 0 else {
            throw TestServerError.didNotStart("cannot run \(argv[0]): \(String(cString: strerror(result)))")
        }
        return Spawned(pid: pid)
    }
}
