import Foundation
import Logging
import Testing

@testable import DigestCore

/// Files an admin imports are read as strictly as a ledger.
@Suite struct ItemFileStrictnessTests {
    let directory = TemporaryDirectory("strict-items")

    func importer(_ backend: StoreBackend = .sqlite) throws -> (ItemImporter, Store) {
        let store = try Fixtures.store(in: directory, backend)
        return (ItemImporter(store: store, logger: Logger(label: "test")), store)
    }

    @Test(arguments: StoreBackend.allCases) func impossibleDatesAreRefusedWithRecordLineAndField(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let file = directory.write(
            "dates.json",
            """
            [
              {"kind": "story", "title": "Feb 30", "url": "https://d.example/1", "publishedAt": "2021-02-30T10:00:00Z"},
              {"kind": "story", "title": "Hour 25", "url": "https://d.example/2", "publishedAt": "2021-03-01T25:00:00Z"},
              {"kind": "story", "title": "No zone", "url": "https://d.example/3", "publishedAt": "2021-03-01T10:00:00"},
              {"kind": "story", "title": "Fine", "url": "https://d.example/4", "publishedAt": "2024-02-29T10:00:00.5+02:00"}
            ]
            """)
        let error = try #require(throws: ItemFileError.self) { try importer.importFile(path: file) }
        #expect(error.errors.map(\.index) == [0, 1, 2])
        #expect(error.errors.map(\.line) == [2, 3, 4])
        #expect(error.errors.allSatisfy { $0.field == "publishedAt" })
        #expect(
            error.errors[0].description
                == "\(file): record 0 (line 2): publishedAt: there is no day 30 in February 2021, which has 28 days "
                + "(expected an ISO 8601 date such as 2026-11-24T07:30:00Z), found \"2021-02-30T10:00:00Z\"")
        #expect(error.errors[1].message.hasPrefix("there is no hour 25"))
        #expect(error.errors[2].message.hasPrefix("no time zone"))
        #expect(try store.itemCount() == 0)
        #expect(DateParsing.iso8601("2024-02-29T10:00:00.5+02:00") == Date(timeIntervalSince1970: 1_709_193_600.5))
    }

    @Test(arguments: StoreBackend.allCases) func nullVotesAreRefusedSoTheyCannotResetAnyone(backend: StoreBackend) throws {
        let (importer, _) = try importer(backend)
        let file = directory.write(
            "votes.json",
            #"[{"kind":"story","title":"T","url":"https://d.example/v","publishedAt":"2026-11-23T10:00:00Z","votes":null}]"#)
        let error = try #require(throws: ItemFileError.self) { try importer.importFile(path: file) }
        #expect(error.errors.first?.field == "votes")
        #expect(error.errors.first?.message == "expected a whole number, found null (leave the key out for 0 votes)")
    }

    @Test(arguments: [("42", "a number"), ("\"text\"", "a string"), ("null", "null"), ("true", "a boolean")])
    func aJSONDocumentThatIsNotItemsIsReportedAsJSON(_ content: String, _ type: String) async throws {
        let (importer, _) = try importer()
        let file = directory.write("scalar-\(type).json", content)
        await #expect { try await importer.importSource(file) } throws: { error in
            "\(error)".contains("expected an array of item objects, found \(type)") && !"\(error)".contains("XML")
        }
    }

    @Test(arguments: StoreBackend.allCases) func htmlInJSONSummariesIsStripped(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let file = directory.write(
            "html.json",
            #"[{"kind":"story","title":"T","url":"https://d.example/h","publishedAt":"2026-11-23T10:00:00Z","summary":"<p>One &amp; <a href=\"x\">two</a></p><script>x()</script>"}]"#)
        try importer.importFile(path: file)
        #expect(try store.item(url: "https://d.example/h")?.summary == "One & two")
    }
}

@Suite struct SubscriberCSVTests {
    let directory = TemporaryDirectory("subscriber-csv")

    @Test(arguments: StoreBackend.allCases) func anExportImportsBackWithItsStates(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let created = Fixtures.date("2026-01-02T03:04:05Z")
        try store.addSubscriber(
            Subscriber(
                email: try EmailAddress("a@example.com"), name: "Quote \"A\", Esq.", status: .active, sections: [.post],
                format: .text, timeZone: "Asia/Tokyo", deliveryHour: 5, createdAt: created, confirmedAt: created,
                cadence: .weekly, weekday: .fri, pausedUntil: Day("2027-01-10"), length: ReadingLength(stories: 3, posts: 2),
                language: "ar"))
        try store.addSubscriber(
            Subscriber(email: try EmailAddress("gone@example.com"), status: .unsubscribed, createdAt: created))
        try store.addSubscriber(Subscriber(email: try EmailAddress("new@example.com"), status: .pending, createdAt: created))
        var csv = ""
        try store.exportSubscribers { csv += $0 }

        let other = try Store(path: directory.file("other.sqlite"))
        let result = try other.importSubscribers(csv: csv, confirmed: true)
        #expect(result.imported == 3 && result.rejected.isEmpty)
        let a = try #require(try other.subscriber(email: try EmailAddress("a@example.com")))
        #expect(a.name == "Quote \"A\", Esq." && a.status == .active && a.sections == [.post] && a.format == .text)
        #expect(a.timeZone == "Asia/Tokyo" && a.deliveryHour == 5 && a.createdAt == created && a.confirmedAt == created)
        #expect(a.cadence == .weekly && a.weekday == .fri && a.pausedUntil == Day("2027-01-10"))
        #expect(a.length == ReadingLength(stories: 3, posts: 2))
        #expect(a.language == "ar")
        #expect(try other.subscriber(email: try EmailAddress("new@example.com"))?.cadence == .daily)
        #expect(try other.subscriber(email: try EmailAddress("new@example.com"))?.language == nil)
        // --confirmed does not resubscribe someone who left, nor confirm someone who never did.
        #expect(try other.subscriber(email: try EmailAddress("gone@example.com"))?.status == .unsubscribed)
        #expect(try other.subscriber(email: try EmailAddress("new@example.com"))?.status == .pending)
        var again = ""
        try other.exportSubscribers { again += $0 }
        #expect(again == csv)
    }

    @Test func badChoicesAreRejectedByLineNamingTheField() throws {
        let store = try Fixtures.store(in: directory, .sqlite)
        let result = try store.importSubscribers(
            csv: """
                email,cadence,weekday,pausedUntil,maxStories,readingMinutes
                a@example.com,fortnightly,,,,
                b@example.com,weekly,someday,,,
                c@example.com,daily,,next week,,
                d@example.com,daily,,,0,
                e@example.com,daily,,,2,5
                f@example.com,monthly,,,,
                """, confirmed: true)
        #expect(result.imported == 1)
        #expect(result.rejected.map(\.description) == [
            "line 2: cadence must be daily, weekly or monthly, not \"fortnightly\"",
            "line 3: weekday must be one of mon, tue, wed, thu, fri, sat, sun, not \"someday\"",
            "line 4: paused-until must be a date YYYY-MM-DD, not \"next week\"",
            "line 5: stories must be a whole number from 1 to 100, not 0",
            "line 6: a length is either minutes of reading or counts of stories and posts, not both",
        ])
    }

    @Test(arguments: StoreBackend.allCases) func badStateColumnsAreRejectedByLine(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let result = try store.importSubscribers(
            csv: "email,status,createdAt\nx@example.com,gone,\ny@example.com,active,2021-02-30T00:00:00Z\n",
            confirmed: false)
        #expect(result.rejected.map(\.line) == [2, 3])
        #expect(result.rejected[0].reason.contains("status must be one of pending, active, unsubscribed, bounced"))
        #expect(result.rejected[1].reason.contains("createdAt \"2021-02-30T00:00:00Z\": there is no day 30"))
    }

    @Test(arguments: StoreBackend.allCases) func anUnterminatedQuoteRefusesTheFileNamingTheLineItOpened(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let csv = "email,name\nu0@example.com,Fine\nu1@example.com,\"Unclosed\nu2@example.com,Two\nu3@example.com,Three\n"
        let error = #expect(throws: CSVError.self) { try store.importSubscribers(csv: csv, confirmed: true) }
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("line 3: the quoted field that opens on this line is never closed") == true)
        #expect(try store.subscriberCount() == 0)
        // A closed quote spanning lines is still one field.
        #expect(try CSV.parse("a,\"b\nc\"\nd,e\n").map(\.fields) == [["a", "b\nc"], ["d", "e"]])
    }

    /// A language the site does not offer is refused, naming the line and the field; empty is the site's.
    @Test func aBadLanguageIsRejectedByLineNamingTheField() throws {
        let store = try Fixtures.store(in: directory, .sqlite)
        let result = try store.importSubscribers(
            csv: "email,language\na@example.com,ar\nb@example.com,fr\nc@example.com,\n", confirmed: true,
            languages: ["en", "ar"])
        #expect(result.imported == 2)
        #expect(result.rejected.map(\.description) == [
            "line 3: language \"fr\" is not one of the site's languages (en, ar; site.languages)"
        ])
        #expect(try store.subscriber(email: try EmailAddress("a@example.com"))?.language == "ar")
        #expect(try store.subscriber(email: try EmailAddress("c@example.com"))?.language == nil)
    }
}
