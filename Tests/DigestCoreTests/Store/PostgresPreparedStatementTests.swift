import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// The prepared statements each PostgreSQL connection keeps (`PreparedStatementCache`), against a real
/// server, and the cache's bookkeeping alone.
@Suite struct PostgresPreparedStatementTests {
    /// One connection, so every transaction of a test runs on the same session.
    func database(_ prefix: String) throws -> PostgresDatabase {
        let url = try PostgresServer.shared().createDatabase(prefix)
        return try PostgresDatabase(settings: PostgresSettings(url: url, password: nil), maximumConnections: 1)
    }

    /// How often the session ran its prepared statement for `sql` (translated), and how many it holds for it.
    func prepared(_ sql: String, in database: PostgresDatabase) throws -> (statements: Int, runs: Int) {
        let text = PostgresStatementText.numberingPlaceholders(sql).sql
        let row = try database.read { db in
            try db.fetchOne(
                """
                SELECT count(*) AS statements, coalesce(sum(generic_plans + custom_plans), 0) AS runs
                FROM pg_prepared_statements WHERE statement = '\(text.replacingOccurrences(of: "'", with: "''"))'
                """)
        }
        let statements: Int = try row?["statements"] ?? 0
        let runs: Int = try row?["runs"] ?? 0
        return (statements, runs)
    }

    @Test func aStatementRunAgainIsPreparedOnceAndReusedOnItsConnection() throws {
        let database = try database("prepared")
        defer { database.close() }
        try database.write { try $0.executeScript("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT)") }
        try database.write { db in
            for id in 1...3 { try db.execute("INSERT INTO t VALUES (?, ?)", .integer(Int64(id)), .text("n\(id)")) }
        }
        let sql = "SELECT id, name FROM t WHERE id >= ? ORDER BY id"
        let first = try database.readStatement { try $0.fetchAll(sql, .integer(2)) }
        #expect(first.count == 2)
        #expect(try prepared(sql, in: database).statements == 0)  // once: the unnamed statement

        // The second run prepares it (Parse, Describe and Sync answered, then Bind and Execute): two round trips.
        let before = try #require(database.traffic)
        _ = try database.readStatement { try $0.fetchAll(sql, .integer(2)) }
        let preparing = try #require(database.traffic)
        #expect(preparing.roundTrips - before.roundTrips == 2)

        // From then on, one round trip each, the same statement on the server.
        for id in 1...4 {
            let rows = try database.readStatement { try $0.fetchAll(sql, .integer(Int64(id))) }
            #expect(rows.count == max(0, 4 - id))
            if let row = rows.first { #expect(try row["name"] as String == "n\(id)") }
        }
        let after = try #require(database.traffic)
        #expect(after.roundTrips - preparing.roundTrips == 4)
        let server = try prepared(sql, in: database)
        #expect(server.statements == 1)
        #expect(server.runs == 5)

        // Arguments of another type are another statement (the server fixed the parameter's type).
        _ = try database.readStatement { try $0.fetchAll("SELECT ? AS v", .text("a")) }
        _ = try database.readStatement { try $0.fetchAll("SELECT ? AS v", .integer(1)) }
        let typed = try database.readStatement { try $0.fetchAll("SELECT ? AS v", .integer(2)) }
        #expect(try typed.first?["v"] as Int64? == 2)
        let text = try database.readStatement { try $0.fetchAll("SELECT ? AS v", .text("b")) }
        #expect(try text.first?["v"] as String? == "b")
        #expect(try prepared("SELECT ? AS v", in: database).statements == 2)
    }

    @Test func aStatementWhoseTableChangedIsPreparedAgain() throws {
        let database = try database("altered")
        defer { database.close() }
        try database.write { try $0.executeScript("CREATE TABLE t (id BIGINT PRIMARY KEY); INSERT INTO t VALUES (1)") }
        let sql = "SELECT * FROM t WHERE id = ?"
        for _ in 1...3 { _ = try database.read { try $0.fetchAll(sql, .integer(1)) } }
        #expect(try prepared(sql, in: database).statements == 1)

        // Its rows change shape: PostgreSQL refuses to run the plan ("cached plan must not change result type");
        // the transaction runs again with the statement prepared anew, and the old one is deallocated.
        try database.write { try $0.executeScript("ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'added'") }
        let rows = try database.read { try $0.fetchAll(sql, .integer(1)) }
        #expect(rows.first?.columns.names == ["id", "note"])
        #expect(try rows.first?["note"] as String? == "added")
        let server = try prepared(sql, in: database)
        #expect(server.statements == 1)
        #expect(server.runs == 1)
        // And in a write transaction (its other statements run again with it).
        try database.write { try $0.executeScript("ALTER TABLE t ADD COLUMN more BIGINT DEFAULT 7") }
        var bodies = 0
        let written = try database.write { db -> [SQLRow] in
            bodies += 1
            try db.execute("INSERT INTO t (id) VALUES (?) ON CONFLICT DO NOTHING", .integer(2))
            return try db.fetchAll(sql, .integer(2))
        }
        #expect(bodies == 2)
        #expect(try written.first?["more"] as Int64? == 7)
        #expect(try database.read { try $0.fetchValue("SELECT count(*) FROM t") as Int? } == 2)
    }

    @Test func errorsOfAPreparedStatementNameItsSQL() throws {
        let database = try database("errors")
        defer { database.close() }
        let sql = "SELECT 10 / ? AS share"
        for divisor in [1, 2, 5] {
            let row = try database.read { try $0.fetchOne(sql, .integer(Int64(divisor))) }
            #expect(try row?["share"] as Int64? == Int64(10 / divisor))
        }
        #expect(try prepared(sql, in: database).statements == 1)
        #expect {
            try database.read { try $0.fetchAll(sql, .integer(0)) }
        } throws: { error in
            let failure = error as? PostgresError
            return failure?.sqlState == "22012" && "\(error)".hasSuffix("in: SELECT 10 / ? AS share")
        }
        // The statement stays prepared and runs on.
        #expect(try database.read { try $0.fetchValue(sql, .integer(10)) as Int64? } == 1)
        #expect(try prepared(sql, in: database).statements == 1)

        // A statement whose table went away fails with its own text when prepared too.
        try database.write { try $0.executeScript("CREATE TABLE gone (id BIGINT)") }
        let reading = "SELECT id FROM gone WHERE id = ?"
        _ = try database.read { try $0.fetchAll(reading, .integer(1)) }
        try database.write { try $0.executeScript("DROP TABLE gone") }
        #expect {
            try database.read { try $0.fetchAll(reading, .integer(1)) }
        } throws: { error in
            (error as? PostgresError)?.sqlState == "42P01" && "\(error)".hasSuffix("in: \(reading)")
        }
    }

    @Test func aReopenedConnectionStartsWithNoPreparedStatements() throws {
        let database = try database("reopened")
        defer { database.close() }
        let sql = "SELECT ? + 1 AS next"
        for n in Int64(1)...3 { #expect(try database.read { try $0.fetchValue(sql, .integer(n)) as Int64? } == n + 1) }
        #expect(try prepared(sql, in: database).statements == 1)
        let pid: Int64 = try #require(try database.read { try $0.fetchValue("SELECT pg_backend_pid()") })
        let other = try PostgresDatabase(
            settings: PostgresSettings(url: try PostgresServer.shared().url(database: "postgres"), password: nil))
        defer { other.close() }
        _ = try other.read { try $0.fetchAll("SELECT pg_terminate_backend(?::int)", .integer(pid)) }
        // The pool notices the lost session (at once, or at the next statement, which fails) and opens another.
        var answered = false
        for _ in 1...20 where !answered {
            answered = (try? database.read { try $0.fetchValue(sql, .integer(1)) as Int64? }) == 2
            if !answered { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(answered)
        let newPID: Int64? = try database.read { try $0.fetchValue("SELECT pg_backend_pid()") }
        #expect(newPID != pid)
        #expect(try prepared(sql, in: database).statements == 0)
        #expect(try database.read { try $0.fetchValue(sql, .integer(5)) as Int64? } == 6)
        #expect(try prepared(sql, in: database).statements == 1)
    }

    // MARK: The cache alone

    typealias Key = PreparedStatementCache.Key
    /// The type an integer argument is bound as.
    let integer = PostgresSQLConnection.dataType(.integer(0))

    @Test func statementsArePreparedFromTheirSecondRunForTheirRowsOnly() {
        var cache = PreparedStatementCache()
        let select = Key(sql: "SELECT a FROM t WHERE b = $1", types: [integer])
        #expect(cache.run(select, placeholders: 1, wanted: .rows) == .unnamed)
        #expect(cache.run(select, placeholders: 1, wanted: .rows) == .prepare(name: "digest_1", deallocating: []))
        #expect(cache.run(select, placeholders: 1, wanted: .rows) == .execute(name: "digest_1"))
        // A count is never asked of a named statement; statements without placeholders are never prepared.
        let update = Key(sql: "UPDATE t SET a = $1", types: [integer])
        for _ in 1...3 { #expect(cache.run(update, placeholders: 1, wanted: .count) == .unnamed) }
        let plain = Key(sql: "SELECT 1", types: [])
        for _ in 1...3 { #expect(cache.run(plain, placeholders: 0, wanted: .rows) == .unnamed) }
        #expect(cache.preparedCount == 1)
    }

    @Test func theLeastRecentlyUsedIsDeallocatedWhenTheCacheIsFull() {
        var cache = PreparedStatementCache(threshold: 1, capacity: 2)
        let a = Key(sql: "a $1", types: [integer]), b = Key(sql: "b $1", types: [integer]), c = Key(sql: "c $1", types: [integer])
        #expect(cache.run(a, placeholders: 1, wanted: .rows) == .prepare(name: "digest_1", deallocating: []))
        #expect(cache.run(b, placeholders: 1, wanted: .rows) == .prepare(name: "digest_2", deallocating: []))
        #expect(cache.run(a, placeholders: 1, wanted: .rows) == .execute(name: "digest_1"))
        #expect(cache.run(c, placeholders: 1, wanted: .rows) == .prepare(name: "digest_3", deallocating: ["digest_2"]))
        #expect(cache.preparedCount == 2)
        // b comes back under a new name; a, now the oldest, makes room.
        #expect(cache.run(b, placeholders: 1, wanted: .rows) == .prepare(name: "digest_4", deallocating: ["digest_1"]))
    }

    @Test func aDiscardedStatementIsPreparedAgainUnderANewName() {
        var cache = PreparedStatementCache()
        let key = Key(sql: "SELECT * FROM t WHERE id = $1", types: [integer])
        _ = cache.run(key, placeholders: 1, wanted: .rows)
        _ = cache.run(key, placeholders: 1, wanted: .rows)
        cache.discard(key, deallocate: true)
        #expect(cache.name(of: key) == nil)
        #expect(cache.run(key, placeholders: 1, wanted: .rows) == .prepare(name: "digest_2", deallocating: ["digest_1"]))
        // A name the server never had (its preparation failed) is not deallocated.
        cache.discard(key, deallocate: false)
        #expect(cache.run(key, placeholders: 1, wanted: .rows) == .prepare(name: "digest_3", deallocating: []))
    }
}
