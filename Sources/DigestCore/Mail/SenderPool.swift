import Foundation
import Logging
import Synchronization

/// Sends messages over `transport.connections` connections, each driven by a thread of its own
/// (libcurl blocks; the Swift concurrency pool never runs a send).
///
/// Every decision (retry and backoff, the circuit breaker, relay-wide refusals, stopping) is made by
/// `StateMachine`; the threads here only carry its steps out: fetch, send, hand over to the recorder, wait.
public final class SenderPool: Sendable {
    public let transport: any MailTransport
    public let retry: RetryPolicy
    /// Messages per second across all connections; 0 means no cap.
    public let maxPerSecond: Double
    /// The same permanent reply for this many different readers in a row is taken as the relay's.
    public let relayWideRefusals: Int
    private let logger: Logger

    public init(
        transport: any MailTransport, retry: RetryPolicy = RetryPolicy(), maxPerSecond: Double = 0,
        relayWideRefusals: Int = 5, logger: Logger
    ) {
        self.transport = transport
        self.retry = retry
        self.maxPerSecond = maxPerSecond
        self.relayWideRefusals = max(2, relayWideRefusals)
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
        /// Why the run stopped early; messages not yet taken from `next` were left there.
        public var stoppedBecause: String?
        public var stopKind: StopReason.Kind?

        public init() {}
    }

    /// A message with its final result (after its retries), as `run` hands it over for recording.
    public struct Finished<Job: Sendable>: Sendable {
        public var job: Job
        public var message: MailMessage
        public var result: DeliveryResult
    }

    /// Stops a `run` from outside (a signal, a lost lock); safe from any thread, before or during the run.
    public final class Control: Sendable {
        private let state = Mutex<(reason: StopReason?, handler: (@Sendable (StopReason) -> Void)?)>((nil, nil))

        public init() {}

        /// Stops the run (or the next one to start). A second, immediate reason makes the stop immediate.
        public func stop(_ reason: StopReason) {
            let handler = state.withLock { state -> (@Sendable (StopReason) -> Void)? in
                if state.reason == nil || (reason.isImmediate && state.reason?.isImmediate == false) {
                    state.reason = reason
                }
                return state.handler
            }
            handler?(reason)
        }

        /// The first reason given, if any.
        public var reason: StopReason? { state.withLock { $0.reason } }

        fileprivate func attach(_ handler: @escaping @Sendable (StopReason) -> Void) {
            let pending = state.withLock { state in
                state.handler = handler
                return state.reason
            }
            if let pending { handler(pending) }
        }
    }

    /// Where `run` hands final results: `enqueue` returns a ticket, and `waitUntilRecorded(ticket)` (the
    /// barrier before a connection's next end of data) returns once that result is durable, or false
    /// when it never will be (then nothing more is sent).
    struct Recording<Job: Sendable>: Sendable {
        var enqueue: @Sendable ([Finished<Job>]) -> Int
        var waitUntilRecorded: @Sendable (Int) -> Bool
    }

    /// Takes messages from `next` until it returns nil, sends them, and returns once every message
    /// taken has its final result.
    ///
    /// - Parameters:
    ///   - next: the next job and its message, or nil when there are no more. Called from the worker
    ///     threads, one call at a time.
    ///   - record: called with the messages whose final reply came in since its last call (one or more,
    ///     in the order they finished), on the pool's recording thread, one call at a time, so the caller
    ///     can write them in one transaction. The server takes no further message on a connection before
    ///     `record` has returned for the previous one, so a crash can leave at most one
    ///     accepted-but-unrecorded message per connection. When `record` throws, sending stops at once.
    ///   - control: stops the run from outside.
    @discardableResult
    public func run<Job: Sendable>(
        next: @escaping @Sendable () -> (Job, MailMessage)?,
        record: @escaping @Sendable ([Finished<Job>]) throws -> Void,
        control: Control = Control()
    ) async -> Summary {
        let recorder = GroupCommitRecorder<Finished<Job>>(
            named: "mail-recorder", write: record,
            failed: { error in
                control.stop(StopReason(.ledgerUnwritable, "cannot record a delivery: \(error)", immediate: true))
            })
        let summary = await run(
            next: next,
            recording: Recording(enqueue: { recorder.enqueue($0) }, waitUntilRecorded: { recorder.waitUntilRecorded($0) }),
            control: control)
        recorder.stop()
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

    /// The core of `run`: `recording` owns durability; `mayCommit` is asked before each end of data (the
    /// run lock's check) and stops the run with the reason it returns.
    func run<Job: Sendable>(
        next: @escaping @Sendable () -> (Job, MailMessage)?, recording: Recording<Job>, control: Control,
        mayCommit: @escaping @Sendable () -> StopReason? = { nil }
    ) async -> Summary {
        let workers = max(1, transport.connections)
        let machine = StateMachine<Job>.Settings(retry: retry, connections: workers, relayWideRefusals: relayWideRefusals)
        let state = PoolThreads(
            machine: machine, next: next, recording: recording, mayCommit: mayCommit, transport: transport,
            limiter: maxPerSecond > 0 ? SendRateLimiter(perSecond: maxPerSecond) : nil, logger: logger)
        logger.info("sending", metadata: ["smtp.connections": "\(workers)", "mail.maxPerSecond": "\(maxPerSecond)"])
        let started = Date()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.start(workers: workers, control: control) { continuation.resume() }
        }
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
}

/// The threads of one `run`, carrying out the state machine's steps. The machine is guarded by
/// `condition`; only one worker calls `next` at a time (`fetchLock`).
private final class PoolThreads<Job: Sendable>: @unchecked Sendable {
    typealias Machine = SenderPool.StateMachine<Job>

    private let condition = NSCondition()
    private let fetchLock = NSLock()
    private var machine: Machine
    private var running = 0
    private var onFinished: (() -> Void)?

    private let next: @Sendable () -> (Job, MailMessage)?
    private let recording: SenderPool.Recording<Job>
    private let mayCommit: @Sendable () -> SenderPool.StopReason?
    private let transport: any MailTransport
    private let limiter: SendRateLimiter?
    private let logger: Logger

    /// After an immediate stop the run returns this long after it, even if a connection is still stuck in
    /// a transfer (a silent relay): what that transfer ends with is no longer recorded.
    static var abandonAfter: Double { 1 }

    init(
        machine: Machine.Settings, next: @escaping @Sendable () -> (Job, MailMessage)?,
        recording: SenderPool.Recording<Job>, mayCommit: @escaping @Sendable () -> SenderPool.StopReason?,
        transport: any MailTransport, limiter: SendRateLimiter?, logger: Logger
    ) {
        self.machine = Machine(settings: machine)
        self.next = next
        self.recording = recording
        self.mayCommit = mayCommit
        self.transport = transport
        self.limiter = limiter
        self.logger = logger
    }

    var summary: SenderPool.Summary {
        condition.lock()
        defer { condition.unlock() }
        return machine.summary
    }

    func start(workers: Int, control: SenderPool.Control, finished: @escaping () -> Void) {
        condition.lock()
        running = workers
        onFinished = finished
        condition.unlock()
        control.attach { [self] reason in stop(reason) }
        for index in 0..<workers {
            Thread.start(named: "mail-sender-\(index)") { [self] in work(worker: index) }
        }
    }

    func stop(_ reason: SenderPool.StopReason) {
        condition.lock()
        let wasImmediate = machine.stopped?.isImmediate == true
        machine.stop(reason)
        // Only the stop that makes the run immediate starts the clock (several workers may report one).
        let becameImmediate = !wasImmediate && machine.stopped?.isImmediate == true
        condition.broadcast()
        condition.unlock()
        logger.notice("stopping", metadata: ["mail.stopReason": "\(reason.kind)", "mail.stopMessage": "\(reason.message)"])
        guard becameImmediate else { return }
        Thread.start(named: "mail-abandon") { [self] in
            Thread.sleep(forTimeInterval: Self.abandonAfter)
            finish()
        }
    }

    /// Resumes the caller of `run`, once.
    private func finish() {
        condition.lock()
        let done = onFinished
        onFinished = nil
        condition.unlock()
        done?()
    }

    /// One worker thread: owns one connection for its whole life, replacing it after a failure.
    private func work(worker: Int) {
        var connection: (any MailConnection)?
        // The recorder's ticket for this worker's last final outcome.
        var ticket = 0
        var logger = self.logger
        logger[metadataKey: "mail.worker"] = "\(worker)"
        loop: while true {
            condition.lock()
            var step = machine.nextStep(now: Date())
            while case .wait(let until) = step {
                if let until { _ = condition.wait(until: until) } else { condition.wait() }
                step = machine.nextStep(now: Date())
            }
            condition.unlock()
            switch step {
            case .wait:
                continue loop
            case .finish:
                break loop
            case .record(let results):
                hand(results, ticket: &ticket)
            case .fetch:
                guard let item = fetch() else { continue }
                attempt(
                    Machine.Pending(job: item.0, message: item.1, attempts: 0, last: .transient(reason: ""), due: Date()),
                    connection: &connection, ticket: &ticket, logger: logger)
            case .send(let item):
                attempt(item, connection: &connection, ticket: &ticket, logger: logger)
            }
        }
        connection = nil  // QUIT and close before the run counts as finished
        condition.lock()
        running -= 1
        let last = running == 0
        condition.broadcast()
        condition.unlock()
        if last { finish() }
    }

    /// The next new message; nil when `next` has none left or the run stopped meanwhile.
    private func fetch() -> (Job, MailMessage)? {
        fetchLock.lock()
        defer { fetchLock.unlock() }
        condition.lock()
        let skip = machine.stopped != nil || machine.exhausted
        condition.unlock()
        let item = skip ? nil : next()
        condition.lock()
        if !skip { machine.fetched(item != nil) }
        condition.broadcast()
        condition.unlock()
        return item
    }

    private func hand(_ results: [SenderPool.Finished<Job>], ticket: inout Int) {
        guard !results.isEmpty else { return }
        condition.lock()
        machine.recorded(results)
        condition.broadcast()
        condition.unlock()
        ticket = recording.enqueue(results)
    }

    /// Sends one try of `item`; the machine decides what follows.
    private func attempt(
        _ item: Machine.Pending, connection: inout (any MailConnection)?, ticket: inout Int, logger: Logger
    ) {
        var item = item
        item.attempts += 1
        limiter?.acquire()
        var problem: String?
        let outcome: SendOutcome
        do {
            if connection == nil { connection = try transport.makeConnection() }
            // Before this message's end of data: the previous outcome of this connection is recorded, the
            // run may still send (lock held, ledger writable, no immediate stop).
            let previous = ticket
            outcome = connection!.send(item.message, beforeEnd: { [self] in mayEnd(after: previous) })
            problem = connection!.configurationProblem
            if problem != nil || !connection!.isUsable { connection = nil }
        } catch {
            outcome = .transient(reason: "\(error)")
            connection = nil
        }
        condition.lock()
        let results = machine.attemptEnded(item, outcome: outcome, configurationProblem: problem, now: Date())
        condition.broadcast()
        condition.unlock()
        // Built only when a message is logged: at the usual level nothing is logged for a sent message.
        var metadata: Logger.Metadata {
            ["mail.messageID": "\(item.message.messageID)", "mail.attempt": "\(item.attempts)", "mail.reply": "\(outcome.text)"]
        }
        switch outcome {
        case .sent: logger.debug("sent", metadata: metadata)
        case .transient: logger.info("transient failure", metadata: metadata)
        case .permanent: logger.info("refused", metadata: metadata)
        }
        hand(results, ticket: &ticket)
    }

    /// The barrier before a message's end of data.
    private func mayEnd(after previous: Int) -> Bool {
        guard recording.waitUntilRecorded(previous) else { return false }
        if let reason = mayCommit() {
            stop(reason)
            return false
        }
        condition.lock()
        defer { condition.unlock() }
        return machine.mayCommit
    }
}
