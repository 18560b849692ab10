import Foundation
import Testing

@testable import DigestCore

/// Whose clock judges a lease (issue 28). On PostgreSQL, the database server's: a worker whose clock runs
/// 10 minutes ahead or behind (its `now`) can neither take a live lease nor keep one that ran out. SQLite is
/// one machine: the clock the caller gives decides, so tests keep passing theirs.
@Suite struct LeaseClockTests {
    let directory = TemporaryDirectory("lease-clock")
    static let skew: TimeInterval = 600

    func acquire(_ store: Store, _ name: String, owner: String, lease: TimeInterval = 60, now: Date) throws -> LockHolder? {
        // Another host: the holder's process cannot be looked up, only its lease counts.
        try store.acquireLock(name, owner: owner, pid: 1, host: "other-host", lease: lease, now: now, isAlive: { _ in true })
    }

    func lockCount(_ store: Store) throws -> Int {
        try store.database.read { try $0.fetchValue("SELECT count(*) FROM locks") } ?? 0
    }

    @Test func aClockAheadTakesNoLiveLeaseOnPostgres() throws {
        let store = try Fixtures.store(in: directory, .postgres)
        let ahead = Date() + Self.skew
        #expect(try acquire(store, "send", owner: "live", now: Date()) == nil)
        #expect(try acquire(store, "send", owner: "ahead", now: ahead)?.owner == "live")
        // Nor does it remove a live worker's lease as run out (and with it re-queue the worker's claims).
        #expect(try acquire(store, "send:live", owner: "live", now: Date()) == nil)
        try store.takeOverAbandonedClaims(workerLockPrefix: "send:", now: ahead)
        #expect(try lockCount(store) == 2)
        // Renewed by a clock ahead, the lease still ends a lease from the server's now.
        #expect(try store.renewLock("send", owner: "live", lease: 60, now: ahead))
        let expiry: Date = try #require(try store.database.read {
            try $0.fetchValue("SELECT expiresAt FROM locks WHERE name = 'send'")
        })
        let serverNow: Date = try #require(try store.database.read { try $0.fetchValue("SELECT clock_timestamp()") })
        #expect(abs(expiry.timeIntervalSince(serverNow) - 60) < 30, "\(expiry) vs the server's \(serverNow)")
    }

    @Test func aClockBehindWritesLiveLeasesAndLetsDeadOnesGoOnPostgres() throws {
        let store = try Fixtures.store(in: directory, .postgres)
        let behind = { Date() - Self.skew }
        // Its lease is live for everyone else...
        #expect(try acquire(store, "send", owner: "behind", now: behind()) == nil)
        #expect(try acquire(store, "send", owner: "true", now: Date())?.owner == "behind")
        #expect(try acquire(store, "send:behind", owner: "behind", now: behind()) == nil)
        try store.takeOverAbandonedClaims(workerLockPrefix: "send:", now: Date())
        #expect(try lockCount(store) == 2)
        // ...and a dead one's lease runs out for it too.
        #expect(try acquire(store, "short", owner: "dead", lease: 0.5, now: Date()) == nil)
        Thread.sleep(forTimeInterval: 0.7)
        #expect(try acquire(store, "short", owner: "behind", now: behind()) == nil)
        #expect(try acquire(store, "send:dead", owner: "dead", lease: 0.5, now: Date()) == nil)
        Thread.sleep(forTimeInterval: 0.7)
        try store.takeOverAbandonedClaims(workerLockPrefix: "send:", now: behind())
        #expect(try store.database.read { try $0.fetchValue("SELECT count(*) FROM locks WHERE name = 'send:dead'") } == 0)
    }

    @Test func outboxClaimsRunOnTheServersClockOnPostgres() throws {
        let store = try Fixtures.store(in: directory, .postgres)
        let now = Date()
        let reader = try store.addSubscriber(Subscriber(email: try EmailAddress("claimed@example.com"), status: .pending))
        _ = try store.signUp(
            reader, challenge: UsedChallenge(id: "q", expiresAt: now + 60), now: now, resendInterval: 600
        ) { subscriber in
            MailMessage(
                sender: try EmailAddress("digest@courier.example"), recipient: subscriber.email,
                messageID: "<skew@courier.example>", data: Array("Subject: x\r\n\r\nx\r\n".utf8))
        }
        #expect(try store.claimOutbox(owner: "a:1", limit: 10, lease: 0.5, now: now).count == 1)
        // A host whose clock runs ahead: the claim is live by the server's clock.
        #expect(try store.claimOutbox(owner: "ahead:2", limit: 10, lease: 600, now: now + Self.skew).isEmpty)
        // On a host's own clock, however far off, the claim runs out within its lease (not minutes early or late).
        for clock in [now - Self.skew, now + Self.skew] {
            let due = try #require(try store.nextOutboxDue(now: clock))
            #expect(due <= clock + 1 && due > clock - 10, "\(due) on a clock at \(clock)")
        }
        Thread.sleep(forTimeInterval: 0.7)
        // A host whose clock runs behind takes the claim that ran out.
        #expect(try store.claimOutbox(owner: "behind:3", limit: 10, lease: 600, now: now - Self.skew).count == 1)
    }

    @Test func sqliteLeasesRunOnTheClockGiven() throws {
        let store = try Fixtures.store(in: directory, .sqlite)
        let now = Fixtures.date("2026-11-26T07:00:00Z")
        #expect(try acquire(store, "send", owner: "a", now: now) == nil)
        #expect(try acquire(store, "send", owner: "b", now: now + 59)?.owner == "a")
        #expect(try acquire(store, "send", owner: "b", now: now + 60) == nil)
        #expect(try store.renewLock("send", owner: "b", lease: 60, now: now + 100))
        #expect(try acquire(store, "send", owner: "c", now: now + 159)?.owner == "b")
        #expect(try acquire(store, "send:w", owner: "w", now: now) == nil)
        try store.takeOverAbandonedClaims(workerLockPrefix: "send:", now: now + 59)
        #expect(try lockCount(store) == 2)
        try store.takeOverAbandonedClaims(workerLockPrefix: "send:", now: now + 60)
        #expect(try lockCount(store) == 1)
    }
}
