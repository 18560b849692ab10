import DigestCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Sends the mails the web side wrote to the outbox (confirmations), as a service of `digest serve`.
///
/// A sign-up writes its mail in the same transaction as the subscriber and wakes the worker; the
/// worker also looks every second for mails that came due (deferred ones, or ones another process
/// left). It claims due rows in small batches, hands them to a `SenderPool` (whose own threads talk
/// to the transport, with in-run retries), and records each final result: sent, failed for good,
/// or deferred with a backoff (`OutboxRetry`). A request never waits for the mail server.
///
/// Nothing is lost to a crash: a row claimed by a process that is gone (same host, pid not running)
/// is put back when the worker starts, and any claim runs out after `lease`. Only a mail in flight at
/// the instant of a kill can arrive twice, with the same bytes and Message-ID.
///
/// The worker's store calls run on a thread of its own (`database`), never on Swift concurrency's
/// threads that serve the pages; a stalled database makes a call give up after `storeTimeout`, and a
/// result that cannot be recorded stops the batch (as the nightly run stops), to be tried again later.
final class OutboxWorker: Service, Sendable {
    /// How long one of the worker's store calls may wait for the database before the worker gives up
    /// until its next look (every second).
    static let storeTimeout: Duration = .seconds(30)
    let database: StoreExecutor
    var store: Store { database.store }
    let pool: SenderPool
    let retry: OutboxRetry
    /// `host:pid`, written on each claim.
    let owner: String
    /// How long a claim holds before another worker may take the row.
    let lease: TimeInterval = 600
    let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation
    /// Called on the pool's recording thread with each final result (tests watch it).
    let onResult: (@Sendable (MailMessage, DeliveryResult) -> Void)?

    init(
        database: StoreExecutor, pool: SenderPool, retry: OutboxRetry = OutboxRetry(), now: @escaping @Sendable () -> Date,
        logger: Logger, onResult: (@Sendable (MailMessage, DeliveryResult) -> Void)? = nil
    ) {
        self.database = database
        self.pool = pool
        self.retry = retry
        self.now = now
        self.logger = logger
        self.onResult = onResult
        owner = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the worker a mail was written; returns at once.
    func wake() { wakeUp.yield() }

    func run() async throws {
        do {
            let now = now()
            let released = try await database.run { try $0.releaseOutboxClaims(now: now, isGone: Self.isGone) }
            if released > 0 { logger.info("outbox: mails left by a stopped server queued again", metadata: ["outbox.count": "\(released)"]) }
        } catch {
            logger.error("outbox: cannot read the outbox", metadata: ["error": "\(error)"])
        }
        let ticker = Task { [wakeUp] in
            while !Task.isCancelled {
                wakeUp.yield()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await withGracefulShutdownHandler {
            for await _ in wakeUps { await drain() }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
        ticker.cancel()
        // What was claimed is recorded by now; a mail that came due meanwhile waits for the next start.
    }

    /// Sends every mail that is due, including those that come due while sending.
    private func drain() async {
        do {
            let instant = now()
            guard let due = try await database.run({ try $0.nextOutboxDue(now: instant) }), due <= instant else {
                return
            }
        } catch {
            logger.error("outbox: cannot read the outbox", metadata: ["error": "\(error)"])
            return
        }
        // `next` and `record` run on the sender pool's own threads, so they call the store directly.
        let batch = Batch()
        let (store, owner, lease, now, retry, logger, onResult) = (
            store, owner, lease, now, retry, logger, onResult
        )
        let size = max(1, pool.transport.connections) * 4
        let claim: @Sendable () throws -> [OutboxMail] = {
            try store.claimOutbox(owner: owner, limit: size, lease: lease, now: now())
        }
        await pool.run(
            next: { () -> (OutboxMail, MailMessage)? in
                if batch.isStopped { return nil }
                if let mail = batch.take() { return (mail, mail.message) }
                do {
                    let claimed = try batch.takeAhead() ?? claim()
                    batch.fill(claimed)
                    // A full batch: more may be due. The next claim goes out now, while this batch is sent.
                    if claimed.count == size { batch.claimAhead(claim) }
                } catch {
                    logger.error("outbox: cannot claim mails", metadata: ["error": "\(error)"])
                    return nil
                }
                return batch.take().map { ($0, $0.message) }
            },
            record: { finished in
                var unrecorded: (any Error)?
                do {
                    try store.recordOutbox(finished.map { ($0.job, $0.result) }, retry: retry, now: now())
                } catch {
                    // Sending on would send mails whose results cannot be kept: stop at once, as the nightly run
                    // does (the error thrown below keeps the mail on the wire from ending, so at most one per
                    // connection reached the relay unrecorded). The rows stay claimed; they are sent again, same
                    // Message-ID, once put back or once their lease runs out.
                    unrecorded = error
                    batch.stop()
                    logger.error(
                        "outbox: cannot record results; sending stops until the next look",
                        metadata: ["error": "\(error)"])
                }
                for item in finished {
                    let metadata: Logger.Metadata = [
                        "mail.messageID": "\(item.message.messageID)", "mail.reply": "\(item.result.outcome.text)",
                        "outbox.id": "\(item.job.id)",
                    ]
                    if case .sent = item.result.outcome {
                        logger.info("outbox: mail sent", metadata: metadata)
                    } else {
                        logger.warning("outbox: mail not sent", metadata: metadata)
                    }
                    onResult?(item.message, item.result)
                }
                if let unrecorded { throw unrecorded }
            })
        // Mails claimed and not sent (a batch claimed ahead, or what was left when sending stopped): due again
        // at once, for the next look, instead of waiting out their lease. On the worker's own thread: a claim
        // still under way is waited for there, never on Swift concurrency's.
        guard batch.holdsClaims else { return }
        do {
            let released = try await database.run { try $0.releaseOutbox(batch.drain(), owner: owner, now: now()) }
            logger.info("outbox: claimed mails not sent put back", metadata: ["outbox.count": "\(released)"])
        } catch {
            logger.error(
                "outbox: cannot put back claimed mails; they go out once their lease runs out",
                metadata: ["error": "\(error)"])
        }
    }

    /// Whether the worker named `owner` is a process of this host that no longer runs.
    private static func isGone(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":")
        guard parts.count >= 2, parts.dropLast().joined(separator: ":") == ProcessInfo.processInfo.hostName,
            let pid = pid_t(parts.last!)
        else { return false }
        if pid == getpid() { return true }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Mails claimed but not yet handed to a sender, the next batch's claim if one is under way, and whether
    /// sending stopped.
    final class Batch: Sendable {
        private let mails = Mutex<[OutboxMail]>([])
        private let ahead = Mutex<ClaimAhead<OutboxMail>?>(nil)
        private let stopped = Mutex(false)
        func take() -> OutboxMail? { mails.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
        func fill(_ claimed: [OutboxMail]) { mails.withLock { $0 += claimed } }
        func stop() { stopped.withLock { $0 = true } }
        var isStopped: Bool { stopped.withLock { $0 } }

        /// Starts claiming the next batch on a thread of its own.
        func claimAhead(_ claim: @escaping @Sendable () throws -> [OutboxMail]) {
            ahead.withLock { $0 = ClaimAhead(named: "outbox-claim", claim) }
        }

        /// The batch claimed ahead, once its claim is over; nil when none was started.
        func takeAhead() throws -> [OutboxMail]? {
            guard let claim = ahead.withLock({ value in defer { value = nil }; return value }) else { return nil }
            return try claim.take()
        }

        /// Whether mails are claimed and not taken, or a claim ahead was started: what `drain()` would return.
        var holdsClaims: Bool { !mails.withLock(\.isEmpty) || ahead.withLock { $0 != nil } }

        /// Everything claimed and not taken, the batch claimed ahead included (waiting for its claim): once
        /// sending is over.
        func drain() -> [OutboxMail] {
            let left = mails.withLock { value in defer { value = [] }; return value }
            return left + ((try? takeAhead()) ?? [])
        }
    }
}
