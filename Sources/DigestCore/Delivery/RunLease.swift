import Foundation

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
///
/// The decisions (when to renew, whether the lease still holds, whether to give it back) are `State`'s; this
/// class holds the lock, reads the clock, talks to the database and runs the renewing thread.
final class RunLease: @unchecked Sendable {
    let store: Store
    let name: String
    let owner: String
    let length: TimeInterval
    /// Seconds on a monotonic clock (`RunLease.uptime` outside tests).
    private let uptime: @Sendable () -> Double
    // `state` is guarded by `condition`, on which the renewing thread sleeps until its next renewal.
    private let condition = NSCondition()
    private var state: State

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
            RunLease(
                store: store, name: name, owner: owner, state: State(length: length, takenAt: started),
                uptime: uptime))
    }

    private init(store: Store, name: String, owner: String, state: State, uptime: @escaping @Sendable () -> Double) {
        self.uptime = uptime
        self.store = store
        self.name = name
        self.owner = owner
        length = state.length
        self.state = state
    }

    /// Renews every `length / 3` until `release()`; `lost` is called once if another run has taken the lease.
    func keepRenewing(lost onLost: @escaping @Sendable () -> Void) {
        Thread.start(named: "run-lease", background: true) { [self] in
            condition.lock()
            var step = state.renewerStep(now: uptime())
            while true {
                switch step {
                case .wait(let seconds):
                    // The condition's timeout takes a wall clock date: the state works out what is left of the
                    // monotonic wait after every wake-up.
                    _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
                    step = state.renewerStep(now: uptime())
                case .renew:
                    condition.unlock()
                    let started = uptime()
                    let answer = askToRenew()
                    condition.lock()
                    step = state.renewerRenewed(startedAt: started, answer, now: uptime())
                case .lost:
                    condition.unlock()
                    onLost()
                    return
                case .exit:
                    condition.unlock()
                    return
                }
            }
        }
    }

    /// Nil while the lease is certainly ours; otherwise why nothing more may be sent.
    func check() -> SenderPool.StopReason? {
        let now = uptime()
        switch locked({ $0.check(now: now) }) {
        case .valid:
            return nil
        case .lost:
            return Self.lostReason
        case .confirm:
            // Renewed a third of a lease ago at most, unless the process was stopped: ask the database.
            let started = uptime()
            let answer = askToRenew()
            return locked { $0.renewalEnded(startedAt: started, answer) } == .ours ? nil : Self.lostReason
        }
    }

    static let lostReason = SenderPool.StopReason(
        .lockLost, "lost the run lock (another digest send took it over): stopped sending at once", immediate: true)

    /// Asks the database to extend the lease (without the lock: a round trip).
    private func askToRenew() -> State.Answer {
        do {
            return try store.renewLock(name, owner: owner, lease: length, now: Date()) ? .renewed : .heldByAnother
        } catch {
            return .unanswered
        }
    }

    /// Ends renewing and gives the lease back (unless it was lost).
    func release() {
        let action = locked { state in
            let action = state.release()
            condition.broadcast()
            return action
        }
        if action == .giveBack { try? store.releaseLock(name, owner: owner) }
    }

    var wasLost: Bool { locked { $0.lost } }

    private func locked<T>(_ body: (inout State) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(&state)
    }

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
