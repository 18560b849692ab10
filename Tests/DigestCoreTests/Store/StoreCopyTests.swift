import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// `digest db copy`: an installation moved from SQLite to PostgreSQL and back keeps every row as it was.
@Suite struct StoreCopyTests {
    let directory = TemporaryDirectory("store-copy")

    /// Everything a reader of the store sees, to compare two stores.
    func contents(_ store: Store) throws -> (items: [Item], subscribers: [Subscriber], deliveries: [DeliveryRecord]) {
        (try store.items(), try store.subscribers(afterID: 0, limit: 10_000), try store.deliveries())
    }

    @Test func sqliteToPostgresAndBackKeepsEveryRow() throws {
        // A store with items, readers, an edition sent to each, and ids that are not 1, 2, 3.
        let fixture = try BounceFixture(readers: 5)
        let source = fixture.store
        try source.upsert(
            (0..<4).map { n in
                ItemDraft(
                    kind: n.isMultiple(of: 2) ? .story : .post, title: "Story \(n)", url: "https://n.example/\(n)",
                    summary: "Summary \(n)", publishedAt: Fixtures.date("2026-11-23T1\(n):00:00.125Z"), votes: 7 * n)
            })
        _ = try source.removeSubscriber(email: fixture.readers[1].email)

        let postgres = try Store.open(try StoreBackend.postgres.database(in: directory))
        let there = try StoreCopy.copy(from: source, to: postgres)
        #expect(there.tables.map(\.name) == StoreCopy.tables)
        #expect(there.tables.first { $0.name == "deliveries" }?.rows == 12)
        let original = try contents(source)
        let copied = try contents(postgres)
        #expect(copied.items == original.items)
        #expect(copied.subscribers == original.subscribers)
        #expect(copied.deliveries == original.deliveries)

        // New rows on PostgreSQL take ids after the copied ones.
        let added = try postgres.addSubscriber(Subscriber(email: try EmailAddress("after@copy.example"), status: .active))
        #expect(added.id! > original.subscribers.map { $0.id! }.max()!)

        let back = try Store.open(directory.file("back.sqlite"))
        let report = try StoreCopy.copy(from: postgres, to: back)
        #expect(report.totalRows == there.totalRows + 1)
        let returned = try contents(back)
        #expect(returned.items == original.items)
        #expect(returned.deliveries == original.deliveries)
        #expect(returned.subscribers.dropLast() == original.subscribers[...])
    }

    @Test(arguments: StoreBackend.allCases) func aTargetWithAnyRowIsRefusedAndLeftAsItWas(backend: StoreBackend) throws {
        let fixture = try BounceFixture(readers: 2)
        let source = fixture.store
        let target = try Store.open(try backend.database(in: directory))
        try target.addSubscriber(Subscriber(email: try EmailAddress("already@there.example"), status: .active))
        #expect {
            try StoreCopy.copy(from: source, to: target)
        } throws: { error in
            // The reader and the day's figure that counted them.
            "\(error)".contains("is not empty (subscribers has 1 rows, daily_stats has 1 rows)")
        }
        #expect(try target.subscriberCount() == 1)
        #expect(try target.deliveries().isEmpty)
    }
}
