import Foundation
import Logging

/// The nightly run (`digest send`), in stages:
///
///     lease → recover → plan (who is due what; freeze + queue) → claim → compose → deliver → record → report
///     RunLease  Store    EditionPlanner, ReaderSchedule, Ranker  ClaimFeed ComposeStage SenderPool LedgerRecorder
///                                                                 └──────────── DeliveryPipeline ────────────┘
///
/// Safe to run every hour, twice at once, or after a kill: the run lock keeps one sender, the ledger's
/// UNIQUE (edition, subscriber) keeps one delivery per reader and edition, each outcome is written right
/// after the server's reply by one writer, and rows a dead run left `sending` go back to the queue (only
/// those can be sent twice: at most one per connection). Every stop condition (a signal, a lost lock, a
/// ledger that cannot be written, a relay that is down or refuses everyone) is an event of the sender
/// pool's state machine: sending stops, nothing is bounced for it, and what was not sent stays deferred.
public final class DeliveryRunner: Sendable {
    public struct Options: Sendable {
        /// Send this edition to every active reader who has not had it, whatever their hour.
        public var date: Day?
        /// Plan and render but send and record nothing.
        public var dryRun = false
        /// Wait for a run that holds the lock instead of leaving.
        public var wait = false
        /// How many rows a claim takes from the ledger at once.
        public var batchSize = 200
        /// Hard bounces in a row that mark a reader `bounced`.
        public var bounceLimit = 3
        /// First wait before a deferred delivery is tried by a later run; doubles per attempt.
        public var deferBase: TimeInterval = 15 * 60
        /// Deferred deliveries of editions older than this many days are given up as failed.
        public var giveUpAfterDays = 3
        /// Length of the run lock's lease; renewed every third of it.
        public var lease: TimeInterval = 60
        /// Threads that DKIM-sign the composed messages (when `mail.dkim` has keys): one per core, so a
        /// signed send uses every core; the senders still get the messages in the order they were composed.
        public var signingThreads = ProcessInfo.processInfo.activeProcessorCount

        public init(date: Day? = nil, dryRun: Bool = false, wait: Bool = false) {
            self.date = date
            self.dryRun = dryRun
            self.wait = wait
        }
    }

    public let store: Store
    public let composer: DigestComposer
    public let pool: SenderPool
    public let logger: Logger
    let schedule: DeliverySchedule
    /// The instant the run acts at; tests and `--now` pick it, otherwise the clock.
    let clock: @Sendable () -> Date
    /// Stops the run from outside: signals, and the lease when it is lost. A runner makes one run.
    private let control = SenderPool.Control()

    /// The run lock (SQLite: one sender at a time); on a shared store, the prefix of each worker's lease.
    public static let lockName = "send"
    static var workerLockPrefix: String { lockName + ":" }

    /// The run lock's monotonic clock (`RunLease.uptime`); tests move it on as if the process had slept.
    let leaseClock: @Sendable () -> Double

    public convenience init(
        store: Store, composer: DigestComposer, pool: SenderPool, logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.init(store: store, composer: composer, pool: pool, logger: logger, clock: clock, leaseClock: RunLease.uptime)
    }

    init(
        store: Store, composer: DigestComposer, pool: SenderPool, logger: Logger, clock: @escaping @Sendable () -> Date,
        leaseClock: @escaping @Sendable () -> Double
    ) {
        self.store = store
        self.composer = composer
        self.pool = pool
        self.logger = logger
        self.clock = clock
        self.leaseClock = leaseClock
        schedule = DeliverySchedule(ranker: composer.ranker)
    }

    /// Stops the run: SIGTERM, SIGINT and SIGHUP come here (`SendSignals`). A graceful stop lets the messages
    /// on the wire finish and be recorded; an immediate one (a second signal) lets none reach its end of data.
    public func stop(_ reason: SenderPool.StopReason) {
        control.stop(reason)
    }

    /// Runs once. `progress` sees the counts as they change (for a progress bar or log lines).
    public func run(_ options: Options, progress: (@Sendable (RunSummary) -> Void)? = nil) async throws -> RunSummary {
        let started = clock()
        let lease: RunLease
        switch try await takeLease(options) {
        case .taken(let taken):
            lease = taken
        case .held(let holder):
            var summary = RunSummary()
            summary.note = "another digest send is running (\(holder)); nothing to do (use --wait to wait for it)"
            return summary
        }
        lease.keepRenewing { [control] in control.stop(RunLease.lostReason) }
        defer { lease.release() }
        let runID = options.dryRun ? nil : try store.startRun(command: options.date.map { "send --date \($0)" } ?? "send", now: started)
        var summary = RunSummary()
        summary.dryRun = options.dryRun
        do {
            try await send(options, lease: lease, summary: &summary, progress: progress)
        } catch {
            summary.note = "stopped by an error: \(error)"
            summary.seconds = clock().timeIntervalSince(started)
            if let runID { try? store.finishRun(id: runID, summary: summary, exitStatus: 1, now: clock()) }
            throw error
        }
        summary.seconds = clock().timeIntervalSince(started)
        if let runID { try store.finishRun(id: runID, summary: summary, exitStatus: summary.exitStatus, now: clock()) }
        return summary
    }

    /// The run lock, waiting for it with `--wait`; who holds it otherwise.
    private func takeLease(_ options: Options) async throws -> RunLease.Acquired {
        while true {
            let acquired = try RunLease.acquire(
                // Leases run on the database's clock on PostgreSQL, where workers on several machines judge
                // each other's; SQLite's, one machine's, on the wall clock (never `--now`).
                store: store, name: Self.lockName, perWorker: store.isShared, length: options.lease, now: Date(),
                uptime: leaseClock)
            guard case .held(let holder) = acquired, options.wait, control.reason == nil else { return acquired }
            logger.notice("waiting for the run lock", metadata: ["lock.holder": "\(holder)"])
            try await Task.sleep(for: .seconds(1))
        }
    }

    private func send(
        _ options: Options, lease: RunLease, summary: inout RunSummary, progress: (@Sendable (RunSummary) -> Void)?
    ) async throws {
        let now = clock()
        if !options.dryRun { try recover(now: now, summary: &summary) }
        let editions = try plan(options, now: now, summary: &summary)
        if options.dryRun {
            try dryRun(editions: editions, options: options, now: now, summary: &summary)
            return
        }
        try expire(options, now: now, summary: &summary)
        try await deliver(editions, options, lease: lease, summary: &summary, progress: progress)
    }

    /// Rows a killed run left `sending` go back to the queue (their messages may have been on the wire). On a
    /// shared store only the rows of workers whose lease is gone: the others are still sending them.
    private func recover(now: Date, summary: inout RunSummary) throws {
        summary.recovered =
            store.isShared
            ? try store.takeOverAbandonedClaims(workerLockPrefix: Self.workerLockPrefix, now: Date())
            : try store.requeueAbandoned(now: now)
        if summary.recovered > 0 {
            logger.notice("re-queued deliveries of an interrupted run", metadata: ["deliveries": "\(summary.recovered)"])
        }
    }

    /// Deferred rows of editions older than `giveUpAfterDays` are given up as failed.
    private func expire(_ options: Options, now: Date, summary: inout RunSummary) throws {
        let expiry = Day(now, in: composer.ranker.timeZone).adding(days: -options.giveUpAfterDays)
        let expired = try store.expireDeferred(before: expiry, now: now)
        if expired > 0 { summary.failed += expired; summary.reasons["gave up after retrying for days", default: 0] += expired }
    }

    /// Claim → compose → deliver → record (`DeliveryPipeline`), until the ledger has nothing due or a stop event
    /// ends it.
    private func deliver(
        _ editions: [Edition], _ options: Options, lease: RunLease, summary: inout RunSummary,
        progress: (@Sendable (RunSummary) -> Void)?
    ) async throws {
        let pipeline = DeliveryPipeline(
            editions: editions, options: options, store: store, composer: composer, pool: pool,
            gate: DeliveryPipeline.Gate(control: control, lease: lease),
            report: RunState(summary: summary, progress: progress), clock: clock, logger: logger)
        try await pipeline.run(&summary)
    }

    /// The plan stage: which reader is due which edition (`ReaderSchedule`), editions frozen, rows queued.
    private var planner: EditionPlanner {
        EditionPlanner(store: store, ranker: composer.ranker, readers: ReaderSchedule(schedule: schedule))
    }

    /// Freezes the editions due now and queues their deliveries. A dry run plans in `dryRun`.
    private func plan(_ options: Options, now: Date, summary: inout RunSummary) throws -> [Edition] {
        if let date = options.date {
            let frozen = try composer.ranker.edition(for: date, store: store, freeze: !options.dryRun, now: now)
            // The report's `readers:` line, as a planned run's: who is queued by kind, and who is paused.
            summary.paused += try store.pausedReaderCount(on: date)
            if !options.dryRun {
                let queued = try store.queueDeliveries(editionID: frozen.id!, date: date, now: now)
                summary.queued += queued
                if queued > 0 { summary.readers[frozen.kind.rawValue, default: 0] += queued }
            }
            summary.editions = [date.description]
            return [frozen]
        }
        guard !options.dryRun else { return [] }
        let planner = planner
        let outcome = try planner.plan(now: now, freeze: true) { try planner.queue($0, now: now) }
        summary.planned(outcome)
        summary.queued += outcome.queued.values.reduce(0, +)
        return outcome.editions
    }

    /// Counts who would get what, rendering every message, without sending or writing.
    private func dryRun(editions: [Edition], options: Options, now: Date, summary: inout RunSummary) throws {
        func compose(_ readers: [Subscriber], _ edition: Edition, coversSince: Day?) throws {
            let received = try composer.alreadyReceived(by: readers.compactMap(\.id), before: edition, in: store)
            for subscriber in readers {
                let digest = try composer.digest(
                    for: subscriber, in: edition, alreadyReceived: received[subscriber.id!] ?? [], now: now,
                    coversSince: coversSince)
                if digest == nil {
                    summary.skipped += 1
                    summary.reasons["nothing new for this reader", default: 0] += 1
                } else {
                    summary.sent += 1
                }
            }
        }
        if let date = options.date, let edition = editions.first {
            var lastID: Int64 = 0
            while true {
                let page = try store.subscribers(status: .active, afterID: lastID, limit: options.batchSize)
                guard let last = page.last?.id else { break }
                lastID = last
                let unpaused = page.filter { !$0.isPaused(on: date) }
                try compose(unpaused, edition, coversSince: nil)
                if !unpaused.isEmpty { summary.readers[edition.kind.rawValue, default: 0] += unpaused.count }
            }
            return
        }
        // Each kind counts the readers it would queue, as a real run's report does (`readers:`), whether or not
        // their message turns out to have nothing new.
        let outcome = try planner.plan(now: now, freeze: false) { assignments in
            var assigned: [EditionKind: Int] = [:]
            let groups = Dictionary(grouping: assignments) { "\($0.edition.date) \($0.edition.kind) \($0.coversSince?.description ?? "")" }
            for group in groups.values {
                let edition = group[0].edition
                try compose(group.map(\.subscriber), edition, coversSince: group[0].coversSince)
                assigned[edition.kind, default: 0] += group.count
            }
            return assigned
        }
        summary.planned(outcome)
    }
}

/// Why a run ended with an error rather than a summary.
public struct DeliveryRunError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    /// The ledger could not be written: sending stopped at once.
    static func ledgerUnwritable(database: String, _ error: any Error) -> DeliveryRunError {
        let cause = (error as? StoreError).map { "\($0.underlying)" } ?? "\(error)"
        return DeliveryRunError(
            message: "cannot write the ledger in database \(database): \(cause). Sending stopped at once; only the "
                + "messages on the wire then (at most one per connection) may be sent again. Fix the cause, then run "
                + "digest send again: it re-queues what was left unrecorded.")
    }
}
