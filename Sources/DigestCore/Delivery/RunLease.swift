import Foundation
import Synchronization

/// The run lock of `digest send`: a lease row in the database, renewed every third of its length by a
/// thread of its own while the run lasts.
///
/// The row's expiry is the database's time (`SQLDialect.leaseTime`: PostgreSQL's `clock_timestamp()`), and
/// only the database compares it: this process never holds its own wall clock against a stored expiry.
/// What it keeps itself are durations on a monotonic clock (the renewal schedule, `validUntil`), which a
/// wall clock minutes off, or stepped by NTP, does not move.
///
/// The lease is only as good as its last renewal: a process that was stopped (SIGSTOP, a frozen VM) for
/// longer than the lease may have lost it to another run without knowing. So `check()`, asked before every
/// message's end of data, reads a monotonic clock, and once the lease could have run out it confirms with
/// the database before anything more is sent.
final class RunLease: Sendable {
    let store: Store
    let name: String
    let owner: String
    let length: TimeInterval
    /// Seconds on a monotonic clock (`RunLease.uptime` outside tests).
    private let uptime: @Sendable () -> Double
    /// Monotonic uptime (seconds) until which the lease is known to be ours.
    private let validUntil: Mutex<Double>
    private let lost = Mutex(false)
    private let stopRenewing = NSCondition()
    private let ended = Mutex(false)

    enum Acquired {
        case taken(RunLease)
        case held(by: LockHolder)
    }

    /// Takes the lease, or says who holds it. `perWorker` names the lease `name:owner`: one per cooperating
    /// sender on a shared store (never held by another), whose expiry tells the others the worker is gone.
    static func acquire(
        store: Store, name: String, perWorker: Bool = false, length: TimeInterval, now: Date,
        uptime: @escaping @Sendable () -> Double = RunLease.uptime
    ) throws -> Acquired {
        let owner = UUID().uuidString
        let name = perWorker ? name + ":" + owner : name
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let started = uptime()
        if let holder = try store.acquireLock(
            name, owner: owner, pid: pid, host: host, lease: length, now: now, isAlive: Self.isAlive)
        {
            return .held(by: holder)
        }
        return .taken(
            RunLease(store: store, name: name, owner: owner, length: length, validUntil: started + length, uptime: uptime))
    }

    private init(
        store: Store, name: String, owner: String, length: TimeInterval, validUntil: Double,
        uptime: @escaping @Sendable () -> Double
    ) {
        self.uptime = uptime
        self.store = store
        self.name = name
        self.owner = owner
        self.length = length
        self.validUntil = Mutex(validUntil)
    }

    /// Renews every `length / 3` until `release()`; `lost` is called once if another run has taken the lease.
    func keepRenewing(lost onLost: @escaping @Sendable () -> Void) {
        Thread.start(named: "run-lease", background: true) { [self] in
            while true {
                // Due a third of a lease from now on the monotonic clock; the condition's timeout takes a wall
                // clock date, so it is recomputed from what is left after every wake-up.
                let due = uptime() + length / 3
                stopRenewing.lock()
                while !ended.withLock({ $0 }) {
                    let left = due - uptime()
                    if left <= 0 { break }
                    _ = stopRenewing.wait(until: Date(timeIntervalSinceNow: left))
                }
                stopRenewing.unlock()
                if ended.withLock({ $0 }) { return }
                if !renew() {
                    onLost()
                    return
                }
            }
        }
    }

    /// Nil while the lease is certainly ours; otherwise why nothing more may be sent.
    func check() -> SenderPool.StopReason? {
        if lost.withLock({ $0 }) { return Self.lostReason }
        // Renewed a third of a lease ago at most, unless the process was stopped: then ask the database.
        if uptime() < validUntil.withLock({ $0 }) - length / 3 { return nil }
        return renew() ? nil : Self.lostReason
    }

    static let lostReason = SenderPool.StopReason(
        .lockLost, "lost the run lock (another digest send took it over): stopped sending at once", immediate: true)

    /// Extends the lease; false (for good) when another run holds it now or it cannot be written.
    @discardableResult
    private func renew() -> Bool {
        if lost.withLock({ $0 }) { return false }
        let started = uptime()
        let renewed: Bool
        do {
            renewed = try store.renewLock(name, owner: owner, lease: length, now: Date())
        } catch {
            // Not confirmed either way (the ledger's own writes will say why): good while it lasts.
            return started < validUntil.withLock { $0 }
        }
        if renewed {
            validUntil.withLock { $0 = max($0, started + length) }
        } else {
            lost.withLock { $0 = true }
        }
        return renewed
    }

    /// Ends renewing and gives the lease back (unless it was lost).
    func release() {
        ended.withLock { $0 = true }
        stopRenewing.lock()
        stopRenewing.broadcast()
        stopRenewing.unlock()
        if !lost.withLock({ $0 }) { try? store.releaseLock(name, owner: owner) }
    }

    var wasLost: Bool { lost.withLock { $0 } }

    /// Seconds on a clock that keeps counting while the process is stopped (CLOCK_MONOTONIC on Linux).
    static func uptime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
