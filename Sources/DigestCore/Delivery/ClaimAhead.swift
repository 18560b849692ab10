import Foundation
import Synchronization

/// One claim of the next batch, made on a thread of its own while the current batch is composed and sent:
/// on a database across a network (PostgreSQL) the claim's round trip then overlaps the sending instead of
/// stalling the composer when a batch runs out. Started once, taken once.
///
/// The rows it claims are this run's (`sending`, claimed by it) from the moment the statement commits, like
/// the rows of the current batch: a run that stops defers them (`deferClaimed`, after `wait()`), a crash
/// leaves them to be re-queued.
final class ClaimAhead: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[ClaimedDelivery], any Error>?>(nil)

    init(_ claims: ClaimFeed) {
        Thread.start(named: "claim-ahead", background: true) { [self] in
            let batch = Result { try claims.nextBatch() }
            result.withLock { $0 = batch }
            done.signal()
        }
    }

    /// The claimed batch (empty when nothing was left), once the claim is over.
    func take() throws -> [ClaimedDelivery] {
        wait()
        return try result.withLock { $0! }.get()
    }

    /// Returns once the claim is over, committed or failed.
    func wait() {
        done.wait()
        done.signal()
    }
}
