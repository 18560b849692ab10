import Foundation
import Testing

@testable import DigestCore
@testable import DigestPostgres

/// `Store.record`: a group commit's outcomes. On PostgreSQL the whole group is one statement (one round
/// trip); it must leave exactly the rows that recording the entries one at a time leaves, on SQLite too.
@Suite struct LedgerRecordTests {
    let directory = TemporaryDirectory("ledger-record")

    /// A ledger row and its reader, as compared between stores.
    struct Row: Equatable, CustomStringConvertible {
        var status: String
        var attempts: Int
        var lastReply: String?
        var messageID: String
        var itemIDs: String
        var sentAt: Date?
        var nextAttemptAt: Date?
        var updatedAt: Date
        var claimedBy: String?
        var readerStatus: String
        var bounceCount: Int
        var bouncedAt: Date?

        var description: String {
            "\(status) \(attempts) \(lastReply ?? "nil") \(messageID) [\(itemIDs)] sent \(sentAt.map { "\($0.timeIntervalSince1970)" } ?? "nil") "
                + "next \(nextAttemptAt.map { "\($0.timeIntervalSince1970)" } ?? "nil") \(updatedAt.timeIntervalSince1970) "
                + "\(claimedBy ?? "nil") reader \(readerStatus) \(bounceCount) \(bouncedAt.map { "\($0.timeIntervalSince1970)" } ?? "nil")"
        }
    }

    static let now = Fixtures.date("2026-11-24T06:00:00.250Z")

    /// A store with 9 readers (some with bounces already), each with one claimed row of one edition.
    func claimedStore(_ backend: StoreBackend) throws -> (Store, [ClaimedDelivery]) {
        // Several stores per test: each SQLite one in a file of its own.
        let store =
            backend == .sqlite
            ? try Store.open(directory.file("\(UUID().uuidString).sqlite")) : try Fixtures.store(in: directory, backend)
        for number in 1...9 {
            try store.addSubscriber(
                Subscriber(
                    email: try EmailAddress("r\(number)@example.com"), name: "Reader \(number)", status: .active,
                    bounceCount: number <= 4 ? 2 : 0))
        }
        let editionID = try store.database.write { db -> Int64? in
            try db.fetchValue(
                "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES ('2026-11-24', ?, ?, ?) RETURNING id",
                Self.now.sqlValue, Self.now.sqlValue, Self.now.sqlValue)
        }!
        try store.queueDeliveries(editionID: editionID, date: Day("2026-11-24")!, now: Self.now)
        let claimed = try store.claimDeliveries(run: "run-1", limit: 100, now: Self.now)
        #expect(claimed.count == 9)
        return (store, claimed)
    }

    /// One of every kind of entry: sent (count reset or not), deferred (with and without a retry time),
    /// failed (a bounce that reaches the limit, one that does not, one that is not the reader's), skipped,
    /// replies that JSON must escape, and one reader with two entries (a bounce, then a sent message).
    func entries(_ claimed: [ClaimedDelivery]) -> [LedgerEntry] {
        func outcome(_ index: Int, _ outcome: SendOutcome, retryAt: Date? = nil, bounceLimit: Int? = nil, reset: Bool = true)
            -> LedgerEntry
        {
            var record = DeliveryOutcome(
                id: claimed[index].id, subscriberID: claimed[index].subscriber.id!, outcome: outcome, attempts: index % 3 + 1,
                messageID: "<m\(index)@example.com>", itemIDs: [Int64(index), 42, 7], retryAt: retryAt,
                bounceLimit: bounceLimit)
            record.noBouncesToReset = !reset
            return .delivery(record)
        }
        // The reader of row 8, recorded a second time on row 0's reader: made to share row 0's reader below.
        return [
            outcome(0, .permanent(reason: "550 5.2.1 mailbox disabled"), bounceLimit: 5),
            outcome(1, .sent(reply: "250 2.0.0 Ok: queued as \"A1\" \\ done\r\nsecond line\tand a tab \u{1}")),
            outcome(2, .sent(reply: "250 ok"), reset: false),
            outcome(3, .permanent(reason: "550 5.2.1 mailbox disabled, résumé ✉"), bounceLimit: 3),
            outcome(4, .transient(reason: "421 4.7.0 try later"), retryAt: Fixtures.date("2026-11-24T07:30:00.125Z")),
            outcome(5, .transient(reason: "connection refused")),
            outcome(6, .permanent(reason: "could not build the message"), bounceLimit: nil),
            .skipped(id: claimed[7].id, reason: "nothing new for this reader"),
            .delivery(
                DeliveryOutcome(
                    id: claimed[8].id, subscriberID: claimed[0].subscriber.id!, outcome: .sent(reply: "250 again"),
                    attempts: 1, messageID: "<m8@example.com>", itemIDs: [], retryAt: nil, bounceLimit: nil)),
        ]
    }

    func rows(_ store: Store) throws -> [Row] {
        try store.database.read { db in
            try db.fetchAll(
                """
                SELECT d.status, d.attempts, d.lastReply, d.messageID, d.itemIDs, d.sentAt, d.nextAttemptAt, d.updatedAt,
                    d.claimedBy, s.status AS readerStatus, s.bounceCount, s.bouncedAt
                FROM deliveries d JOIN subscribers s ON s.id = d.subscriberID ORDER BY d.id
                """
            ).map { row in
                Row(
                    status: try row["status"], attempts: try row["attempts"], lastReply: try row["lastReply"],
                    messageID: try row["messageID"], itemIDs: try row["itemIDs"], sentAt: try row["sentAt"],
                    nextAttemptAt: try row["nextAttemptAt"], updatedAt: try row["updatedAt"], claimedBy: try row["claimedBy"],
                    readerStatus: try row["readerStatus"], bounceCount: try row["bounceCount"],
                    bouncedAt: try row["bouncedAt"])
            }
        }
    }

    /// The reference: SQLite, one entry per transaction (the statements `record` has always run). The same
    /// entries as one group, and one at a time, on each backend leave the same rows.
    @Test(arguments: StoreBackend.allCases) func aGroupInOneStatementLeavesTheRowsOfOneByOne(backend: StoreBackend) throws {
        let (reference, referenceClaims) = try claimedStore(.sqlite)
        for entry in entries(referenceClaims) { try reference.record([entry], now: Self.now) }
        let expected = try rows(reference)
        #expect(expected.map(\.status) == ["failed", "sent", "sent", "failed", "deferred", "deferred", "failed", "skipped", "sent"])
        #expect(expected[0].bounceCount == 0, "the reader's bounce, then a sent message that resets the count")
        #expect(expected[3].readerStatus == "bounced")

        let (grouped, groupedClaims) = try claimedStore(backend)
        try grouped.record(entries(groupedClaims), now: Self.now)
        let (single, singleClaims) = try claimedStore(backend)
        for entry in entries(singleClaims) { try single.record([entry], now: Self.now) }
        #expect(try rows(grouped).count == expected.count)
        #expect(try rows(single).count == expected.count)
        for (index, (got, want)) in zip(try rows(grouped), expected).enumerated() {
            #expect(got == want, "row \(index), grouped")
        }
        for (index, (got, want)) in zip(try rows(single), expected).enumerated() {
            #expect(got == want, "row \(index), one by one")
        }
    }

    /// A group that changes no reader (sent to a reader with no bounce to reset, deferred, failed not by the
    /// reader, skipped: a send's usual group) is the ledger's update alone on PostgreSQL; it leaves the rows
    /// the one-by-one reference leaves.
    @Test(arguments: StoreBackend.allCases) func aGroupThatChangesNoReaderLeavesTheRowsOfOneByOne(backend: StoreBackend) throws {
        let unchangedReaders = [2, 4, 5, 6, 7]
        let (reference, referenceClaims) = try claimedStore(.sqlite)
        for index in unchangedReaders { try reference.record([entries(referenceClaims)[index]], now: Self.now) }
        let (grouped, groupedClaims) = try claimedStore(backend)
        try grouped.record(unchangedReaders.map { entries(groupedClaims)[$0] }, now: Self.now)
        let expected = try rows(reference)
        #expect(expected.map(\.status) == ["sending", "sending", "sent", "sending", "deferred", "deferred", "failed", "skipped", "sending"])
        #expect(try rows(grouped) == expected)
    }

    /// A refusal that says the mailbox does not exist (5.1.1, 5.1.10) marks its reader `bounced` at the first,
    /// whatever the limit, in a group (one statement on PostgreSQL) as one by one; any other hard bounce counts.
    @Test(arguments: StoreBackend.allCases) func aMailboxThatDoesNotExistBouncesAtOnceInAGroup(backend: StoreBackend) throws {
        for grouped in [true, false] {
            let (store, claimed) = try claimedStore(backend)
            // Readers 5 to 8 have no bounces yet.
            let replies = [
                "550 5.1.1 <r5@example.com>: User unknown", "556 5.1.10 <r6@example.com>: null MX",
                "550 5.2.1 <r7@example.com>: mailbox disabled", "550 5.1.2 <r8@example.com>: no such domain",
            ]
            let entries = zip(claimed[4...7], replies).map { row, reply in
                LedgerEntry.delivery(
                    DeliveryOutcome(
                        id: row.id, subscriberID: row.subscriber.id!, outcome: .permanent(reason: reply), attempts: 1,
                        messageID: "<\(row.id)@example.com>", itemIDs: [], retryAt: nil, bounceLimit: 3))
            }
            if grouped {
                try store.record(entries, now: Self.now)
            } else {
                for entry in entries { try store.record([entry], now: Self.now) }
            }
            let readers = try claimed[4...7].map { try #require(try store.subscriber(id: $0.subscriber.id!)) }
            #expect(readers.map(\.status) == [.bounced, .bounced, .active, .active], "grouped: \(grouped)")
            #expect(readers.map(\.bounceCount) == [1, 1, 1, 1])
            #expect(try store.dailyStats(from: Day("2026-11-24")!, through: Day("2026-11-24")!).first?.bounced == 2)
        }
    }

    /// A group is cut where one statement would change a row twice: the same reader's bounce count, the
    /// same ledger row. Otherwise it stays one statement.
    @Test func groupsAreCutOnlyWhereARowWouldChangeTwice() throws {
        func entry(_ id: Int64, reader: Int64, _ outcome: SendOutcome, bounceLimit: Int? = nil, reset: Bool = false)
            -> LedgerEntry
        {
            var record = DeliveryOutcome(
                id: id, subscriberID: reader, outcome: outcome, attempts: 1, messageID: "", itemIDs: [], retryAt: nil,
                bounceLimit: bounceLimit)
            record.noBouncesToReset = !reset
            return .delivery(record)
        }
        let sent = SendOutcome.sent(reply: "250")
        #expect(Store.statementGroups((1...8).map { entry($0, reader: $0, sent, reset: true) }).count == 1)
        // The same reader twice, but neither entry changes the reader's row: one statement.
        #expect(Store.statementGroups([entry(1, reader: 1, sent), entry(2, reader: 1, sent)]).count == 1)
        let split = Store.statementGroups([
            entry(1, reader: 1, .permanent(reason: "550"), bounceLimit: 3), entry(2, reader: 2, sent, reset: true),
            entry(3, reader: 1, sent, reset: true), .skipped(id: 3, reason: "again"),
        ])
        #expect(split.map(\.count) == [2, 1, 1])
    }

    /// PostgreSQL: a group commit of 8 outcomes is one statement and one round trip; so is the batch's "already
    /// received" read. A claim with its readers is three, once per batch: its planner setting, the claim and
    /// COMMIT (`Store.claimPlan`; BEGIN goes out ahead of the first). Its second run on a connection prepares
    /// it, one round trip more (Parse, Describe and Sync are answered before the Bind). SQLite counts none.
    @Test(arguments: StoreBackend.allCases) func aGroupCommitIsOneRoundTrip(backend: StoreBackend) throws {
        let (store, claimed) = try claimedStore(backend)
        guard backend == .postgres else {
            #expect(store.traffic == nil)
            return
        }
        let before = try #require(store.traffic)
        let group = entries(claimed).prefix(8)
        try store.record(Array(group), now: Self.now)
        let afterRecord = try #require(store.traffic)
        #expect(afterRecord.roundTrips - before.roundTrips == 1)
        #expect(afterRecord.statements - before.statements == 1)
        try store.queueDeliveries(editionID: claimed[0].editionID, date: Day("2026-11-24")!, now: Self.now)
        let beforeClaim = try #require(store.traffic)
        _ = try store.claimDeliveries(run: "run-2", limit: 10, now: Self.now)
        _ = try store.receivedItemIDs(subscriberIDs: claimed.map { $0.subscriber.id! }, before: Day("2026-11-25")!, since: Day("2026-11-01")!)
        let afterClaim = try #require(store.traffic)
        #expect(afterClaim.roundTrips - beforeClaim.roundTrips == 5)
        // Once each statement has been prepared (the read is at its second run here), 4 again.
        var last = 0
        for run in 3...5 {
            let beforeRun = try #require(store.traffic)
            _ = try store.claimDeliveries(run: "run-\(run)", limit: 10, now: Self.now)
            _ = try store.receivedItemIDs(subscriberIDs: claimed.map { $0.subscriber.id! }, before: Day("2026-11-25")!, since: Day("2026-11-01")!)
            last = try #require(store.traffic).roundTrips - beforeRun.roundTrips
        }
        #expect(last == 4)
    }

    /// A lone statement runs without BEGIN and COMMIT on PostgreSQL: a body that tries a second one is refused
    /// before it is sent (it would not be atomic).
    @Test(arguments: StoreBackend.allCases) func aLoneStatementTransactionRefusesASecond(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let value: Int? = try store.database.writeStatement { db in try db.fetchValue("SELECT 1 + 1") }
        #expect(value == 2)
        guard backend == .postgres else { return }
        #expect(throws: (any Error).self) {
            try store.database.writeStatement { db in
                try db.execute("SELECT 1")
                try db.execute("SELECT 2")
            }
        }
    }
}
