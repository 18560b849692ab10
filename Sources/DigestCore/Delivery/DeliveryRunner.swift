import Foundation
import Logging
import Synchronization

/// The nightly run (`digest send`): lock, recover, freeze, queue, send, record, report.
///
/// Safe to run every hour, twice at once, or after a kill: the run lock keeps one sender, the
/// ledger's UNIQUE (edition, subscriber) keeps one delivery per reader and edition, each outcome
/// is written right after the server's reply, and rows a dead run left `sending` go back to the
/// queue (only those can be sent twice: at most one per connection).
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

    public static let lockName = "send"
    static let lease: TimeInterval = 60

    public init(store: Store, composer: DigestComposer, pool: SenderPool, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.composer = composer
        self.pool = pool
        self.logger = logger
        self.clock = clock
        schedule = DeliverySchedule(ranker: composer.ranker)
    }

    /// Runs once. `progress` sees the counts as they change (for a progress bar or log lines).
    public func run(_ options: Options, progress: (@Sendable (RunSummary) -> Void)? = nil) async throws -> RunSummary {
        let started = clock()
        let owner = UUID().uuidString
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        while let holder = try store.acquireLock(
            Self.lockName, owner: owner, pid: pid, host: host, lease: Self.lease, now: clock(), isAlive: Self.isAlive)
        {
            guard options.wait else {
                var summary = RunSummary()
                summary.note = "another digest send is running (\(holder)); nothing to do (use --wait to wait for it)"
                return summary
            }
            logger.notice("waiting for the run lock", metadata: ["lock.holder": "\(holder)"])
            try await Task.sleep(for: .seconds(1))
        }
        let renewal = Task.detached { [store, logger] in
            while true {
                do { try await Task.sleep(for: .seconds(Self.lease / 3)) } catch { return }  // cancelled: run over
                if (try? store.renewLock(Self.lockName, owner: owner, lease: Self.lease, now: Date())) == false {
                    logger.error("lost the run lock")
                }
            }
        }
        defer {
            renewal.cancel()
            try? store.releaseLock(Self.lockName, owner: owner)
        }
        let runID = options.dryRun ? nil : try store.startRun(command: options.date.map { "send --date \($0)" } ?? "send", now: started)
        var summary = RunSummary()
        summary.dryRun = options.dryRun
        do {
            try await send(options, owner: owner, summary: &summary, progress: progress)
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

    private func send(
        _ options: Options, owner: String, summary: inout RunSummary, progress: (@Sendable (RunSummary) -> Void)?
    ) async throws {
        let now = clock()
        if !options.dryRun {
            summary.recovered = try store.requeueAbandoned(now: now)
            if summary.recovered > 0 {
                logger.notice("re-queued deliveries of an interrupted run", metadata: ["deliveries": "\(summary.recovered)"])
            }
        }
        let editions = try plan(options, now: now, summary: &summary)
        if options.dryRun {
            try dryRun(editions: editions, options: options, now: now, summary: &summary)
            return
        }
        let expiry = Day(now, in: composer.ranker.timeZone).adding(days: -options.giveUpAfterDays)
        let expired = try store.expireDeferred(before: expiry, now: now)
        if expired > 0 { summary.failed += expired; summary.reasons["gave up after retrying for days", default: 0] += expired }

        let state = RunState(summary: summary, progress: progress)
        let editionsByID = Mutex<[Int64: Edition]>(Dictionary(uniqueKeysWithValues: editions.map { ($0.id!, $0) }))
        let edition: @Sendable (Int64) throws -> Edition? = { [store] id in
            try editionsByID.withLock { cache -> Edition? in
                if let edition = cache[id] { return edition }
                let edition = try store.edition(id: id)
                cache[id] = edition
                return edition
            }
        }
        let skipWhenEmpty = composer.configuration.digest.skipWhenEmpty
        // What the readers of the current batch already received, by delivery id: one query per
        // claimed batch and edition instead of one per message.
        let receivedByDelivery = Mutex<[Int64: Set<Int64>]>([:])
        let unrecorded = UnrecordedReaders()
        let bouncedThisRun = Mutex<Set<Int64>>([])
        let feed = ClaimFeed(
            store: store, run: owner, batchSize: options.batchSize, clock: clock,
            batchClaimed: { [store, composer, logger] batch in
                var received: [Int64: Set<Int64>] = [:]
                for (editionID, rows) in Dictionary(grouping: batch, by: \.editionID) {
                    do {
                        guard let edition = try edition(editionID) else { continue }
                        let found = try store.receivedItemIDs(
                            subscriberIDs: rows.compactMap(\.subscriber.id), before: edition.date,
                            since: composer.ranker.lookbackStart(for: edition.date))
                        for row in rows { received[row.id] = row.subscriber.id.flatMap { found[$0] } ?? [] }
                    } catch {
                        // Each reader of the batch is then looked up on its own when composed.
                        logger.warning(
                            "cannot load what a batch of readers already received", metadata: ["error": "\(error)"])
                    }
                }
                receivedByDelivery.withLock { $0 = received }
            })

        // Claiming and composing run on a thread of their own, a few messages ahead of the senders.
        let ahead = ComposeAhead<(DeliveryJob, MailMessage)>(capacity: 2 * max(1, pool.transport.connections)) {
            [store, composer, logger, clock] in
            // Compose the next message; rows that need no message are settled here.
            while let claimed = feed.next() {
                do {
                    guard let edition = try edition(claimed.editionID) else {
                        throw SubscriberError("edition \(claimed.editionID) is missing")
                    }
                    let subscriber = claimed.subscriber
                    guard subscriber.status == .active else {
                        try store.skipDelivery(id: claimed.id, reason: "reader is \(subscriber.status.rawValue)", now: clock())
                        state.record(.skipped, reason: "reader no longer active")
                        continue
                    }
                    var prefetched = receivedByDelivery.withLock { $0.removeValue(forKey: claimed.id) }
                    if unrecorded.isPending(subscriber.id!) {
                        // Another message to this reader is on its way: wait for its outcome, then ask again.
                        unrecorded.waitUntilRecorded(subscriber.id!)
                        prefetched = nil
                    }
                    let received = try prefetched ?? store.receivedItemIDs(
                        subscriberID: subscriber.id!, before: edition.date,
                        since: composer.ranker.lookbackStart(for: edition.date))
                    let selection = composer.selection(for: subscriber, in: edition, alreadyReceived: received)
                    if selection.isEmpty && skipWhenEmpty {
                        try store.skipDelivery(id: claimed.id, reason: "nothing new for this reader", now: clock())
                        state.record(.skipped, reason: "nothing new for this reader")
                        continue
                    }
                    let digest = try composer.compose(
                        selection: selection, date: edition.date, subscriber: subscriber, now: clock())
                    unrecorded.composed(subscriber.id!)
                    return (DeliveryJob(claimed: claimed, itemIDs: digest.itemIDs), digest.message)
                } catch {
                    // A reader whose message cannot be built is recorded and skipped; the run goes on.
                    logger.error("cannot build a digest", metadata: ["subscriber.id": "\(claimed.subscriber.id ?? 0)", "error": "\(error)"])
                    try? store.recordDelivery(
                        id: claimed.id, subscriberID: claimed.subscriber.id!, outcome: .permanent(reason: "cannot build: \(error)"),
                        attempts: 0, messageID: "", itemIDs: [], retryAt: nil, bounceLimit: nil, now: clock())
                    state.record(.failed, reason: "cannot build the message")
                }
            }
            return nil
        }

        let poolSummary = await pool.run(
            next: { ahead.next() },
            record: { [store, logger, clock] batch in
                let now = clock()
                var outcomes = batch.map { finished in
                    let (claimed, result) = (finished.job.claimed, finished.result)
                    var outcome = result.outcome
                    if result.isConfigurationFailure, case .permanent(let reason) = outcome {
                        // The server refused our setup, not this reader: keep the message for a later run.
                        outcome = .transient(reason: reason)
                    }
                    return DeliveryOutcome(
                        id: claimed.id, subscriberID: claimed.subscriber.id!, outcome: outcome,
                        attempts: result.attempts, messageID: finished.message.messageID, itemIDs: finished.job.itemIDs,
                        retryAt: now.addingTimeInterval(options.deferBase * pow(2, Double(min(claimed.attempts, 6)))),
                        bounceLimit: result.isConfigurationFailure ? nil : options.bounceLimit)
                }
                // Readers claimed without bounces and not bounced since by this run have no count to reset.
                for index in outcomes.indices {
                    let outcome = outcomes[index]
                    if case .permanent = outcome.outcome, outcome.bounceLimit != nil {
                        bouncedThisRun.withLock { _ = $0.insert(outcome.subscriberID) }
                    } else if batch[index].job.claimed.subscriber.bounceCount == 0 {
                        outcomes[index].noBouncesToReset = !bouncedThisRun.withLock { $0.contains(outcome.subscriberID) }
                    }
                }
                do {
                    try store.recordDeliveries(outcomes, now: now)
                } catch {
                    for outcome in outcomes {
                        logger.critical(
                            "cannot record a delivery", metadata: ["delivery.id": "\(outcome.id)", "error": "\(error)"])
                    }
                }
                for outcome in outcomes {
                    // A later message to this reader may be composed now.
                    unrecorded.recorded(outcome.subscriberID)
                    switch outcome.outcome {
                    case .sent: state.record(.sent, reason: nil)
                    case .transient(let reason): state.record(.deferred, reason: Self.reasonClass(reason))
                    case .permanent(let reason): state.record(.failed, reason: Self.reasonClass(reason))
                    }
                }
            })
        // The composer may be waiting for an outcome that a stopped pool will never record.
        unrecorded.cancel()
        ahead.stop()
        summary = state.summary
        if let stopped = poolSummary.stoppedBecause {
            summary.note = "sending stopped: \(stopped)"
            // What the pool never took stays claimed by this run: deferred, with the reason.
            let now = clock()
            let left = try store.deferClaimed(
                run: owner, reason: stopped, retryAt: now.addingTimeInterval(options.deferBase), now: now)
            summary.deferred += left
            if left > 0 { summary.reasons[Self.reasonClass(stopped), default: 0] += left }
        }
        if let error = feed.error { throw error }
    }

    /// Freezes the editions due now and queues their deliveries.
    private func plan(_ options: Options, now: Date, summary: inout RunSummary) throws -> [Edition] {
        let ranker = composer.ranker
        var editions: [Day: Edition] = [:]
        func edition(_ date: Day) throws -> Edition {
            if let edition = editions[date] { return edition }
            let edition = try ranker.edition(for: date, store: store, freeze: !options.dryRun, now: now)
            editions[date] = edition
            return edition
        }
        if let date = options.date {
            let frozen = try edition(date)
            if !options.dryRun {
                summary.queued += try store.queueDeliveries(editionID: frozen.id!, date: date, zone: nil, now: now)
            }
        } else {
            let siteZone = ranker.timeZone.identifier
            let sendHour = ranker.digest.sendHour
            for group in try store.activeDeliveryGroups(siteZone: siteZone, sendHour: sendHour) {
                guard let zone = TimeZone(identifier: group.timeZone),
                    let date = schedule.dueEdition(at: now, timeZone: zone, hour: group.hour)
                else { continue }
                let frozen = try edition(date)
                if !options.dryRun {
                    summary.queued += try store.queueDeliveries(
                        editionID: frozen.id!, date: date,
                        zone: (group.timeZone, group.hour, siteZone, sendHour), now: now)
                }
            }
        }
        summary.editions = editions.keys.sorted().map(\.description)
        return editions.values.sorted { $0.date < $1.date }
    }

    /// Counts who would get what, rendering every message, without sending or writing.
    private func dryRun(editions: [Edition], options: Options, now: Date, summary: inout RunSummary) throws {
        for edition in editions {
            var lastID: Int64 = 0
            while true {
                let page = try store.subscribers(status: .active, afterID: lastID, limit: options.batchSize)
                guard let last = page.last?.id else { break }
                lastID = last
                for subscriber in page {
                    if options.date == nil {
                        let zone = TimeZone(identifier: subscriber.timeZone ?? "") ?? composer.ranker.timeZone
                        let hour = subscriber.deliveryHour ?? composer.ranker.digest.sendHour
                        guard schedule.dueEdition(at: now, timeZone: zone, hour: hour) == edition.date else { continue }
                    }
                    let received = try store.receivedItemIDs(
                        subscriberID: subscriber.id!, before: edition.date,
                        since: composer.ranker.lookbackStart(for: edition.date))
                    let selection = composer.selection(for: subscriber, in: edition, alreadyReceived: received)
                    if selection.isEmpty && composer.configuration.digest.skipWhenEmpty {
                        summary.skipped += 1
                        summary.reasons["nothing new for this reader", default: 0] += 1
                    } else {
                        _ = try composer.compose(selection: selection, date: edition.date, subscriber: subscriber, now: now)
                        summary.sent += 1
                    }
                }
            }
        }
    }

    /// Reasons grouped for the summary: the reply without the addresses and queue ids that make
    /// each one unique ("550 5.1.1 <a@b.example>: Recipient address rejected" → "550 5.1.1 <…>: …").
    static func reasonClass(_ reason: String) -> String {
        var text = reason.replacingOccurrences(of: "<[^>]*>", with: "<…>", options: .regularExpression)
        text = text.replacingOccurrences(of: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", with: "…", options: .regularExpression)
        return String(text.prefix(100))
    }

    static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

/// What the pool carries with each message: the ledger row and the items it holds.
struct DeliveryJob: Sendable {
    var claimed: ClaimedDelivery
    var itemIDs: [Int64]
}
