import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// The summary rows and the console's queries, on both stores. The end-to-end figures (sign-ups, sends,
/// bounces, through the commands and the web) are in DigestWebTests' StatsFiguresTests.
@Suite struct StatsStoreTests {
    let directory = TemporaryDirectory("stats")

    func raw(_ backend: StoreBackend) throws -> any SQLDatabase {
        let name = try backend.database(in: directory)
        switch backend {
        case .sqlite: return try SQLiteDatabase(path: name)
        case .postgres: return try PostgresDatabase(settings: PostgresSettings(url: name, password: nil))
        }
    }

    static func at(_ text: String) -> SQLValue { .date(Fixtures.date(text)) }

    /// A database made by the migrations before the summaries, with history, gets them from its rows on
    /// upgrade: each day's events, each status counted once on the day its reader reached it (so they add
    /// up to today's counts), each edition's outcome with its grouped reasons and its reports.
    @Test(arguments: StoreBackend.allCases) func anUpgradeBackfillsTheSummariesFromHistory(backend: StoreBackend) throws {
        let database = try raw(backend)
        try Store.migrate(database, upTo: "v6-deliveries-due")
        try database.write { db in
            let insert = """
                INSERT INTO subscribers (email, status, createdAt, confirmedAt, unsubscribedAt, bouncedAt)
                VALUES (?, ?, ?, ?, ?, ?)
                """
            // id 1 active, 2 pending, 3 unsubscribed, 4 bounced.
            try db.execute(insert, .text("a@x.example"), .text("active"), Self.at("2026-11-01T10:00:00Z"), Self.at("2026-11-02T10:00:00Z"), .null, .null)
            try db.execute(insert, .text("p@x.example"), .text("pending"), Self.at("2026-11-02T23:59:00Z"), .null, .null, .null)
            try db.execute(insert, .text("u@x.example"), .text("unsubscribed"), Self.at("2026-11-01T10:00:00Z"), Self.at("2026-11-01T11:00:00Z"), Self.at("2026-11-03T08:00:00Z"), .null)
            try db.execute(insert, .text("b@x.example"), .text("bounced"), Self.at("2026-11-01T10:00:00Z"), Self.at("2026-11-01T11:00:00Z"), .null, Self.at("2026-11-04T08:00:00Z"))
            try db.execute(
                "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES ('2026-11-03', ?, ?, ?)",
                Self.at("2026-11-02T06:00:00Z"), Self.at("2026-11-03T06:00:00Z"), Self.at("2026-11-03T06:00:00Z"))
            let delivery = """
                INSERT INTO deliveries (editionID, subscriberID, status, messageID, lastReply, queuedAt, updatedAt)
                VALUES (1, ?, ?, ?, ?, ?, ?)
                """
            for (reader, status, reply) in [
                (1, "sent", "250 ok"), (3, "skipped", "nothing new for this reader"),
                (4, "failed", "550 5.1.1 <b@x.example>: no such user"), (2, "deferred", "451 4.3.0 try again in 30 s"),
            ] {
                try db.execute(
                    delivery, reader.sqlValue, .text(status), .text("<m\(reader)>"), .text(reply),
                    Self.at("2026-11-03T06:00:00Z"), Self.at("2026-11-03T06:00:00Z"))
            }
            let report = """
                INSERT INTO bounce_events (reportKey, recipient, kind, subscriberID, deliveryID, source, receivedAt)
                VALUES (?, '', ?, ?, ?, 'import', ?)
                """
            try db.execute(report, .text("r1"), .text("hard"), 4.sqlValue, 3.sqlValue, Self.at("2026-11-04T08:00:00Z"))
            try db.execute(report, .text("r2"), .text("complaint"), 3.sqlValue, 1.sqlValue, Self.at("2026-11-03T08:00:00Z"))
            try db.execute(report, .text("r3"), .text("soft"), 1.sqlValue, .null, Self.at("2026-11-03T09:00:00Z"))
        }
        let store = try Store(database: database)
        #expect(try store.appliedMigrations().contains("v7-stats-summaries"))

        let days = try store.dailyStats(from: Day("2026-11-01")!, through: Day("2026-11-04")!)
        #expect(days.map(\.signups) == [3, 1, 0, 0])
        #expect(days.map(\.confirmations) == [2, 1, 0, 0])
        #expect(days.map(\.unsubscribes) == [0, 0, 1, 0])
        #expect(days.map(\.bounced) == [0, 0, 0, 1])
        #expect(days.map(\.hardBounces) == [0, 0, 0, 1])
        #expect(days.map(\.softBounces) == [0, 0, 1, 0])
        #expect(days.map(\.complaints) == [0, 0, 1, 0])
        #expect(days.map(\.change.active) == [0, 1, 0, 0])
        #expect(days.map(\.change.pending) == [0, 1, 0, 0])
        #expect(days.map(\.change.unsubscribed) == [0, 0, 1, 0])
        #expect(days.map(\.change.bounced) == [0, 0, 0, 1])
        // The net changes add up to the counts.
        let summary = try store.readerSummary(days: 30, now: Fixtures.date("2026-11-05T00:00:00Z"))
        #expect(summary.current == ReaderCounts(pending: 1, active: 1, unsubscribed: 1, bounced: 1))
        #expect(summary.change == summary.current)
        #expect(summary.previous == ReaderCounts())

        let editions = try store.editionStats(limit: 10)
        #expect(editions.count == 1)
        let edition = try #require(editions.first)
        #expect(edition.date == "2026-11-03")
        #expect([edition.recipients, edition.sent, edition.skipped, edition.failed, edition.deferred] == [4, 1, 1, 1, 1] as [Int])
        #expect([edition.hardBounces, edition.softBounces, edition.complaints] == [1, 0, 1] as [Int])
        #expect(edition.failedReasons == ["550 5.1.1 <…>: no such user": 1])
        #expect(edition.deferredReasons == ["451 4.3.0 try again in N s": 1])
        #expect(edition.skippedReasons == ["nothing new for this reader": 1])
        #expect(edition.complaintRate == 1)
    }

    func add(_ store: Store, _ email: String, _ status: SubscriberStatus, zone: String? = nil, hour: Int? = nil,
             name: String? = nil) throws -> Subscriber {
        try store.addSubscriber(
            Subscriber(email: try EmailAddress(email), name: name, status: status, timeZone: zone, deliveryHour: hour,
                       createdAt: Fixtures.date("2026-11-20T10:00:00Z")))
    }

    /// Reader search: part of the address or name, whatever its case, with a status, paged by address;
    /// LIKE's wildcards are taken literally.
    @Test(arguments: StoreBackend.allCases) func readersAreFoundByPartOfTheirAddressOrName(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        for index in 0..<12 { _ = try add(store, "reader\(index)@Example.com", index % 3 == 0 ? .pending : .active) }
        _ = try add(store, "zoe_100@other.example", .active, name: "Zoë Sample")
        // Pages in the order of addresses (each store's collation), together every match once.
        var found: [String] = []
        for offset in stride(from: 0, to: 15, by: 5) {
            let page = try store.searchSubscribers(query: "EXAMPLE.COM", status: nil, limit: 5, offset: offset)
            #expect(page.total == 12)
            found += page.subscribers.map(\.email.description)
        }
        #expect(found.count == 12)
        // A short last page gives the total; a page past the end still counts it.
        #expect(try store.searchSubscribers(query: "EXAMPLE.COM", status: nil, limit: 5, offset: 10).total == 12)
        let beyond = try store.searchSubscribers(query: "EXAMPLE.COM", status: nil, limit: 5, offset: 20)
        #expect(beyond.total == 12 && beyond.subscribers.isEmpty)
        #expect(try store.searchSubscribers(query: "EXAMPLE.COM", status: nil, limit: 12, offset: 0).total == 12)
        #expect(Set(found) == Set((0..<12).map { "reader\($0)@example.com" }))
        let page = try store.searchSubscribers(query: "reader1", status: .active, limit: 50, offset: 0)
        #expect(Set(page.subscribers.map(\.email.description)) == ["reader1@example.com", "reader10@example.com", "reader11@example.com"])
        #expect(try store.searchSubscribers(query: "E_1", status: nil).subscribers.count == 1)
        #expect(try store.searchSubscribers(query: "r_a", status: nil).total == 0)
        #expect(try store.searchSubscribers(query: "sample", status: nil).total == 1)
        #expect(try store.searchSubscribers(query: nil, status: .pending).total == 4)
        #expect(try store.searchSubscribers(query: "", status: nil, limit: 10, offset: 10).subscribers.count == 3)
    }

    /// A reader's page: the ledger newest first (limited), and the reports about them.
    @Test(arguments: StoreBackend.allCases) func aReadersDetailHasTheirLedgerAndReports(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let reader = try add(store, "d@x.example", .active)
        let other = try add(store, "o@x.example", .active)
        try store.database.write { db in
            for day in 1...5 {
                try db.execute(
                    "INSERT INTO editions (id, date, windowStart, cutoff, createdAt) VALUES (?, ?, ?, ?, ?)",
                    day.sqlValue, .text("2026-11-0\(day)"), Date().sqlValue, Date().sqlValue, Date().sqlValue)
                for id in [reader.id!, other.id!] {
                    try db.execute(
                        "INSERT INTO deliveries (editionID, subscriberID, status, messageID, queuedAt, updatedAt) VALUES (?, ?, 'sent', ?, ?, ?)",
                        day.sqlValue, id.sqlValue, .text("<\(day).\(id)>"), Date().sqlValue, Date().sqlValue)
                }
            }
        }
        let match = try #require(try store.bounceMatch(messageID: "<4.\(reader.id!)>"))
        _ = try store.recordBounce(
            BounceEvent(reportKey: "k", recipient: "d@x.example", kind: .soft, subscriberID: reader.id!, deliveryID: match.deliveryID,
                        status: "4.2.2", reason: "mailbox full", source: "import"),
            bounceLimit: 3, now: Fixtures.date("2026-11-06T00:00:00Z"))
        let detail = try #require(try store.subscriberDetail(id: reader.id!, deliveryLimit: 3))
        #expect(detail.subscriber.email.description == "d@x.example")
        #expect(detail.deliveries.map(\.editionDate) == ["2026-11-05", "2026-11-04", "2026-11-03"])
        #expect(detail.bounces.map(\.editionDate) == ["2026-11-04"])
        #expect(detail.bounces.first?.reason == "mailbox full")
        #expect(detail.bounceCounts.soft == 1)
        #expect(try store.subscriberDetail(id: 999) == nil)
        // The report counted in its edition and its day.
        #expect(try store.editionReport(date: Day("2026-11-04")!)?.stats.softBounces == 1)
        #expect(try store.dailyStats(from: Day("2026-11-06")!, through: Day("2026-11-06")!).first?.softBounces == 1)
    }

    /// The next hours with readers due: groups by zone and hour, placed by the delivery schedule (an
    /// edition never goes before the site's send hour), in UTC hours.
    @Test(arguments: StoreBackend.allCases) func dueHoursFollowTheSchedule(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        _ = try add(store, "a@x.example", .active)  // site zone and hour: Asia/Amman (UTC+3) 06:00 → 03:00Z
        _ = try add(store, "b@x.example", .active, zone: "America/New_York", hour: 7)  // 12:00Z
        _ = try add(store, "c@x.example", .active, zone: "America/New_York", hour: 7)
        _ = try add(store, "d@x.example", .active, zone: "Asia/Tokyo", hour: 5)  // before the cut-off: 03:00Z
        _ = try add(store, "p@x.example", .pending)
        let ranker = Ranker(
            digest: Configuration.Digest(
                sendHour: 6, windowHours: 24, sections: [], minVotes: 0, skipWhenEmpty: true, summaryLimit: 320),
            timeZone: TimeZone(identifier: "Asia/Amman")!)
        let hours = try store.dueHours(now: Fixtures.date("2026-11-24T04:30:00Z"), schedule: DeliverySchedule(ranker: ranker))
        #expect(hours.map(\.start) == [Fixtures.date("2026-11-24T12:00:00Z"), Fixtures.date("2026-11-25T03:00:00Z")])
        #expect(hours.map(\.readers) == [2, 2])
        #expect(hours.map(\.editions) == [["2026-11-24"], ["2026-11-25"]])
        // A weekly reader counts on their weekday only (the 25th is a Wednesday), a paused one not at all.
        var weekly = try add(store, "w@x.example", .active)
        weekly.cadence = .weekly
        weekly.weekday = .wed
        try store.update(weekly)
        var elsewhen = try add(store, "t@x.example", .active)
        elsewhen.cadence = .weekly
        elsewhen.weekday = .thu
        try store.update(elsewhen)
        var paused = try add(store, "z@x.example", .active)
        paused.pausedUntil = Day("2026-12-01")
        try store.update(paused)
        let split = try store.dueHours(now: Fixtures.date("2026-11-24T04:30:00Z"), schedule: DeliverySchedule(ranker: ranker))
        #expect(split.map(\.readers) == [2, 3])
        #expect(split.map(\.editions) == [["2026-11-24"], ["2026-11-25", "2026-11-25 weekly"]])
    }

    /// Every status change of every reader counts, so each status's net changes add up to its count: the
    /// web's sign-up, confirm and unsubscribe, the command line's add, import, reactivate and remove, and a
    /// hard bounce refused in the SMTP session (PostgreSQL writes those in one statement of its own).
    @Test(arguments: StoreBackend.allCases) func statusChangesAddUpToTheCounts(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let now = Fixtures.date("2026-11-24T10:00:00Z")
        let imported = try store.importSubscribers(csv: "email,status\ni1@x.example,active\ni2@x.example,\n", confirmed: false, now: now)
        #expect(imported.imported == 2)
        let bouncer = try add(store, "h@x.example", .active)
        let gone = try add(store, "g@x.example", .unsubscribed)
        #expect(try store.removeSubscriber(email: gone.email, now: now))
        try store.database.write { db in
            try db.execute(
                "INSERT INTO editions (id, date, windowStart, cutoff, createdAt) VALUES (1, '2026-11-24', ?, ?, ?)",
                now.sqlValue, now.sqlValue, now.sqlValue)
            for n in 1...2 {
                try db.execute(
                    "INSERT INTO editions (id, date, windowStart, cutoff, createdAt) VALUES (?, ?, ?, ?, ?)",
                    (n + 1).sqlValue, .text("2026-11-2\(4 - n)"), now.sqlValue, now.sqlValue, now.sqlValue)
            }
            for edition in 1...3 {
                try db.execute(
                    "INSERT INTO deliveries (id, editionID, subscriberID, status, messageID, queuedAt, updatedAt) VALUES (?, ?, ?, 'sending', '', ?, ?)",
                    edition.sqlValue, edition.sqlValue, bouncer.id!.sqlValue, now.sqlValue, now.sqlValue)
            }
        }
        for id in Int64(1)...3 {
            try store.recordDelivery(
                id: id, subscriberID: bouncer.id!, outcome: .permanent(reason: "550 5.1.1 no such user"), attempts: 1,
                messageID: "<m\(id)>", itemIDs: [], retryAt: nil, bounceLimit: 3, now: now)
        }
        #expect(try store.subscriber(id: bouncer.id!)?.status == .bounced)
        #expect(try store.reactivateBounced(emails: [bouncer.email], bouncedSince: nil, now: now).reactivated == [bouncer.email])
        let summary = try store.readerSummary(days: 10, now: now)
        #expect(summary.current == ReaderCounts(pending: 1, active: 2, unsubscribed: 0, bounced: 0))
        #expect(summary.change == summary.current)
        let today = try #require(try store.dailyStats(from: Day("2026-11-24")!, through: Day("2026-11-24")!).first)
        #expect([today.signups, today.bounced, today.reactivated, today.removed] == [2, 1, 1, 1] as [Int])
        // Runs write each edition's outcome at their end.
        var run = RunSummary()
        run.editions = ["2026-11-24"]
        try store.finishRun(id: try store.startRun(command: "send", now: now), summary: run, exitStatus: 1, now: now)
        let stats = try store.editionStats(from: Day("2026-11-22")!, through: Day("2026-11-24")!)
        #expect(stats.map(\.date) == ["2026-11-24"])
        #expect(stats.first?.failed == 1)
        #expect(stats.first?.failedReasons == ["550 5.1.1 no such user": 1])
        #expect(try store.lastRun()?.exitStatus == 1)
        let metrics = try store.metricsSnapshot()
        // h@ and the two imported; g@ came in unsubscribed (an unsubscribe, not a sign-up).
        #expect(metrics.events.signups == 3)
        #expect(metrics.events.unsubscribes == 1)
        #expect(metrics.messages.failed == 1)
        // A rebuild from the rows gives the same counts of readers.
        try store.rebuildSummaries()
        #expect(try store.readerSummary(days: 3650, now: now).change == summary.current)
    }
}
