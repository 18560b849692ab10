import Foundation
import Logging
import Synchronization

/// The compose stage: claimed rows in, messages out. Resolves each row's frozen edition, leaves out what
/// the reader already received (one query per claimed batch), and composes through `DigestComposer.digest`.
/// Rows that need no message (the reader left, nothing new, a message that cannot be built) are handed to
/// the ledger recorder, never written here.
///
/// Runs on the composer thread of `ComposeAhead` only, so its own state needs no lock.
final class ComposeStage: @unchecked Sendable {
    private let claims: ClaimFeed
    /// Whether the next batch is claimed while the current one is composed and sent (`ClaimAhead`).
    private let claimsAhead: Bool
    private var ahead: ClaimAhead<ClaimedDelivery>?
    private let composer: DigestComposer
    private let store: Store
    private let recorder: LedgerRecorder
    /// Asked before each claim: a stopped run claims nothing more.
    private let mayClaim: @Sendable () -> Bool
    private let clock: @Sendable () -> Date
    private let logger: Logger
    /// Messages leave this stage unsigned, for the signing threads of `ComposeAhead` to sign with this (their
    /// `DeliveryJob.signature` set); nil: they are signed here, if at all.
    private let signsApart: DKIMSigner?

    private var batch: [ClaimedDelivery] = []
    private var index = 0
    private var finished = false
    private var editions: [Int64: Edition]
    /// What the readers of the current batch already received, by delivery id.
    private var received: [Int64: Set<Int64>] = [:]
    /// A database error that ended claiming early.
    private(set) var error: (any Error)?

    init(
        claims: ClaimFeed, claimsAhead: Bool = false, composer: DigestComposer, store: Store, recorder: LedgerRecorder,
        editions: [Edition], mayClaim: @escaping @Sendable () -> Bool, clock: @escaping @Sendable () -> Date,
        signsApart: DKIMSigner? = nil, logger: Logger
    ) {
        self.signsApart = signsApart
        self.claims = claims
        self.claimsAhead = claimsAhead
        self.composer = composer
        self.store = store
        self.recorder = recorder
        self.mayClaim = mayClaim
        self.clock = clock
        self.logger = logger
        self.editions = Dictionary(uniqueKeysWithValues: editions.compactMap { edition in edition.id.map { ($0, edition) } })
    }

    /// The next message to send, or nil when the ledger has nothing left that is due (or claiming stopped).
    func next() -> (DeliveryJob, MailMessage)? {
        while let claimed = nextClaimed() {
            do {
                if let message = try compose(claimed) { return message }
            } catch {
                // A reader whose message cannot be built is recorded and skipped; the run goes on.
                logger.error(
                    "cannot build a digest", metadata: ["subscriber.id": "\(claimed.subscriber.id ?? 0)", "error": "\(error)"])
                recorder.unbuildable(claimed, reason: "cannot build the message: \(error)")
            }
        }
        return nil
    }

    private func compose(_ claimed: ClaimedDelivery) throws -> (DeliveryJob, MailMessage)? {
        let subscriber = claimed.subscriber
        guard subscriber.status == .active else {
            recorder.skip(claimed, reason: "reader is \(subscriber.status.rawValue)")
            return nil
        }
        let edition = try edition(claimed.editionID)
        var alreadyReceived = received.removeValue(forKey: claimed.id)
        if recorder.isUnrecorded(subscriber.id!) {
            // Another message to this reader is on its way: wait for its outcome, then ask again.
            recorder.waitUntilRecorded(reader: subscriber.id!)
            alreadyReceived = nil
        }
        let items = try alreadyReceived ?? composer.alreadyReceived(by: [subscriber.id!], before: edition, in: store)[subscriber.id!] ?? []
        let now = clock()
        guard
            let digest = try composer.digest(
                for: subscriber, in: edition, alreadyReceived: items, now: now, coversSince: claimed.coversSince,
                signing: signsApart == nil)
        else {
            recorder.skip(claimed, reason: "nothing new for this reader")
            return nil
        }
        recorder.composed(reader: subscriber.id!)
        // The body hash here, while the message is in this core's cache; the signing threads do the rest.
        let signature = signsApart.map { PendingSignature(time: now, bodyHash: $0.bodyHash(of: digest.message.data)) }
        return (DeliveryJob(claimed: claimed, itemIDs: digest.itemIDs, signature: signature), digest.message)
    }

    private func nextClaimed() -> ClaimedDelivery? {
        if index == batch.count {
            guard !finished, mayClaim() else { return nil }
            do {
                batch = try ahead?.take() ?? claims.nextBatch()
            } catch {
                self.error = error
                batch = []
            }
            ahead = nil
            index = 0
            finished = batch.isEmpty
            // The next claim goes out now, while this batch is composed and sent.
            if claimsAhead && !finished && mayClaim() { ahead = ClaimAhead { [claims] in try claims.nextBatch() } }
            prefetchReceived()
        }
        guard index < batch.count else { return nil }
        defer { index += 1 }
        return batch[index]
    }

    /// Waits for a claim still under way (a run that stops then defers its rows with the rest of what it
    /// claimed). Call once the stage's thread has stopped.
    func finish() {
        ahead?.wait()
    }

    /// What the batch's readers already received: one query per edition instead of one per message.
    private func prefetchReceived() {
        received = [:]
        for (editionID, rows) in Dictionary(grouping: batch, by: \.editionID) {
            do {
                let edition = try edition(editionID)
                let found = try composer.alreadyReceived(by: rows.compactMap(\.subscriber.id), before: edition, in: store)
                for row in rows { received[row.id] = row.subscriber.id.flatMap { found[$0] } ?? [] }
            } catch {
                // Each reader of the batch is then looked up on its own when composed.
                logger.warning("cannot load what a batch of readers already received", metadata: ["error": "\(error)"])
            }
        }
    }

    private func edition(_ id: Int64) throws -> Edition {
        if let edition = editions[id] { return edition }
        guard let edition = try store.edition(id: id) else { throw SubscriberError("edition \(id) is missing") }
        editions[id] = edition
        return edition
    }
}

/// What the pool carries with each message: the ledger row and the items it holds.
struct DeliveryJob: Sendable {
    var claimed: ClaimedDelivery
    var itemIDs: [Int64]
    /// Set while the message is still to be DKIM-signed.
    var signature: PendingSignature?
}

/// A DKIM signature still to be made: dated (`t=`) the moment the message was composed, its body hash done.
struct PendingSignature: Sendable {
    var time: Date
    var bodyHash: DKIMSigner.BodyHash
}
