import Foundation
import Logging

/// Sends messages over `transport.connections` connections, each driven by a thread of its own
/// (libcurl blocks; the Swift concurrency pool never runs a send).
///
/// A transient failure discards the connection (the next message opens a fresh one) and puts the
/// message back for another try after an exponential backoff with jitter, up to `retry.maxAttempts`;
/// a permanent failure is reported at once and the other messages carry on. A configuration problem
/// (wrong password, STARTTLS required but missing, an unverifiable certificate) stops the run: every
/// later message would meet it too.
public final class SenderPool: Sendable {
    public let transport: any MailTransport
    public let retry: RetryPolicy
    /// Messages per second across all connections; 0 means no cap.
    public let maxPerSecond: Double
    private let logger: Logger

    public init(
        transport: any MailTransport, retry: RetryPolicy = RetryPolicy(), maxPerSecond: Double = 0, logger: Logger
    ) {
        self.transport = transport
        self.retry = retry
        self.maxPerSecond = maxPerSecond
        self.logger = logger
    }

    /// The pool for `mail`: its transport (Maildir unless `transport` is `smtp`), `smtp.maxAttempts`
    /// tries per message and the `smtp.maxPerSecond` cap.
    public convenience init(
        mail: Configuration.Mail, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws(MailTransportError) {
        let transport = try mail.makeTransport(environment: environment)
        let smtp = mail.transport == .smtp ? mail.smtp : nil
        self.init(
            transport: transport, retry: RetryPolicy(maxAttempts: smtp?.maxAttempts ?? 1),
            maxPerSecond: smtp?.maxPerSecond ?? 0, logger: logger)
    }

    /// What one `run` did.
    public struct Summary: Sendable, Equatable {
        public var sent = 0
        /// Still transient after the last try (the caller marks them deferred).
        public var deferred = 0
        public var failed = 0
        /// Tries beyond the first, over all messages.
        public var retries = 0
        /// Why the run stopped early, when a configuration problem stopped it; messages not yet taken
        /// from `next` were left there.
        public var stoppedBecause: String?

        public init() {}
    }

    /// A message with its final result (after its retries), as `run` hands it over for recording.
    public struct Finished<Job: Sendable>: Sendable {
        public var job: Job
        public var message: MailMessage
        public var result: DeliveryResult
    }

    /// Takes messages from `next` until it returns nil, sends them, and returns once every message
    /// taken has its final result.
    ///
    /// - Parameters:
    ///   - next: the next job and its message, or nil when there are no more. Called from the worker
    ///     threads, one call at a time.
    ///   - record: called with the messages whose final reply came in since its last call (one or more,
    ///     in the order they finished), on the pool's recording thread, one call at a time, so the caller
    ///     can write them in one transaction. A connection may already be sending its next message
    ///     meanwhile, but never past that message's end of data: the server takes no further message on
    ///     a connection before `record` has returned for the previous one, so a crash can leave at most
    ///     one accepted-but-unrecorded message per connection.
    @discardableResult
    public func run<Job: Sendable>(
        next: @escaping @Sendable () -> (Job, MailMessage)?,
        record: @escaping @Sendable ([Finished<Job>]) -> Void
    ) async -> Summary {
        let state = PoolState<Job>(
            next: next, record: record, transport: transport, retry: retry,
            limiter: maxPerSecond > 0 ? SendRateLimiter(perSecond: maxPerSecond) : nil, logger: logger)
        let workers = max(1, transport.connections)
        logger.info(
            "sending", metadata: ["smtp.connections": "\(workers)", "mail.maxPerSecond": "\(maxPerSecond)"])
        let started = Date()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.onFinished = { continuation.resume() }
            state.running = workers
            for index in 0..<workers {
                Thread.start(named: "mail-sender-\(index)") { state.work(worker: index) }
            }
        }
        state.recorder.stop()
        let summary = state.summary
        logger.info(
            "sending finished",
            metadata: [
                "mail.sent": "\(summary.sent)", "mail.deferred": "\(summary.deferred)",
                "mail.failed": "\(summary.failed)", "mail.retries": "\(summary.retries)",
                "mail.seconds": "\(String(format: "%.3f", Date().timeIntervalSince(started)))",
                "mail.stoppedBecause": "\(summary.stoppedBecause ?? "")",
            ])
        return summary
    }

    /// `run` for callers that record one message at a time: `completed` is called for each message,
    /// in the order they finished, on the recording thread.
    @discardableResult
    public func run<Job: Sendable>(
        next: @escaping @Sendable () -> (Job, MailMessage)?,
        completed: @escaping @Sendable (Job, MailMessage, DeliveryResult) -> Void
    ) async -> Summary {
        await run(next: next, record: { batch in for item in batch { completed(item.job, item.message, item.result) } })
    }
}

/// The shared state of one `run`: the queue of retries, the count of messages in flight, and the
/// condition the workers wait on. Every field is guarded by `condition`.
///
/// The workers take new messages through `fetchLock` (only one calls `next` at a time; the others
/// queue on the lock, which wakes exactly one of them) and wait on `condition` only when there is
/// nothing to fetch: for a retry to come due or for the messages in flight to finish.
private final class PoolState<Job: Sendable>: @unchecked Sendable {
    struct Pending {
        var job: Job
        var message: MailMessage
        var attempts: Int
        var last: SendOutcome
        var due: Date
    }

    let next: @Sendable () -> (Job, MailMessage)?
    let transport: any MailTransport
    let retry: RetryPolicy
    let limiter: SendRateLimiter?
    let logger: Logger

    let condition = NSCondition()
    let fetchLock = NSLock()
    private(set) var recorder: Recorder<SenderPool.Finished<Job>>!
    var retries: [Pending] = []
    var exhausted = false
    var inFlight = 0
    var running = 0
    var summary = SenderPool.Summary()
    var onFinished: (() -> Void)?

    init(
        next: @escaping @Sendable () -> (Job, MailMessage)?,
        record: @escaping @Sendable ([SenderPool.Finished<Job>]) -> Void, transport: any MailTransport,
        retry: RetryPolicy, limiter: SendRateLimiter?, logger: Logger
    ) {
        self.next = next
        self.transport = transport
        self.retry = retry
        self.limiter = limiter
        self.logger = logger
        recorder = Recorder { [weak self] batch in
            record(batch)
            self?.settle(batch)
        }
    }

    /// What a worker does next, decided under the lock.
    enum Step {
        case send(Pending)
        case fetch
        case report([Pending])
        case finish
    }

    /// One worker thread: owns one connection for its whole life, replacing it after a transient failure.
    func work(worker: Int) {
        var connection: (any MailConnection)?
        // The recorder's ticket for this worker's last final outcome.
        var recorded = 0
        var logger = self.logger
        logger[metadataKey: "mail.worker"] = "\(worker)"
        loop: while true {
            switch nextStep() {
            case .finish:
                break loop
            case .report(let abandoned):
                for item in abandoned {
                    recorded = recorder.enqueue(
                        SenderPool.Finished(
                            job: item.job, message: item.message,
                            result: DeliveryResult(outcome: item.last, attempts: item.attempts)))
                }
            case .fetch:
                guard let item = fetch() else { continue }
                attempt(
                    Pending(job: item.0, message: item.1, attempts: 0, last: .transient(reason: ""), due: Date()),
                    connection: &connection, recorded: &recorded, logger: logger)
            case .send(let item):
                attempt(item, connection: &connection, recorded: &recorded, logger: logger)
            }
        }
        connection = nil  // QUIT and close before the run counts as finished
        condition.lock()
        running -= 1
        let last = running == 0
        condition.broadcast()
        condition.unlock()
        if last { onFinished?() }
    }

    /// The next new message, counted in flight; nil when `next` has none left (or another worker
    /// found that out first, or the run was stopped meanwhile).
    private func fetch() -> (Job, MailMessage)? {
        fetchLock.lock()
        defer { fetchLock.unlock() }
        condition.lock()
        let skip = exhausted || summary.stoppedBecause != nil
        condition.unlock()
        if skip { return nil }
        let item = next()
        condition.lock()
        if item != nil {
            inFlight += 1
        } else {
            exhausted = true
            condition.broadcast()
        }
        condition.unlock()
        return item
    }

    private func nextStep() -> Step {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if summary.stoppedBecause != nil {
                if !retries.isEmpty {
                    let abandoned = retries
                    retries = []
                    inFlight += abandoned.count
                    return .report(abandoned)
                }
                return .finish
            }
            let now = Date()
            if let index = retries.indices.min(by: { retries[$0].due < retries[$1].due }) {
                if retries[index].due <= now {
                    inFlight += 1
                    return .send(retries.remove(at: index))
                }
            }
            if !exhausted { return .fetch }
            if retries.isEmpty && inFlight == 0 { return .finish }
            if let earliest = retries.map(\.due).min() {
                _ = condition.wait(until: earliest)
            } else {
                condition.wait()
            }
        }
    }

    /// Sends one try of `item` and either reports it or queues it for another try.
    private func attempt(
        _ item: Pending, connection: inout (any MailConnection)?, recorded: inout Int, logger: Logger
    ) {
        var item = item
        item.attempts += 1
        limiter?.acquire()
        var problem: String?
        let outcome: SendOutcome
        do {
            if connection == nil { connection = try transport.makeConnection() }
            // Before this message's end of data, the previous outcome of this connection must be recorded.
            let previous = recorded
            outcome = connection!.send(item.message, beforeEnd: { [recorder] in recorder.wait(for: previous) })
            problem = connection!.configurationProblem
            if problem != nil || !connection!.isUsable { connection = nil }
        } catch {
            outcome = .transient(reason: "\(error)")
            connection = nil
        }
        item.last = outcome
        // Built only when a message is logged: the loggers take it as an autoclosure, and at the usual
        // level nothing is logged for a message that was sent.
        let attempts = item.attempts
        var metadata: Logger.Metadata {
            [
                "mail.messageID": "\(item.message.messageID)", "mail.attempt": "\(attempts)",
                "mail.reply": "\(outcome.text)",
            ]
        }
        if case .transient = outcome, problem == nil, item.attempts < retry.maxAttempts {
            let delay = retry.delay(afterAttempt: item.attempts)
            item.due = Date().addingTimeInterval(delay)
            var retryMetadata = metadata
            retryMetadata["mail.retryInSeconds"] = "\(String(format: "%.3f", delay))"
            logger.info("transient failure, will retry on a fresh connection", metadata: retryMetadata)
            condition.lock()
            summary.retries += 1
            retries.append(item)
            inFlight -= 1
            condition.broadcast()
            condition.unlock()
            return
        }
        switch outcome {
        case .sent: logger.debug("sent", metadata: metadata)
        case .transient: logger.info("deferred after the last try", metadata: metadata)
        case .permanent: logger.info("refused", metadata: metadata)
        }
        if let problem {
            logger.info("stopping: configuration problem", metadata: ["mail.problem": "\(problem)"])
            condition.lock()
            if summary.stoppedBecause == nil { summary.stoppedBecause = problem }
            condition.broadcast()
            condition.unlock()
        }
        recorded = recorder.enqueue(
            SenderPool.Finished(
                job: item.job, message: item.message,
                result: DeliveryResult(outcome: outcome, attempts: item.attempts, isConfigurationFailure: problem != nil)))
    }

    /// Counts recorded messages; the last one lets the workers waiting to finish go.
    private func settle(_ batch: [SenderPool.Finished<Job>]) {
        condition.lock()
        for item in batch {
            switch item.result.outcome {
            case .sent: summary.sent += 1
            case .transient: summary.deferred += 1
            case .permanent: if item.result.isConfigurationFailure { summary.deferred += 1 } else { summary.failed += 1 }
            }
        }
        inFlight -= batch.count
        if inFlight == 0 || summary.stoppedBecause != nil { condition.broadcast() }
        condition.unlock()
    }
}

/// Hands the pool's finished messages to `flush` on a thread of its own, everything that finished
/// since the last call at once (one transaction for the caller), so a connection can start its next
/// message while the last outcome is being recorded. `wait(for:)` is the connection's barrier before
/// that next message's end of data.
private final class Recorder<Entry>: @unchecked Sendable {
    // Every field is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Entry] = []
    private var enqueued = 0
    private var finished = 0
    private var stopping = false
    private var ended = false
    private let flush: ([Entry]) -> Void

    init(flush: @escaping ([Entry]) -> Void) {
        self.flush = flush
        Thread.start(named: "mail-recorder", background: true) { [self] in work() }
    }

    /// Queues `entry`; returns its ticket for `wait(for:)`.
    func enqueue(_ entry: Entry) -> Int {
        condition.lock()
        defer { condition.unlock() }
        queue.append(entry)
        enqueued += 1
        condition.broadcast()
        return enqueued
    }

    /// Waits until the entry with `ticket` (and all before it) has been flushed; 0 returns at once.
    func wait(for ticket: Int) {
        condition.lock()
        while finished < ticket { condition.wait() }
        condition.unlock()
    }

    /// Flushes what is queued, ends the thread and returns once it has ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !ended { condition.wait() }
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                ended = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            condition.unlock()
            flush(batch)
            condition.lock()
            finished += batch.count
            condition.broadcast()
            condition.unlock()
        }
    }
}
