import Foundation
import Synchronization

/// Hands claimed ledger rows to the sender threads one at a time, claiming the next batch from
/// the database when the current one runs out. Claiming in batches keeps one write per
/// `batchSize` messages; the rows of a batch are `sending` until each outcome is recorded.
final class ClaimFeed: Sendable {
    private struct State {
        var buffer: [ClaimedDelivery] = []
        var index = 0
        var finished = false
        var error: (any Error)?
    }

    private let store: Store
    private let run: String
    private let batchSize: Int
    private let clock: @Sendable () -> Date
    /// Sees each new batch before its first row is handed out (to load per-batch data in one query).
    private let batchClaimed: (@Sendable ([ClaimedDelivery]) -> Void)?
    private let state = Mutex(State())

    init(
        store: Store, run: String, batchSize: Int, clock: @escaping @Sendable () -> Date,
        batchClaimed: (@Sendable ([ClaimedDelivery]) -> Void)? = nil
    ) {
        self.store = store
        self.run = run
        self.batchSize = batchSize
        self.clock = clock
        self.batchClaimed = batchClaimed
    }

    /// The next row to send, or nil when the ledger has nothing left that is due.
    func next() -> ClaimedDelivery? {
        state.withLock { state in
            if state.index == state.buffer.count && !state.finished {
                do {
                    state.buffer = try store.claimDeliveries(run: run, limit: batchSize, now: clock())
                } catch {
                    state.error = error
                    state.buffer = []
                }
                state.index = 0
                state.finished = state.buffer.isEmpty
                if !state.buffer.isEmpty { batchClaimed?(state.buffer) }
            }
            guard state.index < state.buffer.count else { return nil }
            defer { state.index += 1 }
            return state.buffer[state.index]
        }
    }

    /// A database error that ended the feed early.
    var error: (any Error)? { state.withLock { $0.error } }
}

/// Readers whose message is composed but whose outcome is not recorded yet. A reader with two rows in
/// one run (a deferred older edition and today's) gets the second composed only after the first is
/// recorded, so "already received" never misses what is still on its way.
final class UnrecordedReaders: @unchecked Sendable {
    private let condition = NSCondition()
    private var readers: [Int64: Int] = [:]
    private var cancelled = false

    /// Waits until no message to `subscriberID` is between composing and recording (or `cancel`).
    func waitUntilRecorded(_ subscriberID: Int64) {
        condition.lock()
        while readers[subscriberID] != nil && !cancelled { condition.wait() }
        condition.unlock()
    }

    /// Ends every wait: the senders have stopped, nothing more will be recorded.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    func composed(_ subscriberID: Int64) {
        condition.lock()
        readers[subscriberID, default: 0] += 1
        condition.unlock()
    }

    func recorded(_ subscriberID: Int64) {
        condition.lock()
        if let count = readers[subscriberID], count > 1 {
            readers[subscriberID] = count - 1
        } else {
            readers[subscriberID] = nil
        }
        condition.broadcast()
        condition.unlock()
    }

    func isPending(_ subscriberID: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return readers[subscriberID] != nil
    }
}

/// The counts of a run as they change, shared by the sender threads.
final class RunState: Sendable {
    enum Outcome { case sent, skipped, deferred, failed }

    private let current: Mutex<RunSummary>
    private let progress: (@Sendable (RunSummary) -> Void)?

    init(summary: RunSummary, progress: (@Sendable (RunSummary) -> Void)?) {
        current = Mutex(summary)
        self.progress = progress
    }

    func record(_ outcome: Outcome, reason: String?) {
        let snapshot = current.withLock { summary -> RunSummary in
            switch outcome {
            case .sent: summary.sent += 1
            case .skipped: summary.skipped += 1
            case .deferred: summary.deferred += 1
            case .failed: summary.failed += 1
            }
            if let reason { summary.reasons[reason, default: 0] += 1 }
            return summary
        }
        progress?(snapshot)
    }

    var summary: RunSummary { current.withLock { $0 } }
}
