import Foundation
import Logging

/// How a run delivers what it queued: a pipeline of named stages, each boundary a type.
///
///     stage     type              hands on
///     claim     ClaimFeed         ClaimedDelivery    (rows this run claimed, a batch at a time)
///     compose   ComposeStage      Composed           (or a row that needs no message, to the record stage)
///     sign      SigningStage      Composed           (signed)
///     send      SenderPool        Sent               (the final result, after retries)
///     record    LedgerRecorder    RunSummary         (the counts, as they are written)
///     report    RunState
///
/// Claiming and composing run on a thread of their own (`ComposeAhead`), a few messages ahead of the senders;
/// signing, when there are DKIM keys, on `SigningStage.threads` more; sending on the pool's threads, one per
/// connection; recording on the recorder's. A message is signed before any sender can take it, and its
/// outcome is recorded right after the server's reply.
///
/// What the stages share is one value, `Gate`: the run lock and the stop control. Each stage asks it at its own
/// point (before a claim, before waiting for other workers, before each end of data) and the record stage tells
/// it when the ledger cannot be written; a stop, from there or from a signal, ends every stage.
///
/// Built by `DeliveryRunner` for one run and run once: the record stage's writer starts with it.
struct DeliveryPipeline {
    /// Compose → sign → send: a message and the ledger row it is for (unsigned until the sign stage).
    typealias Composed = (DeliveryJob, MailMessage)
    /// Send → record: a message with its final result, after its retries.
    typealias Sent = SenderPool.Finished<DeliveryJob>

    /// Whether the run may go on; shared by every stage.
    let gate: Gate
    /// Takes due rows from the ledger for this run, a batch at a time (on the compose stage's thread).
    let claimStage: ClaimFeed
    /// Claimed rows in, messages out; rows that need no message go straight to the record stage.
    let composeStage: ComposeStage
    /// DKIM signing apart from composing; nil when there are no keys.
    let signStage: SigningStage?
    /// Sends over the pool's connections, with retries, and hands each final result to the record stage.
    let sendStage: SenderPool
    /// The one writer of outcomes to the ledger; the senders' barrier waits on it.
    let recordStage: LedgerRecorder
    /// The run's counts as the record stage writes them.
    let report: RunState

    /// Messages claimed, composed and signed ahead of the senders, at most: `perConnection` for each connection and
    /// one for each signing thread. The composer runs at nice +10, so it composes in bursts: the buffer fills
    /// while the senders wait on the network and drains while the composer waits for a core. Two a connection
    /// ran dry within a burst; eight ride it out (BENCHMARKS.md, "Where a signed send's cores go").
    let aheadCapacity: Int
    static let aheadPerConnection = 8
    private let store: Store
    private let clock: @Sendable () -> Date
    /// First wait before a deferred delivery is tried by a later run.
    private let deferBase: TimeInterval

    /// Assembles the stages of one run over `editions`; `report` holds the run's counts so far.
    init(
        editions: [Edition], options: DeliveryRunner.Options, store: Store, composer: DigestComposer,
        pool: SenderPool, gate: Gate, report: RunState, clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.gate = gate
        self.report = report
        self.store = store
        self.clock = clock
        deferBase = options.deferBase
        sendStage = pool
        recordStage = LedgerRecorder(
            store: store, policy: .init(bounceLimit: options.bounceLimit, deferBase: options.deferBase),
            state: report, clock: clock, failed: gate.ledgerFailed)
        claimStage = ClaimFeed(
            store: store, run: gate.lease.owner, batchSize: options.batchSize, clock: clock,
            peers: store.isShared
                ? ClaimFeed.Peers(
                    lockPrefix: DeliveryRunner.workerLockPrefix, pollInterval: min(1, options.lease / 10),
                    mayWait: gate.mayWait)
                : nil)
        signStage = composer.dkim.flatMap { signer in
            signer.keys.isEmpty ? nil : SigningStage(signer: signer, threads: options.signingThreads)
        }
        composeStage = ComposeStage(
            claims: claimStage,
            // Across a network the next claim overlaps the sending; SQLite's claim is a local write that
            // would only contend with the recorder's.
            claimsAhead: store.isShared,
            composer: composer, store: store, recorder: recordStage, editions: editions, mayClaim: gate.mayClaim,
            clock: clock, signsApart: signStage?.signer, logger: logger)
        aheadCapacity = Self.aheadPerConnection * max(1, pool.transport.connections) + (signStage?.threads ?? 0)
    }

    /// Runs the stages until the ledger has nothing due or a stop ends the run, then ends them and settles
    /// what a stop left. `summary` gets the run's counts, also when this throws (the run report keeps them).
    func run(_ summary: inout RunSummary) async throws {
        let ahead = ComposeAhead<Composed>(
            capacity: aheadCapacity, finishers: signStage?.threads ?? 0,
            produce: { [composeStage] in composeStage.next() }, finish: signStage.map { $0.sign })
        let sent = await sendStage.run(
            next: { ahead.next() }, recording: recordStage.recording, control: gate.control,
            mayCommit: gate.mayCommit)
        // The senders are done: the recorder writes what they handed it, then the stages upstream of them end
        // (a composer waiting for a reader's earlier outcome is let go by the recorder's stop).
        recordStage.stop()
        ahead.stop()
        composeStage.finish()
        summary = report.summary
        if let error = recordStage.error ?? composeStage.error {
            throw DeliveryRunError.ledgerUnwritable(database: store.path, error)
        }
        if let stopped = sent.stoppedBecause {
            summary.note = "sending stopped: \(stopped)"
            summary.stoppedBy = sent.stopKind?.description
            try deferUnsent(reason: stopped, summary: &summary)
        }
    }

    /// What this run claimed and the senders never took stays claimed by it: deferred, with the stop's reason.
    private func deferUnsent(reason: String, summary: inout RunSummary) throws {
        let now = clock()
        let left = try store.deferClaimed(
            run: claimStage.run, reason: reason, retryAt: now.addingTimeInterval(deferBase), now: now)
        summary.deferred += left
        // One stop per run: its text needs no grouping (and its reply code must stay readable).
        if left > 0 { summary.reasons["not sent: \(reason)", default: 0] += left }
    }
}

extension DeliveryPipeline {
    /// Whether the run may go on, and the one way a stage stops it: the run lock and the stop control (signals,
    /// a lost lock, an unwritable ledger), shared by the stages as one value instead of captured by each.
    struct Gate: Sendable {
        let control: SenderPool.Control
        let lease: RunLease

        /// The compose stage, before each claim: a lost lease stops the run, and a stopped run claims no more.
        func mayClaim() -> Bool {
            if let lost = lease.check() { control.stop(lost) }
            return control.reason == nil
        }

        /// The claim stage of a worker on a shared store, before it waits for rows other workers hold.
        func mayWait() -> Bool {
            lease.check() == nil && control.reason == nil
        }

        /// The senders, before each end of data: why nothing more may be sent, once the lease is gone.
        func mayCommit() -> SenderPool.StopReason? {
            lease.check()
        }

        /// The record stage, once, when a write fails: nothing more may reach its end of data.
        func ledgerFailed(_ error: any Error) {
            control.stop(.init(.ledgerUnwritable, "cannot write the ledger: \(error)", immediate: true))
        }
    }

    /// The sign stage: DKIM signatures, a pure function of the finished bytes, made on threads of their own
    /// (one per core by default) so a signed send uses every core. The compose stage has dated each message
    /// and hashed its body (`PendingSignature`); this makes the signature.
    struct SigningStage: Sendable {
        let signer: DKIMSigner
        /// Threads that sign at once.
        let threads: Int

        func sign(_ composed: Composed) -> Composed {
            var (job, message) = composed
            guard let signature = job.signature else { return composed }
            message.data = signer.sign(message.data, time: signature.time, bodyHash: signature.bodyHash)
            job.signature = nil
            return (job, message)
        }
    }
}
