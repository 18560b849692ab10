import Foundation
import Testing

@testable import DigestCore

@Suite struct RankerTests {
    let directory = TemporaryDirectory("ranker")

    func digest(story: Int = 3, post: Int = 2, minVotes: Int = 0, windowHours: Int = 24, sendHour: Int = 6)
        -> Configuration.Digest
    {
        .init(
            sendHour: sendHour, windowHours: windowHours,
            sections: [.init(kind: .story, title: "Top stories", count: story), .init(kind: .post, title: "Blog posts", count: post)],
            minVotes: minVotes, skipWhenEmpty: true, summaryLimit: 320)
    }

    func draft(_ n: Int, _ kind: ItemKind = .story, votes: Int, at time: String) -> ItemDraft {
        ItemDraft(kind: kind, title: "Item \(n)", url: "https://n.example/\(n)", publishedAt: Fixtures.date(time), votes: votes)
    }

    func titles(_ edition: Edition, _ kind: ItemKind) -> [String] { edition.candidates(of: kind).map(\.title) }

    @Test(arguments: StoreBackend.allCases) func windowEdgesAreHalfOpenInTheSiteTimeZone(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        // Asia/Amman is UTC+3: edition 2026-11-24 closes at 06:00 local = 03:00Z; window starts 2026-11-23T03:00Z.
        try store.upsert([
            draft(1, votes: 5, at: "2026-11-23T02:59:59Z"),  // just before the window
            draft(2, votes: 5, at: "2026-11-23T03:00:00Z"),  // first instant inside
            draft(3, votes: 5, at: "2026-11-24T02:59:59Z"),  // last instant inside
            draft(4, votes: 5, at: "2026-11-24T03:00:00Z"),  // the cut-off itself belongs to the next edition
        ])
        let ranker = Ranker(digest: digest(story: 10), timeZone: TimeZone(identifier: "Asia/Amman")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        #expect(titles(edition, .story) == ["Item 3", "Item 2"])
        #expect(edition.cutoff == Fixtures.date("2026-11-24T03:00:00Z"))
        let next = try ranker.rank(date: Day("2026-11-25")!, store: store)
        #expect(titles(next, .story) == ["Item 4"])
    }

    @Test(arguments: StoreBackend.allCases) func tiesGoToTheNewerThenTheLowerID(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.upsert([
            draft(1, votes: 10, at: "2026-11-23T10:00:00Z"),
            draft(2, votes: 10, at: "2026-11-23T12:00:00Z"),
            draft(3, votes: 30, at: "2026-11-23T09:00:00Z"),
            draft(4, votes: 10, at: "2026-11-23T12:00:00Z"),
            draft(5, votes: 1, at: "2026-11-23T23:00:00Z"),
        ])
        let ranker = Ranker(digest: digest(story: 10), timeZone: TimeZone(identifier: "UTC")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        #expect(titles(edition, .story) == ["Item 3", "Item 2", "Item 4", "Item 1", "Item 5"])
        // Deterministic: the same data ranks the same way again.
        #expect(try ranker.rank(date: Day("2026-11-24")!, store: store) == edition)
    }

    /// The store hands the ranker only the best `count × backfillFactor` items of a kind: where that cut
    /// falls inside a tie, it keeps the same items the ranker's own order would (newer, then lower id).
    @Test(arguments: StoreBackend.allCases) func theStoresCutKeepsTheRankersOrderThroughTies(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        var drafts = (1...12).map { n in draft(n, votes: 7, at: "2026-11-23T1\(n % 3):00:00Z") }
        drafts.append(draft(13, votes: 50, at: "2026-11-23T08:00:00Z"))
        drafts.append(draft(14, .post, votes: 99, at: "2026-11-23T08:00:00Z"))
        try store.upsert(drafts)
        let ranker = Ranker(digest: digest(story: 1, post: 0), timeZone: TimeZone(identifier: "UTC")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        // 1 × backfillFactor (4): the 50-vote item, then the 7-vote ones published at 12:00 (2, 5, 8, 11) by id.
        #expect(Ranker.backfillFactor == 4)
        #expect(titles(edition, .story) == ["Item 13", "Item 2", "Item 5", "Item 8"])
        let everything = try Ranker(digest: digest(story: 20, post: 0), timeZone: TimeZone(identifier: "UTC")!)
            .rank(date: Day("2026-11-24")!, store: store)
        #expect(Array(titles(everything, .story).prefix(4)) == titles(edition, .story))
    }

    @Test(arguments: StoreBackend.allCases) func minVotesAndSectionCountsAndKinds(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.upsert(
            (1...8).map { draft($0, votes: $0 * 10, at: "2026-11-23T10:00:00Z") }
                + [draft(20, .post, votes: 3, at: "2026-11-23T10:00:00Z"), draft(21, .post, votes: 50, at: "2026-11-23T11:00:00Z")])
        let ranker = Ranker(digest: digest(story: 3, post: 2, minVotes: 25), timeZone: TimeZone(identifier: "UTC")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        let selection = ranker.select(from: edition, wants: { _ in true }, alreadyReceived: [])
        #expect(selection.sections.map(\.title) == ["Top stories", "Blog posts"])
        #expect(selection.sections[0].items.map(\.title) == ["Item 8", "Item 7", "Item 6"])
        #expect(selection.sections[1].items.map(\.title) == ["Item 21"])  // the 3-vote post is under minVotes
    }

    @Test(arguments: StoreBackend.allCases) func readersMissOnlyWhatTheyGotAndAreBackfilled(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.upsert((1...6).map { draft($0, votes: 100 - $0, at: "2026-11-23T10:00:00Z") })
        let ranker = Ranker(digest: digest(story: 3), timeZone: TimeZone(identifier: "UTC")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        let ids = edition.candidates.map(\.itemID)
        let selection = ranker.select(from: edition, wants: { _ in true }, alreadyReceived: [ids[0], ids[2]])
        #expect(selection.sections[0].items.map(\.title) == ["Item 2", "Item 4", "Item 5"])
        // Unwanted sections are left out entirely.
        let storiesOnly = ranker.select(from: edition, wants: { $0 == .post }, alreadyReceived: [])
        #expect(storiesOnly.sections.map(\.kind) == [.post])
        #expect(storiesOnly.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func emptyWindowGivesEmptySections(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let ranker = Ranker(digest: digest(), timeZone: TimeZone(identifier: "UTC")!)
        let edition = try ranker.rank(date: Day("2026-11-24")!, store: store)
        #expect(edition.candidates.isEmpty)
        #expect(ranker.select(from: edition, wants: { _ in true }, alreadyReceived: []).isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func frozenEditionIgnoresLaterVoteChanges(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        try store.upsert([draft(1, votes: 10, at: "2026-11-23T10:00:00Z"), draft(2, votes: 5, at: "2026-11-23T11:00:00Z")])
        let ranker = Ranker(digest: digest(), timeZone: TimeZone(identifier: "UTC")!)
        let date = Day("2026-11-24")!
        let frozen = try ranker.edition(for: date, store: store, freeze: true)
        #expect(frozen.id != nil)
        #expect(try store.applyVotes([VoteChange(url: "https://n.example/2", .set(500))]) == [500])
        try store.upsert([draft(3, votes: 999, at: "2026-11-23T12:00:00Z")])
        let again = try ranker.edition(for: date, store: store, freeze: true)
        #expect(again == frozen)
        #expect(titles(again, .story) == ["Item 1", "Item 2"])
        #expect(again.candidates.last?.votes == 5)
    }

    @Test func windowAcrossADaylightSavingChange() throws {
        // Europe/Berlin leaves summer time on 2026-10-25: that local day has 25 hours.
        let ranker = Ranker(digest: digest(windowHours: 24, sendHour: 6), timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let window = ranker.window(for: Day("2026-10-26")!)
        #expect(window.upperBound == Fixtures.date("2026-10-26T05:00:00Z"))  // 06:00 CET
        #expect(window.lowerBound == Fixtures.date("2026-10-25T05:00:00Z"))  // 24 real hours back
        #expect(ranker.cutoff(for: Day("2026-10-25")!) == Fixtures.date("2026-10-25T05:00:00Z"))  // 06:00 CET (after the change at 03:00)
        #expect(ranker.cutoff(for: Day("2026-10-24")!) == Fixtures.date("2026-10-24T04:00:00Z"))  // 06:00 CEST
    }

    @Test func timeZoneDecidesTheDay() {
        // 2026-11-23T22:30Z is already 24 November in Amman and still 23 November in UTC.
        let instant = Fixtures.date("2026-11-23T22:30:00Z")
        #expect(Day(instant, in: TimeZone(identifier: "Asia/Amman")!) == Day("2026-11-24"))
        #expect(Day(instant, in: TimeZone(identifier: "UTC")!) == Day("2026-11-23"))
        #expect(Day(instant, in: TimeZone(identifier: "Pacific/Chatham")!) == Day("2026-11-24"))
        #expect(Day("2026-02-30") == nil)
    }
}
