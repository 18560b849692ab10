import Foundation
import Synchronization

/// The record stage, and the one writer of outcomes to the ledger: everything a run settles (sent,
/// deferred, failed, skipped) is queued here and written on the recorder's thread, in order, one
/// transaction per group. The sender pool's barrier waits on it, so at most one accepted message per
/// connection is ever unrecorded; once a write fails, nothing more is written and sending stops.
final class LedgerRecorder: Sendable {
    struct Policy: Sendable {
        /// Hard bounces in a row that mark a reader `bounced`.
        var bounceLimit: Int
        /// First wait before a deferred delivery is tried by a later run; doubles per attempt.
        var deferBase: TimeInterval

        /// The wait before a later run tries a deferred delivery again: `deferBase`, doubling per run that
        /// failed to deliver it, at most 64 times as long (the in-run retries' formula, without jitter).
        var backoff: RetryPolicy { RetryPolicy(baseDelay: deferBase, maxDelay: deferBase * 64, jitter: 0) }
    }

    private let store: Store
    private let policy: Policy
    private let clock: @Sendable () -> Date
    private let state: RunState
    private let unrecorded: UnrecordedReaders
    /// Readers this run counted a bounce for (their bounce count must not be reset by a later message).
    private let bouncedThisRun = Mutex<Set<Int64>>([])
    private let recorder: GroupCommitRecorder<LedgerEntry>

    /// Starts the writing thread; `failed` is called once, on it, if a write fails.
    init(
        store: Store, policy: Policy, state: RunState, clock: @escaping @Sendable () -> Date,
        failed: @escaping @Sendable (any Error) -> Void
    ) {
        self.store = store
        self.policy = policy
        self.state = state
        self.clock = clock
        let unrecorded = UnrecordedReaders()
        self.unrecorded = unrecorded
        recorder = GroupCommitRecorder<LedgerEntry>(
            // Across a network a commit is a round trip: a second one goes out while the first is answered.
            named: "ledger-recorder", writers: store.isShared ? 2 : 1,
            write: { [store, state, unrecorded, clock] entries in
                try store.record(entries, now: clock())
                for entry in entries {
                    switch entry {
                    case .skipped(_, let reason):
                        state.record(.skipped, reason: reason)
                    case .delivery(let outcome):
                        // A later message to this reader may be composed now.
                        unrecorded.recorded(outcome.subscriberID)
                        switch outcome.outcome {
                        case .sent: state.record(.sent, reason: nil)
                        case .transient(let reason): state.record(.deferred, reason: ReplyText.grouped(reason))
                        case .permanent(let reason): state.record(.failed, reason: ReplyText.grouped(reason))
                        }
                    }
                }
            },
            failed: { error in failed(error) })
    }

    /// The pool's view: final results in, tickets out; the barrier waits for a ticket.
    var recording: SenderPool.Recording<DeliveryJob> {
        SenderPool.Recording(
            enqueue: { [self] results in recorder.enqueue(results.map(entry)) },
            waitUntilRecorded: { [self] ticket in recorder.waitUntilRecorded(ticket) })
    }

    /// A claimed row that needs no message.
    func skip(_ claimed: ClaimedDelivery, reason: String) {
        recorder.enqueue([.skipped(id: claimed.id, reason: reason)])
    }

    /// A claimed row whose message cannot be built: failed, and not the reader's bounce.
    func unbuildable(_ claimed: ClaimedDelivery, reason: String) {
        recorder.enqueue([
            .delivery(
                DeliveryOutcome(
                    id: claimed.id, subscriberID: claimed.subscriber.id!, outcome: .permanent(reason: reason), attempts: 0,
                    messageID: "", itemIDs: [], retryAt: nil, bounceLimit: nil))
        ])
    }

    /// The first write that failed, if one did.
    var error: (any Error)? { recorder.error }

    /// Writes what is queued and ends the writing thread.
    func stop() {
        unrecorded.cancel()
        recorder.stop()
    }

    // MARK: Readers with a message on its way

    func composed(reader: Int64) { unrecorded.composed(reader) }
    func isUnrecorded(_ reader: Int64) -> Bool { unrecorded.isPending(reader) }
    func waitUntilRecorded(reader: Int64) { unrecorded.waitUntilRecorded(reader) }

    /// The ledger's row for a final result: a permanent refusal that is not the reader's bounce (the relay's
    /// or the sender's problem, or one of a relay-wide run of refusals) stays deferred for a later run.
    private func entry(_ finished: SenderPool.Finished<DeliveryJob>) -> LedgerEntry {
        let (claimed, result) = (finished.job.claimed, finished.result)
        var outcome = result.outcome
        if case .permanent(let reason) = outcome, !result.isBounce { outcome = .transient(reason: reason) }
        var entry = DeliveryOutcome(
            id: claimed.id, subscriberID: claimed.subscriber.id!, outcome: outcome, attempts: result.attempts,
            messageID: finished.message.messageID, itemIDs: finished.job.itemIDs,
            retryAt: clock().addingTimeInterval(policy.backoff.delay(afterAttempt: claimed.attempts + 1, random: 0)),
            bounceLimit: result.isBounce ? policy.bounceLimit : nil)
        // Readers claimed without bounces and not bounced since by this run have no count to reset.
        if result.isBounce {
            bouncedThisRun.withLock { _ = $0.insert(entry.subscriberID) }
        } else if claimed.subscriber.bounceCount == 0 {
            entry.noBouncesToReset = !bouncedThisRun.withLock { $0.contains(entry.subscriberID) }
        }
        return .delivery(entry)
    }
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

