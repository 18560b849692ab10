import Foundation
import Logging
import Synchronization
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// Readers' cadences, pauses and lengths through the nightly run, in process against a real smtp-sink, on
/// both stores. 2026-11-26 is a Thursday.
@Suite struct ReaderChoicesTests {
    let base = DeliveryRunnerTests()

    func addReaders(_ store: Store, _ rows: [String]) throws {
        let csv = "email,cadence,weekday,pausedUntil,maxStories,maxPosts,readingMinutes\n" + rows.joined(separator: "\n")
        let result = try store.importSubscribers(csv: csv, confirmed: true)
        #expect(result.rejected.isEmpty && result.imported == rows.count, "\(result.rejected)")
    }

    func run(_ setup: DeliveryRunnerTests.Setup, at now: String) async throws -> RunSummary {
        try await base.runner(setup, at: Fixtures.date(now)).run(.init())
    }

    /// The subjects each reader received, by address, unfolded (smtp-sink ends lines with LF).
    func subjects(_ sink: SMTPSinkServer) throws -> [String: [String]] {
        var subjects: [String: [String]] = [:]
        for message in try sink.receivedMessages() {
            let header = String(decoding: message.data, as: UTF8.self).components(separatedBy: "\n\n")[0]
            let unfolded = header.replacingOccurrences(of: "\n ", with: " ")
            let subject = unfolded.split(separator: "\n").first { $0.hasPrefix("Subject: ") } ?? ""
            subjects[message.recipient ?? "", default: []].append(String(subject.dropFirst(9)))
        }
        return subjects
    }

    @Test(arguments: StoreBackend.allCases)
    func aNightOfDailyWeeklyMonthlyAndPausedReaders(backend: StoreBackend) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let setup = try await base.setUp(smtp: sink.url, backend: backend)
        try base.addItems(setup.store, days: 10)
        try addReaders(
            setup.store,
            (0..<5).map { "daily\($0)@example.com,daily,,,,," } + (0..<3).map { "thursday\($0)@example.com,weekly,thu,,,," }
                + ["monday@example.com,weekly,mon,,,,", "monthly@example.com,monthly,,,,,"]
                + (0..<2).map { "paused\($0)@example.com,daily,,2026-12-10,,," })
        let summary = try await run(setup, at: "2026-11-26T07:00:00Z")
        #expect(summary.readers == ["daily": 5, "weekly": 3] && summary.paused == 2, "\(summary.lines)")
        #expect(summary.lines.contains("  readers: 5 daily, 3 weekly, 2 paused"), "\(summary.lines)")
        #expect(summary.sent == 8 && summary.exitStatus == 0, "\(summary.lines)")
        sink.stop()
        let subjects = try subjects(sink)
        #expect(Set(subjects.keys) == Set((0..<5).map { "daily\($0)@example.com" } + (0..<3).map { "thursday\($0)@example.com" }))
        #expect(subjects.values.allSatisfy { $0.count == 1 })
        #expect(subjects["thursday0@example.com"]?.first?.contains("The week's best: ") == true, "\(subjects["thursday0@example.com"] ?? [])")
        #expect(subjects["daily0@example.com"]?.first?.contains("The week's best") == false)
        // The weekly edition holds the best of the seven days: its top stories are older than today's.
        let weekly = try #require(try setup.store.edition(date: Day("2026-11-26")!, kind: .weekly))
        #expect(weekly.windowStart == Fixtures.date("2026-11-19T06:00:00Z"))
        #expect(Set(weekly.candidates.map { Day($0.publishedAt, in: TimeZone(identifier: "UTC")!) }).count > 1)
        // A dry run of the next hour finds nobody due.
        var options = DeliveryRunner.Options()
        options.dryRun = true
        let again = try await base.runner(setup, at: Fixtures.date("2026-11-26T08:00:00Z")).run(options)
        #expect(again.sent == 0 && again.readers.isEmpty && again.paused == 2, "\(again.lines)")
        // The 1st of the month: the monthly reader's turn, with the month's best.
        let sink2 = try SMTPSinkServer()
        defer { sink2.stop() }
        let first = try await runner(setup, sendingTo: sink2, at: "2026-12-01T07:00:00Z").run(.init())
        #expect(first.readers["monthly"] == 1, "\(first.lines)")
        sink2.stop()
        #expect(try self.subjects(sink2)["monthly@example.com"]?.first?.contains("The month's best: ") == true)
    }

    /// A runner of the same store and composer that sends to another sink.
    func runner(_ setup: DeliveryRunnerTests.Setup, sendingTo sink: SMTPSinkServer, at now: String) throws -> DeliveryRunner {
        var configuration = setup.configuration
        configuration.mail.smtp?.url = sink.url
        let moved = DeliveryRunnerTests.Setup(configuration: configuration, store: setup.store, composer: setup.composer)
        return try base.runner(moved, at: Fixtures.date(now))
    }

    /// Daily for a week, weekly (Thursdays) for the next, daily again for the third: one edition a day at
    /// most, and never an item twice.
    @Test(arguments: StoreBackend.allCases)
    func aReaderWhoSwitchesCadenceNeverGetsAnItemTwice(backend: StoreBackend) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let setup = try await base.setUp(smtp: sink.url, backend: backend)
        try base.addItems(setup.store, days: 30, through: "2026-12-17")
        try addReaders(setup.store, ["switcher@example.com,daily,thu,,,,"])
        let start = Day("2026-11-19")!
        var kinds: [String] = []
        for offset in 0..<21 {
            let date = start.adding(days: offset)
            if offset == 7 || offset == 14 {
                var reader = try #require(try setup.store.subscriber(email: EmailAddress("switcher@example.com")))
                reader.cadence = offset == 7 ? .weekly : .daily
                try setup.store.update(reader)
            }
            let summary = try await run(setup, at: "\(date)T07:00:00Z")
            #expect(summary.exitStatus == 0, "\(summary.lines)")
            kinds += summary.readers.keys.map { "\(date) \($0)" }
        }
        // Weekly from the 26th (a Thursday) to 2 December, daily again from the 3rd.
        #expect(kinds.filter { $0.hasSuffix("weekly") } == ["2026-11-26 weekly"], "\(kinds)")
        #expect(!kinds.contains { $0.hasSuffix("catch-up") }, "\(kinds)")
        #expect(kinds.count == 7 + 1 + 7, "\(kinds)")
        let sent: [String] = try setup.store.database.read { db in
            try db.fetchColumn("SELECT itemIDs FROM deliveries WHERE status = 'sent'")
        }
        let items = sent.flatMap { $0.split(separator: ",") }
        #expect(items.count > 30)
        #expect(Set(items).count == items.count, "an item reached the reader twice")
    }

    @Test(arguments: StoreBackend.allCases)
    func aPauseSetDuringTonightsSendAppliesFromTheNextEditionAndEndsInACatchUp(backend: StoreBackend) async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let setup = try await base.setUp(smtp: sink.url, backend: backend)
        try base.addItems(setup.store, days: 20, through: "2026-12-05")
        try addReaders(setup.store, (0..<20).map { "r\($0)@example.com,daily,,,,," })
        // Paused by r0 while tonight's edition is on its way: tonight's still reaches them.
        let pauser = try #require(try setup.store.subscriber(email: EmailAddress("r0@example.com")))
        let runner = try base.runner(setup, at: Fixtures.date("2026-11-26T07:00:00Z"))
        let once = Mutex(false)
        let tonight = try await runner.run(.init()) { _ in
            guard once.withLock({ let first = !$0; $0 = true; return first }) else { return }
            var paused = pauser
            paused.pausedUntil = Day("2026-11-30")
            try? setup.store.update(paused)
        }
        #expect(tonight.sent == 20, "\(tonight.lines)")
        let nextNight = try await run(setup, at: "2026-11-27T07:00:00Z")
        #expect(nextNight.sent == 19 && nextNight.paused == 1, "\(nextNight.lines)")
        // The pause ends on the 30th at the reader's hour (09:00): the 07:00 run still holds it, the 09:00 run
        // sends one catch-up of what came out since the 26th.
        var later = pauser
        later.pausedUntil = Day("2026-11-30")
        later.deliveryHour = 9
        try setup.store.update(later)
        for night in ["2026-11-28", "2026-11-29"] { _ = try await run(setup, at: "\(night)T07:00:00Z") }
        let early = try await run(setup, at: "2026-11-30T07:00:00Z")
        #expect(early.paused == 1 && early.readers == ["daily": 19], "\(early.lines)")
        let due = try await run(setup, at: "2026-11-30T09:00:00Z")
        #expect(due.readers == ["catch-up": 1] && due.sent == 1, "\(due.lines)")
        sink.stop()
        let r0 = try subjects(sink)["r0@example.com"] ?? []
        #expect(r0.count == 2 && r0.last?.contains("While you were away") == true, "\(r0)")
        let catchUp = try #require(try setup.store.edition(date: Day("2026-11-30")!, kind: .catchUp))
        let sentItems: String = try #require(
            try setup.store.database.read { db in
                try db.fetchValue(
                    "SELECT itemIDs FROM deliveries WHERE editionID = ? AND status = 'sent'", catchUp.id!.sqlValue)
            })
        let published = catchUp.candidates.filter { sentItems.split(separator: ",").contains(Substring("\($0.itemID)")) }
        #expect(!published.isEmpty)
        // Only what came out after their last edition (the 26th's, closed at 06:00 that day).
        #expect(published.allSatisfy { $0.publishedAt >= Fixtures.date("2026-11-26T06:00:00Z") })
    }

    /// `preview --subscriber`: the edition this reader gets tonight, whichever kind, or why none.
    @Test func thePreviewShowsTheEditionTheReaderGetsTonightOrWhyNone() async throws {
        let setup = try await base.setUp()
        try base.addItems(setup.store, days: 10)
        try addReaders(
            setup.store,
            ["weekly@example.com,weekly,thu,,,,", "monday@example.com,weekly,mon,,,,", "paused@example.com,daily,,2027-01-10,,,"])
        let preview = DigestPreview(composer: setup.composer, store: setup.store)
        // The evening of Wednesday the 25th: tonight's edition is Thursday's.
        let now = Fixtures.date("2026-11-25T20:00:00Z")
        let (edition, digest) = try preview.digest(date: nil, subscriber: EmailAddress("weekly@example.com"), now: now)
        #expect(edition.kind == .weekly && edition.date == Day("2026-11-26"))
        #expect(digest.subject.contains("The week's best"))
        #expect(throws: SubscriberError("monday@example.com gets no digest tonight (weekly on Monday): next edition on 2026-11-30")) {
            try preview.digest(date: nil, subscriber: EmailAddress("monday@example.com"), now: now)
        }
        #expect(throws: SubscriberError("paused@example.com gets no digest tonight (daily, paused until 2027-01-10): paused until 2027-01-10")) {
            try preview.digest(date: nil, subscriber: EmailAddress("paused@example.com"), now: now)
        }
    }

    @Test func aLengthCutsEachSectionButKeepsOneItemInEach() throws {
        let ranker = Ranker(
            digest: .init(
                sendHour: 6, windowHours: 24,
                sections: [.init(kind: .story, title: "Stories", count: 5), .init(kind: .post, title: "Posts", count: 3)],
                minVotes: 0, skipWhenEmpty: true, summaryLimit: 320),
            timeZone: TimeZone(identifier: "UTC")!)
        let long = Array(repeating: "word", count: 90).joined(separator: " ")
        let candidates = (0..<8).map { n in
            EditionItem(
                itemID: Int64(n), kind: n < 5 ? .story : .post, title: "Title \(n)", url: "https://n.example/\(n)",
                summary: long, author: nil, imageURL: nil, publishedAt: Fixtures.date("2026-11-26T01:00:00Z"), votes: 10 - n)
        }
        let edition = Edition(
            id: nil, date: Day("2026-11-26")!, windowStart: Fixtures.date("2026-11-25T06:00:00Z"),
            cutoff: Fixtures.date("2026-11-26T06:00:00Z"), candidates: candidates)
        func counts(_ length: ReadingLength) -> [Int] {
            ranker.select(from: edition, wants: { _ in true }, alreadyReceived: [], length: length).sections.map(\.items.count)
        }
        #expect(counts(.site) == [5, 3])
        #expect(counts(ReadingLength(stories: 2)) == [2, 3])
        #expect(counts(ReadingLength(stories: 9, posts: 1)) == [5, 1])
        // 92 words an item; one minute is 200 words: the first of each section, whatever the budget says.
        #expect(counts(ReadingLength(minutes: 1)) == [1, 1])
        // Two minutes: 400 words, four items, the second rank of both sections first.
        #expect(counts(ReadingLength(minutes: 2)) == [2, 2])
        #expect(counts(ReadingLength(minutes: 100)) == [5, 3])
    }

    /// A database made before readers had choices: every reader daily and not paused, every edition daily,
    /// the ledger kept row for row, and the references intact (SQLite rebuilds two tables to change them).
    @Test(arguments: StoreBackend.allCases) func theMigrationCarriesAnOlderDatabaseForward(backend: StoreBackend) throws {
        let old: any SQLDatabase =
            switch backend {
            case .sqlite: try SQLiteDatabase(path: base.directory.file("old.sqlite"))
            case .postgres:
                try PostgresDatabase(
                    settings: PostgresSettings(url: try PostgresServer.shared().createDatabase("v8"), password: nil))
            }
        try Store.migrate(old, upTo: "v8-subscribers-search")
        let at = Fixtures.date("2026-11-24T07:00:00Z").sqlValue
        try old.write { db in
            try db.execute(
                "INSERT INTO subscribers (email, status, createdAt) VALUES ('a@example.com', 'active', ?), ('b@example.com', 'active', ?)",
                at, at)
            try db.execute(
                "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES ('2026-11-24', ?, ?, ?)", at, at, at)
            try db.execute(
                """
                INSERT INTO deliveries (editionID, subscriberID, status, messageID, itemIDs, queuedAt, updatedAt)
                SELECT e.id, s.id, 'sent', 'm' || s.id, '1,2', ?, ? FROM editions e, subscribers s
                """, at, at)
            try db.execute(
                """
                INSERT INTO bounce_events (reportKey, subscriberID, deliveryID, kind, status, source, receivedAt)
                SELECT 'k', subscriberID, id, 'hard', '5.1.1', 'dsn', ? FROM deliveries WHERE messageID = 'm1'
                """, at)
        }
        let store = try Store(database: old)
        #expect(try store.appliedMigrations() == Store.migrationNames)
        try store.forEachSubscriber { reader in
            #expect(reader.cadence == .daily && reader.pausedUntil == nil && reader.length == .site)
        }
        #expect(try store.editionKinds(date: Day("2026-11-24")!) == [.daily])
        #expect(try store.deliveries(status: .sent).count == 2)
        let linked: Int? = try store.database.read { db in
            try db.fetchValue("SELECT count(*) FROM bounce_events WHERE deliveryID IS NOT NULL")
        }
        #expect(linked == 1)
        // The new states are accepted: a second kind of edition on the same day, a superseded row.
        let weekly = try store.freeze(
            Edition(
                id: nil, date: Day("2026-11-24")!, kind: .weekly, windowStart: Fixtures.date("2026-11-17T06:00:00Z"),
                cutoff: Fixtures.date("2026-11-24T06:00:00Z"), candidates: []),
            now: Date())
        #expect(weekly.id != nil)
        #expect(try store.editionKinds(date: Day("2026-11-24")!) == [.daily, .weekly])
        try store.database.write { db in try db.execute("UPDATE deliveries SET status = 'superseded'") }
    }
}
