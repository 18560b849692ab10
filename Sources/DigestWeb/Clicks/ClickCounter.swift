import DigestCore
import Logging
import ServiceLifecycle
import Synchronization

/// Counts clicks on the digests' item links in memory and writes them to the store every `interval`
/// and once more at shutdown, as a service of `digest serve`.
///
/// A redirect is the hot path of a big list's morning: the request only adds one to a tally under a
/// lock, and never waits for the database. The writes run on a thread of their own (`database`, one
/// thread, a deadline): a slow or absent database delays counting, never a redirect. A flush that fails
/// puts its counts back for the next one; what a crash or a long outage loses is at most the counts
/// since the last flush (the tally is bounded, `ClickTally.limit`).
final class ClickCounter: Service, Sendable {
    /// How long one flush may wait for the database before its counts are kept for the next.
    static let storeTimeout: Duration = .seconds(30)
    let database: StoreExecutor
    let interval: Duration
    private let tally: Mutex<ClickTally>
    private let logger: Logger

    init(database: StoreExecutor, interval: Duration = .seconds(1), limit: Int = 100_000, logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
        tally = Mutex(ClickTally(limit: limit))
    }

    /// One click on `key`; returns at once.
    func count(_ key: ClickKey) {
        tally.withLock { _ = $0.click(key) }
    }

    /// Clicks counted and not yet written.
    var pending: [ClickKey: Int] { tally.withLock { $0.pending } }

    /// Writes what was counted since the last flush; on failure keeps it for the next.
    func flush() async {
        let batch = tally.withLock { $0.take() }
        guard !batch.isEmpty else { return }
        do {
            try await database.run { try $0.recordClicks(batch) }
        } catch {
            tally.withLock { $0.restore(batch) }
            logger.warning(
                "clicks: cannot write the counts; kept for the next try",
                metadata: ["clicks.keys": "\(batch.count)", "error": "\(error)"])
        }
    }

    func run() async throws {
        // Sleeping is cut short by a stop; the counts of the last moments are written after it.
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await flush()
            }
        }
        await flush()
    }
}
