import Foundation

/// The claim stage: takes due rows from the ledger in batches for this run (`sending`, claimed by it),
/// one write per batch. Used by the compose stage's thread only.
///
/// Cooperating senders on a shared store (`peers`): a worker that finds nothing left to claim stays while
/// other workers still hold rows, taking over the rows of any whose lease ran out (killed, or cut off from
/// the database), so a dead worker's share is finished by the living in the same run. Whether a lease ran
/// out is the database's judgement, on its own clock: this worker only polls, every `pollInterval`.
struct ClaimFeed: Sendable {
    /// How the workers of one run find each other's leases.
    struct Peers: Sendable {
        /// Lease names of the workers: this prefix and the claim owner (`RunLease`'s `name:owner`).
        var lockPrefix: String
        /// How often a worker with nothing to claim looks again.
        var pollInterval: TimeInterval
        /// False once the run must stop (a signal, a lost lease): waiting ends with it.
        var mayWait: @Sendable () -> Bool
    }

    let store: Store
    let run: String
    let batchSize: Int
    let clock: @Sendable () -> Date
    var peers: Peers? = nil

    /// The next batch of queued rows and deferred rows whose retry time has come; empty when none is left
    /// (and, with peers, no other worker holds rows that could come back).
    func nextBatch() throws -> [ClaimedDelivery] {
        while true {
            let batch = try store.claimDeliveries(run: run, limit: batchSize, now: clock())
            guard batch.isEmpty, let peers else { return batch }
            if try store.takeOverAbandonedClaims(workerLockPrefix: peers.lockPrefix, now: Date()) > 0 { continue }
            guard try store.deliveriesClaimed(byOtherThan: run) > 0, peers.mayWait() else { return [] }
            Thread.sleep(forTimeInterval: peers.pollInterval)
        }
    }
}
