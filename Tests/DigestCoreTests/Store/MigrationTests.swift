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
