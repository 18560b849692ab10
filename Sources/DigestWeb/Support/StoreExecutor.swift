import DigestCore
import Logging
import NIOPosix
import Synchronization

/// Runs the store's blocking calls on threads of their own, so that a slow or stalled database never
/// holds one of Swift concurrency's cooperative threads (two on a two-core machine serve every request,
/// including the pages that need no database).
///
/// Each call has a deadline. Past it the awaiting handler gets `StoreUnavailable` (a 503 page with
/// `Retry-After`) and goes on; what happens to the call itself depends on where it was:
/// - still waiting for a thread: it never starts, so it changes nothing;
/// - already running: it runs to its end on its thread, and its result is dropped. A write commits or
///   rolls back as a whole, and every write a page makes is idempotent on retry (a sign-up sent again
///   with the same form is recognised), so the reader who retries learns which it was.
///
/// At most `capacity` calls wait or run at once (a stalled database fills the threads, then the queue);
/// one more is refused at once instead of queueing behind calls that are bound to time out. The threads
/// end when the executor is released.
final class StoreExecutor: Sendable {
    let store: Store
    /// How long a request's store call may take (`web.databaseTimeoutSeconds`).
    let timeout: Duration
    private let threads: NIOThreadPool
    private let capacity: Int
    private let pending = CallCount()
    private let logger: Logger

    /// Starts `threads` threads.
    init(store: Store, threads: Int = 8, capacity: Int = 64, timeout: Duration, logger: Logger) {
        self.store = store
        self.timeout = timeout
        self.capacity = capacity
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: threads)
        self.threads.start()
    }

    deinit {
        // Calls still running finish on their threads first; nobody waits for them any more.
        threads.shutdownGracefully { _ in }
    }

    /// Calls waiting for a thread or running now.
    var pendingCalls: Int { pending.value }

    /// Runs `body` with the store on one of the executor's threads and returns its result; throws
    /// `StoreUnavailable` when it took longer than `timeout` (the executor's when nil), too many calls
    /// are already waiting, or the database is away (`Store.isUnavailable`), and what `body` throws
    /// otherwise.
    func run<T: Sendable>(
        timeout: Duration? = nil, _ body: @escaping @Sendable (Store) throws -> T
    ) async throws -> T {
        let limit = timeout ?? self.timeout
        guard pending.enter(capacity: capacity) else {
            logger.warning("database call refused: too many waiting", metadata: ["database.pending": "\(capacity)"])
            throw StoreUnavailable(reason: .busy)
        }
        let call = PendingStoreCall<T>()
        let logger = logger
        let timer = Task {
            do { try await Task.sleep(for: limit) } catch { return }
            if call.expire(limit) {
                logger.warning("database call timed out", metadata: ["database.timeout": "\(limit)"])
            }
        }
        defer { timer.cancel() }
        let (store, pending) = (store, pending)
        return try await withCheckedThrowingContinuation { continuation in
            guard call.wait(continuation) else {
                pending.leave()
                return
            }
            threads.submit { state in
                defer { pending.leave() }
                // A pool shutting down runs what is queued as `.cancelled`: nothing starts then, and the
                // deadline answers the caller.
                guard case .active = state, call.start() else { return }
                call.finish(
                    Result(catching: { try body(store) }).mapError { error in
                        guard store.isUnavailable(error) else { return error }
                        logger.warning("database unavailable", metadata: ["error": "\(error)"])
                        return StoreUnavailable(reason: .away("\(error)"))
                    })
            }
        }
    }
}

/// How many calls wait or run, shared with the threads that end them.
private final class CallCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    /// Counts one more call; false (and not counted) when `capacity` are already pending.
    func enter(capacity: Int) -> Bool {
        if count.wrappingAdd(1, ordering: .relaxed).newValue <= capacity { return true }
        count.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// A store call that did not answer in time, or that was refused because too many were waiting.
struct StoreUnavailable: Error, CustomStringConvertible {
    enum Reason: Equatable {
        case timedOut(Duration)
        case busy
        /// The database answered that it is away (unreachable, connection lost, locked elsewhere).
        case away(String)
    }
    var reason: Reason

    var description: String {
        switch reason {
        case .timedOut(let limit): "the database did not answer within \(limit)"
        case .busy: "too many requests are waiting for the database"
        // The cause (a host name, a user) is logged where it happens, not shown on a public page.
        case .away: "the database is unavailable"
        }
    }
}

/// One call's continuation, resumed exactly once by whichever comes first: the call's end or its
/// deadline. The rules live in `State`; this only holds it under a lock and resumes what it says.
final class PendingStoreCall<T: Sendable>: Sendable {
    private let state = Mutex(State<CheckedContinuation<T, any Error>>())

    /// Hands over the awaiting continuation; false (and the continuation resumed with the timeout) when
    /// the deadline came first, so nothing is to be submitted.
    func wait(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        switch state.withLock({ $0.wait(continuation) }) {
        case .submit: return true
        case .fail(let limit):
            continuation.resume(throwing: StoreUnavailable(reason: .timedOut(limit)))
            return false
        }
    }

    /// On the thread, before the body: false when the deadline passed while the call waited for it.
    func start() -> Bool { state.withLock { $0.start() } }

    func finish(_ result: Result<T, any Error>) {
        state.withLock { $0.finish() }?.resume(with: result)
    }

    /// True when the awaiting side was still waiting, and is now told the call timed out.
    @discardableResult
    func expire(_ limit: Duration) -> Bool {
        guard let continuation = state.withLock({ $0.expire(limit) }) else { return false }
        continuation.resume(throwing: StoreUnavailable(reason: .timedOut(limit)))
        return true
    }

    /// Where a call is, and what each event leads to. No I/O, no waiting: the transitions return the
    /// continuation to resume, if any.
    struct State<Continuation> {
        enum Phase {
            /// Made, its continuation not yet handed over.
            case created
            case waiting(Continuation)
            case running(Continuation)
            /// The awaiting side has been answered (result or timeout); nothing more is resumed.
            case answered
            /// The deadline came before the continuation did.
            case expiredEarly(Duration)
        }
        enum WaitAction: Equatable {
            case submit
            case fail(Duration)
        }
        private(set) var phase = Phase.created
        /// Whether the body ran, or is running.
        private(set) var started = false

        mutating func wait(_ continuation: Continuation) -> WaitAction {
            switch phase {
            case .created:
                phase = .waiting(continuation)
                return .submit
            case .expiredEarly(let limit):
                phase = .answered
                return .fail(limit)
            case .waiting, .running, .answered:
                preconditionFailure("a store call's continuation is handed over once")
            }
        }

        mutating func start() -> Bool {
            guard case .waiting(let continuation) = phase else { return false }
            phase = .running(continuation)
            started = true
            return true
        }

        mutating func finish() -> Continuation? {
            guard case .running(let continuation) = phase else { return nil }
            phase = .answered
            return continuation
        }

        mutating func expire(_ limit: Duration) -> Continuation? {
            switch phase {
            case .created:
                phase = .expiredEarly(limit)
                return nil
            case .waiting(let continuation), .running(let continuation):
                phase = .answered
                return continuation
            case .answered, .expiredEarly:
                return nil
            }
        }
    }
}
