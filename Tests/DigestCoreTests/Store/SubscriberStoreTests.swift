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
        try store.queueDeliveries(editionID: editionID, date: Day("2026-11-24")!, zone: nil, now: Date())
        let claimed = try store.claimDeliveries(run: "test", limit: 10, now: Date())
        #expect(claimed.count == 1)
        #expect(claimed.first?.subscriber == added)
        #expect(claimed.first?.subscriber == (try store.subscriber(id: added.id!)))
        #expect(Subscriber.columns("s").split(separator: ",").count == Subscriber.CodingKeys.allCases.count)
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
