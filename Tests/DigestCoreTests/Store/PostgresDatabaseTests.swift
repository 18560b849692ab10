import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// `PostgresDatabase` against a real PostgreSQL (one server per test process, a fresh database per
/// test), and the parts that need no server: URL settings, placeholder numbering, script splitting and
/// the pool's bookkeeping.
@Suite struct PostgresDatabaseTests {
    func database(_ prefix: String, maximumConnections: Int = 8) throws -> PostgresDatabase {
        let url = try PostgresServer.shared().createDatabase(prefix)
        return try PostgresDatabase(settings: PostgresSettings(url: url, password: nil), maximumConnections: maximumConnections)
    }

    // MARK: The test server

    @Test func theTestServerStartsAndHandsOutFreshDatabases() throws {
        let server = try PostgresServer.shared()
        #expect(server.port > 0)
        let first = try server.createDatabase("fresh")
        let second = try server.createDatabase("fresh")
        #expect(first != second)
        #expect(first.hasPrefix("postgresql://digest@127.0.0.1:\(server.port)/fresh_"))
        let database = try PostgresDatabase(settings: PostgresSettings(url: first, password: nil))
        defer { database.close() }
        let name: String? = try database.read { try $0.fetchValue("SELECT current_database()") }
        #expect(first.contains("/\(name ?? "?")?"))
    }

    // MARK: Statements and values

    @Test func placeholdersAreNumberedOutsideQuotesAndComments() {
        let translated = PostgresStatementText.numberingPlaceholders(
            """
            SELECT ?, '?', 'it''s ?', E'\\'?', "col?", ? -- a ? in a comment
            /* ? /* nested ? */ ? */ FROM t WHERE a = ? AND b = $$?$$ AND c = $tag$ ? $ ? $tag$ AND d = ?
            """)
        #expect(translated.count == 4)
        #expect(
            translated.sql == """
                SELECT $1, '?', 'it''s ?', E'\\'?', "col?", $2 -- a ? in a comment
                /* ? /* nested ? */ ? */ FROM t WHERE a = $3 AND b = $$?$$ AND c = $tag$ ? $ ? $tag$ AND d = $4
                """)
        #expect(PostgresStatementText.numberingPlaceholders("SELECT 1").count == 0)
    }

    @Test func scriptsAreSplitIntoStatements() {
        let statements = PostgresStatementText.statements(
            """
            -- the first migration
            CREATE TABLE a (x TEXT DEFAULT ';');
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;;
            /* only a comment; */
            INSERT INTO a VALUES ('x;y')
            """)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("CREATE TABLE a (x TEXT DEFAULT ';')"))
        #expect(statements[1].contains("$$ SELECT 1; $$"))
        #expect(statements[2].hasSuffix("INSERT INTO a VALUES ('x;y')"))
    }

    @Test func aQuestionMarkInAStringLiteralIsLeftAlone() throws {
        let database = try database("literal")
        defer { database.close() }
        let row = try database.read { try $0.fetchOne("SELECT ? AS a, '?' AS b, 'x''?' AS c", .integer(7)) }
        #expect(try row?["a"] as Int64? == 7)
        #expect(try row?["b"] as String? == "?")
        #expect(try row?["c"] as String? == "x'?")
    }

    @Test func everyValueKindRoundTrips() throws {
        let database = try database("roundtrip")
        defer { database.close() }
        // Whole milliseconds, as SQLite keeps them, read back as the same Date (timestamptz keeps microseconds).
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        let old = Date(timeIntervalSince1970: 915_148_800.987_654)
        let values: [SQLValue] = [
            .integer(Int64.max), .real(-2.5e-3), .text("héllo ✉️ 'quoted' ?"), .blob([0, 1, 0xFF, 0x7F]), .date(date),
        ]
        #expect(try database.read { try $0.fetchValue("SELECT ?::timestamptz", .date(old)) as Date? } == old)
        let rows = try database.write { db -> [SQLRow] in
            try db.executeScript(
                """
                CREATE TABLE kinds (
                    id SERIAL PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, t TEXT, b BYTEA, d TIMESTAMPTZ);
                """)
            try db.execute("INSERT INTO kinds (n, r, t, b, d) VALUES (?, ?, ?, ?, ?)", values)
            try db.execute("INSERT INTO kinds (n, r, t, b, d) VALUES (?, ?, ?, ?, ?)", [.null, .null, .null, .null, .null])
            return try db.fetchAll("SELECT n, r, t, b, d FROM kinds ORDER BY id")
        }
        #expect(rows.count == 2)
        #expect(rows[0].values == values)
        #expect(rows[1].values == Array(repeating: .null, count: 5))
        #expect(rows[0].columns.names == ["n", "r", "t", "b", "d"])
        #expect(try rows[0]["D"] as Date == date)

        // Other column types read as the closest value.
        let other = try database.read {
            try $0.fetchOne(
                """
                SELECT 1::int2 AS small, 2::int4 AS medium, true AS yes, 1.5::float4 AS single, 12::numeric AS whole,
                    1.25::numeric AS fraction, 'x'::varchar AS v, 'ab'::char(3) AS fixed, DATE '2026-12-01' AS day,
                    '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid AS id, '{"a": 1}'::jsonb AS doc
                """)
        }
        let expected: [SQLValue] = [
            .integer(1), .integer(2), .integer(1), .real(1.5), .integer(12), .real(1.25), .text("x"), .text("ab "),
            .text("2026-12-01"), .text("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), .text("{\"a\": 1}"),
        ]
        #expect(other?.values == expected)
    }

    @Test func userTypesReadAsTextAndOtherTypesAreNamed() throws {
        let database = try database("types")
        defer { database.close() }
        try database.write { try $0.executeScript("CREATE TYPE mood AS ENUM ('calm', 'busy')") }
        #expect(try database.read { try $0.fetchValue("SELECT 'busy'::mood") as String? } == "busy")
        #expect {
            try database.read { try $0.fetchAll("SELECT interval '1 day' AS wait") }
        } throws: { error in
            "\(error)" == "column wait: PostgreSQL type INTERVAL is not read by the store; cast it in the query (::text)"
        }
        #expect(try database.read { try $0.fetchValue("SELECT (interval '1 day')::text") as String? } == "1 day")
    }

    @Test func executeCountsTheRowsItChanged() throws {
        let database = try database("counts")
        defer { database.close() }
        try database.write { db in
            #expect(try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, state TEXT)") == 0)
            #expect(try db.execute("INSERT INTO t VALUES (?, 'new'), (?, 'new'), (?, 'old')", .integer(1), .integer(2), .integer(3)) == 3)
            #expect(try db.execute("UPDATE t SET state = 'seen' WHERE state = ?", .text("new")) == 2)
            #expect(try db.execute("UPDATE t SET state = 'x' WHERE id = ?", .integer(99)) == 0)
            #expect(try db.execute("DELETE FROM t WHERE id >= ?", .integer(2)) == 2)
            #expect(try db.execute("SELECT * FROM t") == 0)
            let inserted = try db.fetchAll("INSERT INTO t VALUES (?, 'r') RETURNING id", .integer(10))
            #expect(try inserted.first?[0] as Int? == 10)
        }
    }

    @Test func aWrongNumberOfArgumentsIsAnError() throws {
        let database = try database("arguments")
        defer { database.close() }
        #expect {
            try database.read { try $0.fetchAll("SELECT ?, ?", .integer(1)) }
        } throws: { error in
            "\(error)".contains("the statement has 2 placeholders but 1 arguments were given")
        }
    }

    @Test func aWriteThatThrowsLeavesNothingBehind() throws {
        struct Stop: Error {}
        let database = try database("rollback")
        defer { database.close() }
        _ = try database.write { try $0.execute("CREATE TABLE t (id BIGINT)") }
        #expect(throws: Stop.self) {
            try database.write { db in
                try db.execute("INSERT INTO t VALUES (1)")
                throw Stop()
            }
        }
        let count: Int? = try database.read { try $0.fetchValue("SELECT count(*) FROM t") }
        #expect(count == 0)
        // The connection went back to the pool in good order.
        _ = try database.write { try $0.execute("INSERT INTO t VALUES (2)") }
        #expect(try database.read { try $0.fetchValue("SELECT count(*) FROM t") as Int? } == 1)
    }

    @Test func aUniqueViolationKeepsTheServersWords() throws {
        let database = try database("unique")
        defer { database.close() }
        _ = try database.write { try $0.execute("CREATE TABLE t (email TEXT CONSTRAINT t_email UNIQUE)") }
        _ = try database.write { try $0.execute("INSERT INTO t VALUES (?)", .text("a@x.org")) }
        do {
            _ = try database.write { try $0.execute("INSERT INTO t VALUES (?)", .text("a@x.org")) }
            Issue.record("a duplicate was accepted")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(error.detail == "Key (email)=(a@x.org) already exists.")
            #expect(
                error.description == "PostgreSQL 23505: duplicate key value violates unique constraint \"t_email\" "
                    + "(detail: Key (email)=(a@x.org) already exists.) in: INSERT INTO t VALUES (?)")
        }
    }

    @Test func aReadIsReadOnly() throws {
        let database = try database("readonly")
        defer { database.close() }
        _ = try database.write { try $0.execute("CREATE TABLE t (id BIGINT)") }
        #expect {
            try database.read { try $0.execute("INSERT INTO t VALUES (1)") }
        } throws: { error in
            (error as? PostgresError)?.sqlState == "25006"
        }
    }

    @Test func scriptsRunSeveralStatements() throws {
        let database = try database("script")
        defer { database.close() }
        try database.write { db in
            try db.executeScript(
                """
                CREATE TABLE a (x TEXT DEFAULT 'semi;colon');
                -- a comment; with a semicolon
                CREATE FUNCTION twice(n BIGINT) RETURNS BIGINT AS $$ SELECT n * 2; $$ LANGUAGE sql;
                INSERT INTO a DEFAULT VALUES;
                """)
        }
        let row = try database.read { try $0.fetchOne("SELECT x, twice(21) AS n FROM a") }
        #expect(try row?["x"] as String? == "semi;colon")
        #expect(try row?["n"] as Int? == 42)
    }

    @Test func theNocaseCollationMakesEmailsUniqueWhateverTheirCase() throws {
        let database = try database("nocase")
        defer { database.close() }
        try database.write { db in
            try db.executeScript(
                """
                CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
                CREATE TABLE subscribers (id BIGSERIAL PRIMARY KEY, email TEXT COLLATE nocase UNIQUE);
                """)
            try db.execute("INSERT INTO subscribers (email) VALUES (?)", .text("a@x.org"))
        }
        #expect {
            try database.write { try $0.execute("INSERT INTO subscribers (email) VALUES (?)", .text("A@x.org")) }
        } throws: { error in
            (error as? PostgresError)?.sqlState == "23505"
        }
        let found: Int? = try database.read { try $0.fetchValue("SELECT id FROM subscribers WHERE email = ?", .text("A@X.ORG")) }
        #expect(found == 1)
    }

    // MARK: Concurrency

    @Test func twoWritersSkippingLockedRowsClaimDisjointRows() throws {
        let database = try database("skiplocked")
        defer { database.close() }
        try database.write { db in
            try db.execute("CREATE TABLE jobs (id BIGINT PRIMARY KEY, owner TEXT)")
            try db.execute("INSERT INTO jobs SELECT g, NULL FROM generate_series(1, 10) AS g")
        }
        let claimed = LockedValue<[String: [Int]]>([:])
        let bothHoldLocks = DispatchGroup()
        bothHoldLocks.enter()
        bothHoldLocks.enter()
        let done = DispatchGroup()
        for worker in ["a", "b"] {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                do {
                    var first = true
                    let ids = try database.write { db -> [Int] in
                        let ids: [Int] = try db.fetchColumn(
                            "SELECT id FROM jobs WHERE owner IS NULL ORDER BY id LIMIT 5" + db.dialect.skipLocked)
                        if first {
                            // Both transactions hold their rows at once before either commits.
                            first = false
                            bothHoldLocks.leave()
                            _ = bothHoldLocks.wait(timeout: .now() + 10)
                        }
                        for id in ids { try db.execute("UPDATE jobs SET owner = ? WHERE id = ?", .text(worker), .integer(Int64(id))) }
                        return ids
                    }
                    claimed.withLock { $0[worker] = ids }
                } catch {
                    Issue.record("worker \(worker): \(error)")
                }
            }
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        let a = Set(claimed.withLock { $0["a"] ?? [] })
        let b = Set(claimed.withLock { $0["b"] ?? [] })
        #expect(a.count == 5 && b.count == 5)
        #expect(a.isDisjoint(with: b))
        #expect(a.union(b) == Set(1...10))
    }

    @Test func aDeadlockedWriteIsRunAgain() throws {
        let database = try database("deadlock")
        defer { database.close() }
        try database.write { db in
            try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
            try db.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
        }
        let attempts = LockedValue(0)
        let bothHoldOneRow = DispatchGroup()
        bothHoldOneRow.enter()
        bothHoldOneRow.enter()
        let done = DispatchGroup()
        for order: [Int64] in [[1, 2], [2, 1]] {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                var first = true
                do {
                    try database.write { db in
                        attempts.withLock { $0 += 1 }
                        try db.execute("UPDATE t SET n = n + 1 WHERE id = ?", .integer(order[0]))
                        if first {
                            first = false
                            bothHoldOneRow.leave()
                            _ = bothHoldOneRow.wait(timeout: .now() + 10)
                        }
                        try db.execute("UPDATE t SET n = n + 1 WHERE id = ?", .integer(order[1]))
                    }
                } catch {
                    Issue.record("order \(order): \(error)")
                }
            }
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        // One of the two was chosen as the deadlock victim and ran a second time.
        #expect(attempts.withLock { $0 } == 3)
        let total: Int? = try database.read { try $0.fetchValue("SELECT sum(n) FROM t") }
        #expect(total == 4)
    }

    @Test func aSerializationFailureIsRetriedAndOtherErrorsAreNot() throws {
        let database = try database("retry")
        defer { database.close() }
        var attempts = 0
        let value = try database.write { _ -> String in
            attempts += 1
            if attempts < 3 { throw PostgresError(sqlState: "40001", message: "could not serialize access") }
            return "done"
        }
        #expect(value == "done" && attempts == 3)

        attempts = 0
        #expect(throws: PostgresError.self) {
            try database.write { _ in
                attempts += 1
                throw PostgresError(sqlState: "40001", message: "could not serialize access")
            }
        }
        #expect(attempts == PostgresDatabase.maximumAttempts)

        attempts = 0
        #expect(throws: PostgresError.self) {
            try database.write { _ in
                attempts += 1
                throw PostgresError(sqlState: "23505", message: "duplicate")
            }
        }
        #expect(attempts == 1)
    }

    @Test func aPoolOfOneConnectionServesThreadsInTurn() throws {
        let database = try database("pool", maximumConnections: 1)
        defer { database.close() }
        _ = try database.write { try $0.execute("CREATE TABLE t (n BIGINT)") }
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            do {
                _ = try database.write { try $0.execute("INSERT INTO t VALUES (?)", .integer(Int64(index))) }
            } catch {
                Issue.record("writer \(index): \(error)")
            }
        }
        let pids: Int? = try database.read { try $0.fetchValue("SELECT count(*) FROM t") }
        #expect(pids == 8)
    }

    @Test func closedMeansClosed() throws {
        let database = try database("closed")
        database.close()
        database.close()
        #expect {
            try database.read { try $0.fetchAll("SELECT 1") }
        } throws: { error in
            "\(error)".contains("was closed")
        }
    }

    // MARK: Connecting

    @Test func aWrongPortFailsAtOpenNamingTheAddress() throws {
        let port = FreePort.next()
        let settings = try PostgresSettings(url: "postgresql://digest@127.0.0.1:\(port)/nowhere?sslmode=disable")
        #expect {
            try PostgresDatabase(settings: settings)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot connect to PostgreSQL at 127.0.0.1:\(port)/nowhere as digest: ")
                && text.contains("refused")
        }
    }

    @Test func aWrongPasswordOrDatabaseFailsAtOpenWithTheServersReason() throws {
        let server = try PostgresServer.shared()
        let wrong = try PostgresSettings(
            url: server.url(database: "postgres", user: PostgresServer.passwordUser, password: "wrong"))
        #expect {
            try PostgresDatabase(settings: wrong)
        } throws: { error in
            "\(error)" == "cannot connect to PostgreSQL at 127.0.0.1:\(server.port)/postgres as "
                + "\(PostgresServer.passwordUser): password authentication failed for user \"\(PostgresServer.passwordUser)\""
                + " (SQLSTATE 28P01)"
        }
        let missing = try PostgresSettings(url: server.url(database: "postgres", user: PostgresServer.passwordUser))
        #expect {
            try PostgresDatabase(settings: missing)
        } throws: { error in
            "\(error)".contains("the server asks for a password and none was given (set PGPASSWORD")
        }
        let noDatabase = try PostgresSettings(url: server.url(database: "nosuchdb"))
        #expect {
            try PostgresDatabase(settings: noDatabase)
        } throws: { error in
            "\(error)".hasSuffix("/nosuchdb as digest: database \"nosuchdb\" does not exist (SQLSTATE 3D000)")
        }
        // The right password, from the URL (percent-encoded) or given apart from it (it wins).
        let right = try PostgresDatabase(
            settings: PostgresSettings(
                url: server.url(
                    database: "postgres", user: PostgresServer.passwordUser, password: PostgresServer.passwordUserPassword)))
        #expect(try right.read { try $0.fetchValue("SELECT current_user") as String? } == PostgresServer.passwordUser)
        right.close()
        let given = try PostgresDatabase(
            settings: PostgresSettings(
                url: server.url(database: "postgres", user: PostgresServer.passwordUser, password: "wrong"),
                password: PostgresServer.passwordUserPassword))
        given.close()
    }

    /// Whether the session of `database` is encrypted.
    func usesTLS(_ database: PostgresDatabase) throws -> Bool {
        try database.read { try $0.fetchValue("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") } ?? false
    }

    @Test func eachSSLModeAgainstAServerWithTLS() throws {
        let server = try PostgresServer.shared()
        let base = "postgresql://digest@127.0.0.1:\(server.port)/postgres"
        let ca = "sslrootcert=" + server.certificateAuthority
        // disable: plain; prefer (the default) and require: encrypted, the certificate unchecked.
        for (query, encrypted) in [("?sslmode=disable", false), ("", true), ("?sslmode=require", true)] {
            let database = try PostgresDatabase(settings: PostgresSettings(url: base + query))
            #expect(try usesTLS(database) == encrypted, "\(query)")
            database.close()
        }
        // verify-ca: the test CA signed it, whatever the name.
        let verifiedCA = try PostgresDatabase(settings: PostgresSettings(url: base + "?sslmode=verify-ca&" + ca))
        #expect(try usesTLS(verifiedCA))
        verifiedCA.close()
        // verify-full: the certificate names localhost, not 127.0.0.1.
        let localhost = "postgresql://digest@localhost:\(server.port)/postgres?sslmode=verify-full&" + ca
        let verifiedFull = try PostgresDatabase(settings: PostgresSettings(url: localhost))
        #expect(try usesTLS(verifiedFull))
        verifiedFull.close()
        #expect {
            try PostgresDatabase(settings: PostgresSettings(url: base + "?sslmode=verify-full&" + ca))
        } throws: { error in
            "\(error)" == "cannot connect to PostgreSQL at 127.0.0.1:\(server.port)/postgres as digest: "
                + "the server's certificate is not for 127.0.0.1 (sslmode=verify-full)"
        }
        // An unknown CA (the system's roots do not hold the test CA).
        #expect {
            try PostgresDatabase(settings: PostgresSettings(url: base + "?sslmode=verify-ca"))
        } throws: { error in
            "\(error)".hasPrefix(
                "cannot connect to PostgreSQL at 127.0.0.1:\(server.port)/postgres as digest: "
                    + "the server's certificate is not signed by the system's CAs (TLS: ")
        }
        // A root certificate file that is not one.
        let folder = TemporaryDirectory("pg-ca")
        let notPEM = folder.write("ca.pem", "not a certificate\n")
        #expect {
            try PostgresDatabase(settings: PostgresSettings(url: base + "?sslmode=verify-ca&sslrootcert=" + notPEM))
        } throws: { error in
            "\(error)" == "database URL: sslrootcert \(notPEM) holds no PEM certificate"
        }
    }

    @Test func requiredTLSAgainstAServerWithout() throws {
        // The server of this test process offers TLS; a plain socket that answers the TLS request with
        // "N" stands for one that does not.
        let listener = try PlainPostgresStandIn()
        defer { listener.stop() }
        let url = "postgresql://digest@127.0.0.1:\(listener.port)/postgres"
        #expect {
            try PostgresDatabase(settings: PostgresSettings(url: url + "?sslmode=require"))
        } throws: { error in
            "\(error)".hasSuffix("the server does not offer TLS, which sslmode=require requires")
        }
    }

    // MARK: Settings

    @Test func settingsDefaults() throws {
        let settings = try PostgresSettings(url: "postgres:///digest")
        #expect(settings.host == "localhost")
        #expect(settings.port == 5432)
        #expect(settings.user == NSUserName())
        #expect(settings.database == "digest")
        #expect(settings.password == nil)
        #expect(settings.sslMode == .prefer)
        #expect(settings.rootCertificate == nil)
        #expect(settings.connectTimeout == PostgresSettings.defaultConnectTimeout)
        #expect(settings.applicationName == nil)
    }

    @Test func settingsEveryPart() throws {
        let settings = try PostgresSettings(
            url: "postgresql://us%40er:p%40ss%3Aw%2Frd@db.example.org:6543/daily%20digest"
                + "?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=2.5&application_name=digest%20send")
        #expect(settings.user == "us@er")
        #expect(settings.password == "p@ss:w/rd")
        #expect(settings.host == "db.example.org")
        #expect(settings.port == 6543)
        #expect(settings.database == "daily digest")
        #expect(settings.sslMode == .verifyFull)
        #expect(settings.rootCertificate == "/etc/ca.pem")
        #expect(settings.connectTimeout == 2.5)
        #expect(settings.applicationName == "digest send")
        #expect(settings.endpoint == "db.example.org:6543/daily digest")
        #expect(!settings.description.contains("p%40ss"))
        #expect(settings.description.hasPrefix("postgresql://us%40er:***@db.example.org:6543/daily%20digest?"))

        let ipv6 = try PostgresSettings(url: "postgresql://u@[::1]:5433/d")
        #expect(ipv6.host == "::1" && ipv6.port == 5433 && ipv6.endpoint == "[::1]:5433/d")

        // A password given apart from the URL wins over the one in it.
        #expect(try PostgresSettings(url: "postgresql://u:inurl@h/d", password: "given").password == "given")
        #expect(try PostgresSettings(url: "postgresql://u:inurl@h/d", password: nil).password == "inurl")
    }

    @Test func settingsSSLModes() throws {
        for mode in PostgresSettings.SSLMode.allCases {
            #expect(try PostgresSettings(url: "postgresql://h/d?sslmode=\(mode.rawValue)").sslMode == mode)
        }
        #expect {
            try PostgresSettings(url: "postgresql://h/d?sslmode=bogus")
        } throws: { error in
            "\(error)" == "database URL: sslmode \"bogus\" is not one of disable, prefer, require, verify-ca, verify-full"
        }
    }

    @Test func settingsErrorsNameWhatIsWrong() {
        let cases: [(String, String)] = [
            ("postgresql://h:5432/", "database URL: no database name (postgresql://user@host:port/DATABASE)"),
            ("postgresql://h:99999/d", "database URL: port \"99999\" is not a number from 1 to 65535"),
            ("postgresql://h/d?connect_timeout=soon", "database URL: connect_timeout \"soon\" is not a positive number of seconds"),
            ("postgresql://h/d?sslcert=x", "database URL: unknown option \"sslcert\" (known: sslmode, sslrootcert, connect_timeout, application_name)"),
            ("postgresql://h1,h2/d", "database URL: several hosts (h1,h2) are not supported; name one"),
            ("mysql://h/d", "database URL: \"mysql://h/d\" does not start with postgresql:// or postgres://"),
            ("postgresql://u:secret@h/d?password=secret&bogus=1",
             "database URL: unknown option \"password\" (known: sslmode, sslrootcert, connect_timeout, application_name)"),
        ]
        for (url, message) in cases {
            #expect(throws: PostgresSettingsError.self, "\(url)") { try PostgresSettings(url: url) }
            do {
                _ = try PostgresSettings(url: url)
            } catch {
                #expect("\(error)" == message)
                #expect(!"\(error)".contains("secret"))
            }
        }
    }

    @Test func passwordsNeverShow() throws {
        #expect(PostgresSettings.redacted("postgresql://u:secret@h/d") == "postgresql://u:***@h/d")
        #expect(PostgresSettings.redacted("postgres://u:p@ss@h:1/d?x=1") == "postgres://u:***@h:1/d?x=1")
        #expect(PostgresSettings.redacted("postgresql://u@h/d?password=secret&a=b") == "postgresql://u@h/d?password=***&a=b")
        #expect(PostgresSettings.redacted("postgresql://h/d") == "postgresql://h/d")
        #expect(PostgresSettings.redacted("/var/lib/digest.sqlite") == "/var/lib/digest.sqlite")
        let settings = try PostgresSettings(url: "postgresql://u:secret@h/d", password: "other")
        #expect("\(settings)" == "postgresql://u:***@h/d")
        #expect(PostgresSettings.isURL("postgres://h/d") && PostgresSettings.isURL("postgresql://h/d"))
        #expect(!PostgresSettings.isURL("digest.sqlite"))
    }

    @Test func passwordFromTheEnvironment() throws {
        #expect(try PostgresSettings.password(env: "DIGEST_DB_PASSWORD", environment: ["DIGEST_DB_PASSWORD": "x"]) == "x")
        #expect {
            try PostgresSettings.password(env: "DIGEST_DB_PASSWORD", environment: ["PGPASSWORD": "y"])
        } throws: { error in
            "\(error)" == "database URL: databasePasswordEnv names the environment variable DIGEST_DB_PASSWORD, "
                + "but DIGEST_DB_PASSWORD is not set"
        }
        #expect(try PostgresSettings.password(env: nil, environment: ["PGPASSWORD": "y"]) == "y")
        #expect(try PostgresSettings.password(env: nil, environment: [:]) == nil)
    }

    // MARK: The pool's bookkeeping

    @Test func poolStateOpensUpToTheMaximumThenWaits() {
        var state = PostgresConnectionPool<Int>.State(maximum: 2)
        guard case .open = state.lease(), case .open = state.lease(), case .wait = state.lease() else {
            Issue.record("expected open, open, wait")
            return
        }
        guard case .keep = state.release(1), case .use(1) = state.lease() else {
            Issue.record("a released connection should be leased again")
            return
        }
        state.dropped()
        guard case .open = state.lease() else {
            Issue.record("a dropped connection frees its place")
            return
        }
        _ = state.release(2)
        #expect(state.close() == [2])
        #expect(state.count == 1)
        guard case .close(3) = state.release(3), case .closed = state.lease() else {
            Issue.record("after close, a released connection is closed and no lease is given")
            return
        }
        #expect(state.count == 0)
    }
}

/// A loopback listener that answers a client's TLS request (SSLRequest, 8 bytes) the way a PostgreSQL
/// without TLS does, with "N", then hangs up: enough for the client's `sslmode=require` check.
final class PlainPostgresStandIn: @unchecked Sendable {
    let port: UInt16
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var chosen: UInt16 = 0
        for _ in 0..<20 {
            let candidate = FreePort.next()
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = candidate.bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound {
                chosen = candidate
                break
            }
        }
        guard chosen != 0, listen(descriptor, 8) == 0 else {
            close(descriptor)
            throw TestServerError.didNotStart("plain PostgreSQL stand-in")
        }
        port = chosen
        Thread.detachNewThread {
            while true {
                let client = accept(descriptor, nil, nil)
                guard client >= 0 else { return }
                var request = [UInt8](repeating: 0, count: 8)
                _ = read(client, &request, 8)
                _ = write(client, "N", 1)
                close(client)
            }
        }
    }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}
