import Foundation
import Logging
import Synchronization
import class GRDB.Database
import Testing

@testable import DigestCore

/// Each stop condition of `digest send` reproduced as the fault it is, against real servers: a relay that
/// refuses everyone, a relay that never answers, a disk that fills, a lost run lock. The promise in every
/// case: sending stops in bounded time, no reader is bounced for it, and only messages on the wire at
/// that instant (at most one per connection) can be sent twice.
@Suite(.serialized) struct StopConditionTests {
    let directory = TemporaryDirectory("stops")
    static let secret = "stop-test-secret-0123456789"

    func setUp(
        database: String? = nil, smtp: [String: Any], readers: Int, domains: Int = 1
    ) async throws -> (Configuration, Store, DigestComposer) {
        let configuration = try Fixtures.configuration(in: directory) { json in
            Fixtures.useSiteTimeZone(&json, "UTC")
            Fixtures.useSMTP(&json, ["tls": "off", "timeoutSeconds": 5, "maxAttempts": 2].merging(smtp) { _, new in new })
            if let database { json["database"] = database }
        }
        let store = try Store(path: configuration.database)
        var drafts: [ItemDraft] = []
        for day in ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"] {
            for n in 0..<3 {
                drafts.append(
                    ItemDraft(
                        kind: .story, title: "Story \(day) #\(n)", url: "https://n.example/\(day)/\(n)", summary: "Summary",
                        publishedAt: Fixtures.date("\(day)T1\(n):00:00Z").addingTimeInterval(-86_400), votes: n + 1))
            }
        }
        try store.upsert(drafts)
        var csv = "email,name\n"
        for index in 0..<readers { csv += "r\(index)@d\(index % domains).example,Reader \(index)\n" }
        #expect(try store.importSubscribers(csv: csv, confirmed: true).imported == readers)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: Self.secret])
        return (configuration, store, composer)
    }

    func runner(
        _ configuration: Configuration, _ store: Store, _ composer: DigestComposer, at now: String,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.2)
    ) throws -> DeliveryRunner {
        let smtp = configuration.mail.smtp!
        let pool = SenderPool(
            transport: try configuration.mail.makeTransport(environment: [:]), retry: retry,
            maxPerSecond: smtp.maxPerSecond, logger: Logger(label: "test"))
        let instant = Fixtures.date(now)
        return DeliveryRunner(store: store, composer: composer, pool: pool, logger: Logger(label: "test"), clock: { instant })
    }

    func perReader(_ sink: SMTPSinkServer) throws -> [String: Int] {
        Dictionary(grouping: try sink.receivedMessages().compactMap(\.recipient), by: { $0 }).mapValues(\.count)
    }

    // MARK: A relay that refuses everyone

    @Test(arguments: [
        "554 5.7.1 <r0@d0.example>: Relay access denied",
        // A reader's kind of reply, but the same for every reader: the relay's problem all the same.
        "550 5.1.1 Recipient address rejected: User unknown",
    ])
    func aRelayWideRefusalBouncesNoOneAndEveryoneIsDeliveredOnceTheRelayIsFixed(reply: String) async throws {
        let port = FreePort.next()
        var sink = try SMTPSinkServer(flags: ["-f", "rcpt", "-B", reply], port: port)
        let (configuration, store, composer) = try await setUp(
            smtp: ["url": "smtp://127.0.0.1:\(port)", "connections": 2], readers: 40, domains: 7)
        for night in ["2026-11-24", "2026-11-25", "2026-11-26"] {
            let summary = try await runner(configuration, store, composer, at: "\(night)T07:00:00Z").run(.init())
            #expect(summary.exitStatus == 75 && summary.failed == 0, "\(summary.lines)")
            #expect(summary.stoppedBy == "relayRefusing", "\(summary.lines)")
            #expect(summary.note?.contains("nobody was bounced") == true)
        }
        #expect(try store.subscriberCount(status: .bounced) == 0)
        try store.forEachSubscriber { #expect($0.bounceCount == 0) }
        sink.stop()
        sink = try SMTPSinkServer(port: port)
        defer { sink.stop() }
        // The next night: one catch-up of the nights they missed, not a pile of them; the older editions that
        // never went out are superseded (kept in the ledger, saying by which), never sent late.
        let healed = try await runner(configuration, store, composer, at: "2026-11-27T07:00:00Z").run(.init())
        #expect(healed.exitStatus == 0 && healed.failed == 0, "\(healed.lines)")
        #expect(healed.readers == ["catch-up": 40], "\(healed.lines)")
        let received = try perReader(sink)
        #expect(received.count == 40 && received.values.allSatisfy { $0 == 1 }, "one digest per reader: \(received)")
        let ledger = try store.deliveries(limit: 10_000)
        #expect(
            ledger.allSatisfy { [.sent, .skipped, .superseded].contains($0.status) },
            "\(ledger.filter { $0.status != .sent }.prefix(3))")
        #expect(ledger.filter { $0.status == .superseded }.allSatisfy { $0.lastReply?.hasPrefix("superseded by the ") == true })
        #expect(received.values.reduce(0, +) == ledger.filter { $0.status == .sent }.count, "each (edition, reader) once")
        #expect(ledger.filter { $0.status == .sent }.allSatisfy { $0.editionDate == "2026-11-27" })
    }

    // MARK: A relay that never answers

    /// Accepts TCP connections (the kernel completes them) but never greets: the silent relay.
    final class SilentRelay {
        let port: UInt16
        private let socket: Int32

        init() throws {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.socket = socket
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var bound: UInt16 = 0
            for _ in 0..<10 {
                let candidate = FreePort.next()
                address.sin_port = candidate.bigEndian
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                if result == 0 {
                    bound = candidate
                    break
                }
            }
            guard bound != 0, listen(socket, 128) == 0 else {
                close(socket)
                throw TestServerError.didNotStart("silent relay")
            }
            port = bound
        }

        deinit { close(socket) }
    }

    @Test func aSilentRelayStopsTheRunInAboutTwoTimeoutsAndDefersEveryone() async throws {
        let relay = try SilentRelay()
        let connections = 2
        let (configuration, store, composer) = try await setUp(
            smtp: ["url": "smtp://127.0.0.1:\(relay.port)", "connections": connections, "timeoutSeconds": 1],
            readers: 400)
        let summary = try await runner(
            configuration, store, composer, at: "2026-11-26T07:00:00Z",
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.1)
        ).run(.init())
        #expect(summary.stoppedBy == "relayUnavailable", "\(summary.lines)")
        #expect(summary.exitStatus == 75 && summary.sent == 0 && summary.failed == 0, "\(summary.lines)")
        #expect(try store.pendingDeliveryCount() == 400, "every reader stays due for a later run")
        // Bounded by tries, not by readers: each try costs one timeout, the connections try side by side,
        // and the breaker opens after two failures per connection (plus what was on the wire then).
        let tries = try store.deliveries(limit: 1_000).reduce(0) { $0 + $1.attempts }
        #expect(tries <= 2 * connections + connections, "\(tries) tries of 1 s each for 400 readers")
        #expect(try store.subscriberCount(status: .bounced) == 0)
        #expect(summary.reasons.keys.contains { $0.contains("relay is unavailable") }, "\(summary.reasons)")
        withExtendedLifetime(relay) {}
    }

    // MARK: A ledger that cannot be written

    @Test func aFullDiskStopsSendingAtOnceAndTheRerunSendsOnlyWhatWasOnTheWire() async throws {
        let mount = directory.file("small-disk")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", mount])
        try #require(mounted, "mounting a small tmpfs needs root (CI runs as root)")
        defer { _ = ChildProcess.run("/bin/umount", ["-l", mount]) }
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let connections = 4
        let readers = 1_500
        let (configuration, store, composer) = try await setUp(
            database: mount + "/digest.sqlite",
            smtp: ["url": sink.url, "connections": connections, "maxPerSecond": 600], readers: readers)
        // The disk fills while the send is under way: once the sink has taken 200 messages.
        let filler = mount + "/filler"
        let fill = Thread.detachedResult { [directory] () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while (try? FileManager.default.contentsOfDirectory(atPath: sink.dumpFolder).count) ?? 0 < 200 && Date() < deadline {
                usleep(2_000)
            }
            _ = directory
            _ = FileManager.default.createFile(atPath: filler, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: filler) else { return false }
            let chunk = Data(count: 1 << 20)
            while (try? handle.write(contentsOf: chunk)) != nil {}
            try? handle.close()
            return true
        }
        var thrown: (any Error)?
        do {
            _ = try await runner(configuration, store, composer, at: "2026-11-26T07:00:00Z").run(.init())
        } catch {
            thrown = error
        }
        #expect(await fill.value)
        let message = "\(thrown.map { "\($0)" } ?? "no error")"
        #expect(message.contains("database or disk is full"), "\(message)")
        #expect(message.contains(configuration.database), "names the database: \(message)")
        let sentBefore = try store.deliveries(status: .sent, limit: 10_000).count
        let receivedBefore = try sink.receivedMessages().count
        #expect(receivedBefore < readers, "sending stopped")
        #expect(receivedBefore - sentBefore <= connections, "\(receivedBefore) received, \(sentBefore) recorded")

        try FileManager.default.removeItem(atPath: filler)
        // The full disk kept the run from giving its lock back. In a deployment its process then exits and
        // the next run takes the lock of a dead pid at once; here the run was this test's process.
        #expect(try store.database.write { try $0.execute("DELETE FROM locks") } == 1)
        let rerun = try await runner(configuration, store, composer, at: "2026-11-26T07:30:00Z").run(.init())
        #expect(rerun.exitStatus == 0, "\(rerun.lines)")
        let received = try perReader(sink)
        #expect(received.count == readers)
        let duplicates = received.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates <= connections, "\(duplicates) duplicates")
    }

    // MARK: A lost run lock

    @Test func aRunThatLostItsLockStopsBeforeTheNextMessage() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let connections = 2
        let readers = 600
        let (configuration, store, composer) = try await setUp(
            smtp: ["url": sink.url, "connections": connections, "maxPerSecond": 300], readers: readers)
        // The monotonic clock of the lease: the test moves it on as if the process had been stopped.
        let frozenFor = Mutex(0.0)
        let instant = Fixtures.date("2026-11-26T07:00:00Z")
        let runner = DeliveryRunner(
            store: store, composer: composer,
            pool: SenderPool(
                transport: try configuration.mail.makeTransport(environment: [:]), retry: RetryPolicy(maxAttempts: 2),
                maxPerSecond: 300, logger: Logger(label: "test")),
            logger: Logger(label: "test"), clock: { instant },
            leaseClock: { RunLease.uptime() + frozenFor.withLock { $0 } })
        let takeover = Thread.detachedResult { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while (try? FileManager.default.contentsOfDirectory(atPath: sink.dumpFolder).count) ?? 0 < 50 && Date() < deadline {
                usleep(2_000)
            }
            // While this run "slept" 70 s, its lease ran out and another run took the lock.
            let changed = try? store.database.write { db -> Bool in
                try db.execute(
                    "UPDATE locks SET owner = 'other-run', pid = 1, expiresAt = ? WHERE name = ?",
                    Date().addingTimeInterval(600).sqlValue, .text(DeliveryRunner.lockName)) == 1
            }
            frozenFor.withLock { $0 = 70 }
            return changed == true
        }
        let summary = try await runner.run(.init())
        #expect(await takeover.value)
        #expect(summary.stoppedBy == "lockLost" && summary.exitStatus == 75, "\(summary.lines)")
        #expect(summary.note?.contains("lost the run lock") == true)
        let recorded = try store.deliveries(status: .sent, limit: 10_000).count
        let received = try sink.receivedMessages().count
        #expect(received < readers)
        #expect(received - recorded <= connections, "\(received) received, \(recorded) recorded")
        // The lock is the other run's: this one left it alone.
        #expect(try store.acquireLock(
            DeliveryRunner.lockName, owner: "third", pid: getpid(), host: ProcessInfo.processInfo.hostName, lease: 60,
            now: Date(), isAlive: { _ in true })?.owner == "other-run")
    }
}

extension Thread {
    /// Starts `body` at once on a thread of its own (not the test pool's, whose two threads other tests may
    /// hold for seconds) and hands back its result.
    static func detachedResult<T: Sendable>(_ body: @escaping @Sendable () -> T) -> Task<T, Never> {
        let result = Mutex<(value: T?, waiting: CheckedContinuation<T, Never>?)>((nil, nil))
        Thread {
            let value = body()
            let waiting = result.withLock { state in
                state.value = value
                return state.waiting
            }
            waiting?.resume(returning: value)
        }.start()
        return Task {
            await withCheckedContinuation { continuation in
                let value = result.withLock { state in
                    if state.value == nil { state.waiting = continuation }
                    return state.value
                }
                if let value { continuation.resume(returning: value) }
            }
        }
    }
}

extension ChildProcess {
    /// Runs a command to its end; true when it exits 0.
    static func run(_ executable: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try spawnLock.withLock { try process.run() } } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
