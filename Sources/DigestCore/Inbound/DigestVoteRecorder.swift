import Foundation

/// Counts a reader's vote by reply: the digest votes' store (one vote per reader per item, the item found by the
/// number printed beside it in the reader's digest, read back from the ledger) is connected here. A seam: without
/// one, vote commands are answered with "not counted on this site yet" and change nothing.
public protocol DigestVoteRecorder: Sendable {
    /// Records `subscriberID`'s vote for the item printed as `number` (1-based, across sections) in their digest of
    /// (`date`, `kind`).
    func recordDigestVote(number: Int, date: Day, kind: EditionKind, subscriberID: Int64, now: Date) throws
        -> DigestVoteByReply
}

/// What became of one number of a vote command.
public enum DigestVoteByReply: Sendable, Equatable {
    /// Counted, for the item of this title.
    case counted(title: String)
    /// The reader had voted for this item already: nothing changed.
    case alreadyVoted(title: String)
    /// That digest had no item with this number (or was not sent to the reader).
    case noSuchItem
    /// The edition's votes are closed (its window and grace period are over).
    case closed
}
