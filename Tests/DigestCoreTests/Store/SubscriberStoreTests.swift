import Foundation
import Testing

@testable import DigestCore

@Suite struct SubscriberStoreTests {
    let directory = TemporaryDirectory("subscribers")

    @Test(arguments: StoreBackend.allCases) func addListRemove(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.addSubscriber(Subscriber(email: try EmailAddress("A@Example.COM"), name: "Ann", status: .active))
        #expect(throws: SubscriberError.self) {
            try store.addSubscriber(Subscriber(email: try EmailAddress("A@example.com")))
        }
        #expect(try store.subscriber(email: try EmailAddress("A@example.com"))?.name == "Ann")
        #expect(try store.removeSubscriber(email: try EmailAddress("A@example.com")))
        #expect(try store.removeSubscriber(email: try EmailAddress("A@example.com")) == false)
    }

    @Test(arguments: StoreBackend.allCases) func claimedRowsDecodeTheWholeSubscriber(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        // Every column set, so a column the positional decoding misses (or a new one) shows up.
        let added = try store.addSubscriber(
            Subscriber(
                email: try EmailAddress("Claimed.Reader@Example.org"), name: "Ann \"Q\" Reader", status: .active,
                sections: [.post], format: .text, timeZone: "Asia/Amman", deliveryHour: 7,
                createdAt: Fixtures.date("2026-11-01T10:00:00Z"), confirmedAt: Fixtures.date("2026-11-01T10:05:00Z"),
                unsubscribedAt: Fixtures.date("2026-11-02T10:00:00Z"), bounceCount: 2,
                lastConfirmationAt: Fixtures.date("2026-11-01T10:01:00Z")))
        let editionID = try store.database.write { db -> Int64? in
            try db.fetchValue(
                "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES ('2026-11-24', ?, ?, ?) RETURNING id",
                Date().sqlValue, Date().sqlValue, Date().sqlValue)
        }!
        try store.queueDeliveries(editionID: editionID, date: Day("2026-11-24")!, now: Date())
        let claimed = try store.claimDeliveries(run: "test", limit: 10, now: Date())
        #expect(claimed.count == 1)
        #expect(claimed.first?.subscriber == added)
        #expect(claimed.first?.subscriber == (try store.subscriber(id: added.id!)))
        #expect(Subscriber.columns("s").split(separator: ",").count == Subscriber.CodingKeys.allCases.count)
    }

    /// A claim takes queued rows and deferred rows whose time has come, in id order, from the front of
    /// `deliveries_due` (no sort of every due row per batch); a deferred row not yet due stays, and a row
    /// with its outcome recorded is no longer due.
    @Test(arguments: StoreBackend.allCases) func claimsTakeDueRowsInIdOrderFromTheDueIndex(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let now = Fixtures.date("2026-11-24T12:00:00Z")
        for number in 1...6 {
            try store.addSubscriber(Subscriber(email: try EmailAddress("r\(number)@example.com"), status: .active))
        }
        let editionID = try store.database.write { db -> Int64? in
            try db.fetchValue(
                "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES ('2026-11-24', ?, ?, ?) RETURNING id",
                now.sqlValue, now.sqlValue, now.sqlValue)
        }!
        try store.queueDeliveries(editionID: editionID, date: Day("2026-11-24")!, now: now)
        let ids = try store.database.read { db -> [Int64] in try db.fetchColumn("SELECT id FROM deliveries ORDER BY id") }
        #expect(ids.count == 6)
        // Row 2 deferred and due, row 4 deferred until tomorrow, row 5 already sent.
        try store.database.write { db in
            try db.execute(
                "UPDATE deliveries SET status = 'deferred', nextAttemptAt = ? WHERE id = ?", now.addingTimeInterval(-60).sqlValue,
                ids[1].sqlValue)
            try db.execute(
                "UPDATE deliveries SET status = 'deferred', nextAttemptAt = ? WHERE id = ?", now.addingTimeInterval(86_400).sqlValue,
                ids[3].sqlValue)
        }
        try store.recordDelivery(
            id: ids[4], subscriberID: try #require(try store.subscriber(email: try EmailAddress("r5@example.com"))?.id),
            outcome: .sent(reply: "250 ok"), attempts: 1, messageID: "<m5@example.com>", itemIDs: [], retryAt: nil,
            bounceLimit: nil, now: now)
        let first = try store.claimDeliveries(run: "a", limit: 2, now: now)
        #expect(first.map(\.id) == [ids[0], ids[1]])
        let second = try store.claimDeliveries(run: "a", limit: 10, now: now)
        #expect(second.map(\.id) == [ids[2], ids[5]])
        #expect(try store.claimDeliveries(run: "a", limit: 10, now: now).isEmpty)
        #expect(try store.pendingDeliveryCount() == 5)
        guard backend == .sqlite else { return }
        let plan = try store.database.read { db -> [String] in
            try db.fetchAll("EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE \(Store.due) ORDER BY id LIMIT 200", now.sqlValue)
                .map { row in try row[3] }
        }
        #expect(plan.contains { $0.contains("deliveries_due") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    @Test(arguments: StoreBackend.allCases) func csvImportReportsBadRowsAndKeepsGoodOnes(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.addSubscriber(Subscriber(email: try EmailAddress("old@example.com"), status: .unsubscribed))
        let csv = """
            email,name,format,timeZone,sections,deliveryHour\r
            one@example.com,"Doe, Jane",text,Europe/Berlin,story,7\r
            not-an-address,X,,,,\r
            two@example.com,,pdf,,,\r
            three@example.com,,,Mars/Base,,\r
            four@example.com,,,,video,\r
            five@example.com,,,,,25\r
            old@example.com,Old,,,,\r
            ONE@example.com,again,,,,\r
            "six@example.com","Multi
            line",html,,,\r

            """
        let result = try store.importSubscribers(csv: csv, confirmed: true)
        #expect(result.imported == 2)
        #expect(result.existing == 1)
        #expect(result.rejected.map(\.line) == [3, 4, 5, 6, 7, 9])
        #expect(result.rejected[0].reason.contains("has no @"))
        #expect(result.rejected[1].reason.contains("\"pdf\""))
        #expect(result.rejected[2].reason.contains("Mars/Base"))
        #expect(result.rejected[5].reason.contains("also on line 2"))
        let one = try #require(try store.subscriber(email: try EmailAddress("one@example.com")))
        #expect(one.name == "Doe, Jane" && one.format == .text && one.sections == [.story] && one.deliveryHour == 7)
        #expect(one.status == .active && one.confirmedAt != nil)
        #expect(try store.subscriber(email: try EmailAddress("six@example.com"))?.name == "Multi line")
        #expect(try store.subscriber(email: try EmailAddress("old@example.com"))?.status == .unsubscribed)
    }

    @Test(arguments: StoreBackend.allCases) func csvWithoutEmailColumnIsRefused(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        #expect { try store.importSubscribers(csv: "mail,name\nx@y.co,z\n", confirmed: false) } throws: {
            "\($0)".contains("no \"email\" column")
        }
    }

    @Test(arguments: StoreBackend.allCases) func exportRoundTripsThroughImport(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.addSubscriber(Subscriber(email: try EmailAddress("q@example.com"), name: "Quote \"Q\", Esq.", status: .active, sections: [.post], format: .text, timeZone: "Asia/Tokyo", deliveryHour: 5))
        var csv = ""
        try store.exportSubscribers { csv += $0 }
        let other = try Store(path: directory.file("other.sqlite"))
        // The export's extra columns (status, times) are not import columns: keep the ones import reads.
        let records = try CSV.parse(csv)
        let keep = [0, 1, 3, 4, 5, 6]
        let trimmed = records.map { record in keep.map { CSV.escape(record.fields[$0]) }.joined(separator: ",") }
            .joined(separator: "\n")
        let result = try other.importSubscribers(csv: trimmed, confirmed: true)
        #expect(result.imported == 1 && result.rejected.isEmpty)
        let copy = try #require(try other.subscriber(email: try EmailAddress("q@example.com")))
        #expect(copy.name == "Quote \"Q\", Esq." && copy.sections == [.post] && copy.format == .text)
        #expect(copy.timeZone == "Asia/Tokyo" && copy.deliveryHour == 5)
    }

    @Test(arguments: StoreBackend.allCases) func hundredThousandRowsImportInOneTransaction(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        var csv = "email,name\n"
        csv.reserveCapacity(3_000_000)
        for index in 0..<100_000 { csv += "reader\(index)@example.com,Reader \(index)\n" }
        let result = try store.importSubscribers(csv: csv, confirmed: true)
        #expect(result.imported == 100_000 && result.rejected.isEmpty)
        #expect(try store.subscriberCount(status: .active) == 100_000)
    }
}
