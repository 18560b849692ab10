import Foundation

/// The claim stage: takes due rows from the ledger in batches for this run (`sending`, claimed by it),
/// one write per batch. Used by the compose stage's thread only.
struct ClaimFeed {
    let store: Store
    let run: String
    let batchSize: Int
    let clock: @Sendable () -> Date

    /// The next batch of queued rows and deferred rows whose retry time has come; empty when none is left.
    func nextBatch() throws -> [ClaimedDelivery] {
        try store.claimDeliveries(run: run, limit: batchSize, now: clock())
    }
}
