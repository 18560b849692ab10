import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

@Suite struct MigrationTests {
    let directory = TemporaryDirectory("migrations")

    @Test(arguments: StoreBackend.allCases) func openingTwiceIsIdempotent(backend: StoreBackend) throws {
        let database = try backend.database(in: directory)
        let first = try Store.open(database)
        let applied = try first.appliedMigrations()
        #expect(applied.first == "v1-items")
        #expect(applied == Store.migrations.map(\.name))
        let second = try Store.open(database)
        #expect(try second.appliedMigrations() == applied)
    }

    /// Several processes that open a new PostgreSQL database at once (cron starting senders on several
    /// machines) apply each migration once: the advisory lock makes the others wait, then find them applied.
    @Test func concurrentFirstOpensMigrateOnce() async throws {
        let database = try StoreBackend.postgres.database(in: directory)
        let opened = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask { try Store.open(database).appliedMigrations() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(opened.count == 4)
        #expect(opened.allSatisfy { $0 == Store.migrations.map(\.name) })
    }

    /// Every table the migrations create is one `digest db copy` moves (a new table must be added there).
    @Test(arguments: StoreBackend.allCases) func theCopyKnowsEveryTable(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let tables: [String] = try store.database.read { db in
            switch db.dialect {
            case .sqlite:
                try db.fetchColumn(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
            case .postgres:
                try db.fetchColumn(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'")
            }
        }
        #expect(Set(tables) == Set(StoreCopy.tables))
    }

    /// The schema the migrations make, as each database describes it, is the one recorded in the golden
    /// files: migrations already applied to existing databases must not change (re-record only for a new
    /// migration, and review the diff). SQLite: `sqlite_master`, so the very text of every statement;
    /// PostgreSQL: every column's type, nullability, default, collation and identity, every constraint
    /// and every index.
    @Test(arguments: StoreBackend.allCases) func theSchemaIsTheOneRecorded(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let schema: [String] = try store.database.read { db in
            switch db.dialect {
            case .sqlite:
                try db.fetchAll(
                    """
                    SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'
                    ORDER BY type, name
                    """
                ).map { row in
                    "\(try row["type"] as String) \(try row["name"] as String) on \(try row["tbl_name"] as String):\n"
                        + "\(try row["sql"] as String? ?? "-")"
                }
            case .postgres:
                try db.fetchAll(
                    """
                    SELECT table_name || '.' || column_name || ' ' || data_type || ' nullable=' || is_nullable
                        || ' default=' || coalesce(column_default, '-')
                        || ' collation=' || coalesce(collation_name, '-')
                        || ' identity=' || is_identity || coalesce(' ' || identity_generation, '') AS line
                    FROM information_schema.columns WHERE table_schema = current_schema()
                    ORDER BY table_name, ordinal_position
                    """
                ).map { try $0["line"] }
                    + db.fetchAll(
                        """
                        SELECT c.relname || ' ' || k.conname || ': ' || pg_get_constraintdef(k.oid) AS line
                        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                        WHERE c.relnamespace = current_schema()::regnamespace ORDER BY c.relname, k.conname
                        """
                    ).map { try $0["line"] }
                    + db.fetchAll(
                        """
                        SELECT indexname || ': ' || indexdef AS line FROM pg_indexes
                        WHERE schemaname = current_schema() ORDER BY indexname
                        """
                    ).map { try $0["line"] }
            }
        }
        try Golden.check(Array((schema.joined(separator: "\n") + "\n").utf8), "schema-\(backend.rawValue).txt")
    }

    /// A database made by the first release (only the first migrations) upgrades in place and keeps its rows.
    @Test func upgradesAnExistingDatabaseKeepingData() throws {
        let path = directory.file("old.sqlite")
        let old = try SQLiteDatabase(path: path)
        try Store.migrate(old, upTo: "v1-subscribers")
        try old.write { db in
            try db.execute(
                "INSERT INTO items (kind, title, url, publishedAt, votes, updatedAt) VALUES ('story', 'Kept', 'https://k.example/1', '2026-11-23 10:00:00.000', 5, '2026-11-23 10:00:00.000')")
        }
        old.close()
        let store = try Store(path: path)
        #expect(try store.appliedMigrations().contains("v1-runs-locks"))
        #expect(try store.item(url: "https://k.example/1")?.votes == 5)
    }

    @Test func databaseUsesWAL() throws {
        let store = try Fixtures.store(in: directory)
        let mode = try store.database.read { db -> String? in try db.fetchValue("PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func unopenableDatabaseNamesThePath() {
        let path = directory.write("not-a-db.sqlite", String(repeating: "garbage ", count: 100))
        #expect { try Store(path: path) } throws: { "\($0)".contains(path) }
    }
}
