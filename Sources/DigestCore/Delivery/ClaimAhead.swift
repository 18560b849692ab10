import Foundation
import Synchronization

/// One claim of the next batch, made on a thread of its own while the current batch is composed and sent:
/// on a database across a network (PostgreSQL) the claim's round trip then overlaps the sending instead of
/// stalling the composer (or the outbox's senders) when a batch runs out. Started once, taken once.
///
/// The rows it claims are the claimer's (`sending`, claimed by it) from the moment the statement commits, like
/// the rows of the current batch: a run that stops defers them (`deferClaimed`, after `wait()`), the outbox
/// puts them back (`releaseOutbox`), a crash leaves them to be re-queued.
public final class ClaimAhead<Row: Sendable>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[Row], any Error>?>(nil)

    /// Starts `claim` at once, on a thread named `name`.
    public init(named name: String = "claim-ahead", _ claim: @escaping @Sendable () throws -> [Row]) {
        Thread.start(named: name, background: true) { [self] in
            let batch = Result { try claim() }
            result.withLock { $0 = batch }
            done.signal()
        }
    }

    /// The claimed batch (empty when nothing was left), once the claim is over.
    public func take() throws -> [Row] {
        wait()
        return try result.withLock { $0! }.get()
    }

    /// Returns once the claim is over, committed or failed.
    public func wait() {
        done.wait()
        done.signal()
    }
}
