import Foundation
import Testing

@testable import DigestCore

@Suite struct MigrationTests {
    let directory = TemporaryDirectory("migrations")

    @Test func openingTwiceIsIdempotent() throws {
        let first = try Fixtures.store(in: directory)
        let applied = try first.appliedMigrations()
        #expect(applied.first == "v1-items")
        let second = try Fixtures.store(in: directory)
        #expect(try second.appliedMigrations() == applied)
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
