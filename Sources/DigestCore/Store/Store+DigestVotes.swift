import Foundation

/// Where a vote link leads, as its page shows it before the reader presses the button.
public struct DigestVoteTarget: Sendable, Equatable {
    public var item: EditionItem
    /// The last instant the link is accepted (`DigestVoteLink.expiry`).
    public var expires: Date
    /// Whether this reader already voted for this item (from this link or another edition's).
    public var alreadyVoted: Bool
}

/// What became of a vote from a digest.
public enum DigestVoteOutcome: Sendable, Equatable {
    /// Counted: the item now has `digestVotes` votes from digests.
    case recorded(item: EditionItem, digestVotes: Int)
    /// This reader's vote for this item was already counted; nothing changed.
    case alreadyVoted(item: EditionItem)
    /// The link's edition closed longer ago than its window and the grace period; nothing changed.
    case expired
    /// The edition, the item (or its place in that edition) or the reader is gone; nothing changed.
    case notFound
}

/// What became of one number of a vote by reply (`+3`, `vote 3 7`).
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

/// One item's votes from digests, for `GET /api/items/votes?since=`.
public struct DigestVoteCount: Sendable, Equatable {
    public var url: String
    /// Votes from digests since the time asked about.
    public var recent: Int
    /// Every vote from digests the item has.
    public var digestVotes: Int
    /// The site's own count, for comparison.
    public var votes: Int
}

extension Store {
    /// What `vote`'s page shows: the item as its edition froze it, how long the link lasts, and whether the
    /// reader voted for it already. Nil when the edition, the item in it or the reader is gone. Reads only:
    /// a GET or HEAD of a vote link (a mail scanner's) changes nothing.
    public func digestVoteTarget(_ vote: DigestVote) throws -> DigestVoteTarget? {
        try database.read { db in
            guard let (_, item, expires) = try Self.voteEdition(vote, in: db) else { return nil }
            let voted: Int64? = try db.fetchValue(
                "SELECT id FROM digest_votes WHERE itemID = ? AND subscriberID = ?", vote.itemID.sqlValue,
                vote.subscriberID.sqlValue)
            return DigestVoteTarget(item: item, expires: expires, alreadyVoted: voted != nil)
        }
    }

    /// Counts `vote` once: one vote per reader per item, however many times (or how many at once) the link is
    /// POSTed, from whichever edition. In one transaction: the row that makes it unique (a concurrent second
    /// insert waits for the first and then inserts nothing) and the item's count.
    public func recordDigestVote(_ vote: DigestVote, now: Date) throws -> DigestVoteOutcome {
        try database.write { db in
            guard let (editionID, item, expires) = try Self.voteEdition(vote, in: db) else { return .notFound }
            guard now <= expires else { return .expired }
            let inserted: Int64? = try db.fetchValue(
                """
                INSERT INTO digest_votes (itemID, subscriberID, editionID, votedAt) VALUES (?, ?, ?, ?)
                ON CONFLICT (itemID, subscriberID) DO NOTHING RETURNING id
                """,
                vote.itemID.sqlValue, vote.subscriberID.sqlValue, editionID.sqlValue, now.sqlValue)
            guard inserted != nil else { return .alreadyVoted(item: item) }
            guard
                let count: Int = try db.fetchValue(
                    "UPDATE items SET digestVotes = digestVotes + 1 WHERE id = ? RETURNING digestVotes",
                    vote.itemID.sqlValue)
            else { throw StoreError(path: "", underlying: VoteItemVanished(itemID: vote.itemID)) }
            return .recorded(item: item, digestVotes: count)
        }
    }

    /// A vote by reply: the item printed as `number` in `subscriberID`'s digest of `edition` (`digestItem`),
    /// counted once as a vote link's POST counts it, under the same expiry.
    public func recordDigestVote(number: Int, edition: EditionReference, subscriberID: Int64, now: Date) throws
        -> DigestVoteByReply
    {
        guard let item = try digestItem(number: number, date: edition.date, kind: edition.kind, subscriberID: subscriberID)
        else { return .noSuchItem }
        switch try recordDigestVote(DigestVote(edition: edition, itemID: item.itemID, subscriberID: subscriberID), now: now) {
        case .recorded: return .counted(title: item.title)
        case .alreadyVoted: return .alreadyVoted(title: item.title)
        case .expired: return .closed
        case .notFound: return .noSuchItem
        }
    }

    /// The edition `vote` names, the item as that edition froze it and when the link expires; nil when the
    /// edition is not stored, the item is not one of its candidates or no longer stored, or the reader is gone.
    private static func voteEdition(_ vote: DigestVote, in db: any SQLConnection) throws
        -> (editionID: Int64, item: EditionItem, expires: Date)?
    {
        guard
            let edition = try db.fetchOne(
                "SELECT id, windowStart, cutoff FROM editions WHERE date = ? AND kind = ?",
                vote.edition.date.sqlValue, vote.edition.kind.sqlValue)
        else { return nil }
        let editionID: Int64 = try edition["id"]
        guard
            let row = try db.fetchOne(
                """
                SELECT itemID, \(ItemFields.columns) FROM edition_items
                WHERE editionID = ? AND itemID = ? AND EXISTS (SELECT 1 FROM items WHERE id = edition_items.itemID)
                """,
                editionID.sqlValue, vote.itemID.sqlValue),
            try db.fetchValue("SELECT id FROM subscribers WHERE id = ?", vote.subscriberID.sqlValue) as Int64? != nil
        else { return nil }
        let expires = DigestVoteLink.expiry(windowStart: try edition["windowStart"], cutoff: try edition["cutoff"])
        return (editionID, EditionItem(itemID: try row["itemID"], try ItemFields.read(row)), expires)
    }

    /// Each item with votes from digests cast at or after `since`, most recent votes first: how many since
    /// then, and its totals.
    public func digestVoteCounts(since: Date, limit: Int = 1000) throws -> [DigestVoteCount] {
        try database.read { db in
            try db.fetchAll(
                """
                SELECT i.url, i.votes, i.digestVotes, r.recent FROM (
                    SELECT itemID, count(*) AS recent FROM digest_votes WHERE votedAt >= ? GROUP BY itemID
                ) r JOIN items i ON i.id = r.itemID
                ORDER BY r.recent DESC, i.id LIMIT ?
                """,
                since.sqlValue, limit.sqlValue
            ).map { row in
                DigestVoteCount(
                    url: try row["url"], recent: try row["recent"], digestVotes: try row["digestVotes"],
                    votes: try row["votes"])
            }
        }
    }

    /// The item printed as number `number` in the digest `subscriberID` received of `edition` (`kind` nil:
    /// whichever edition of that date they received; a reader gets at most one a day), as that edition froze
    /// it. Numbers are the ones beside the items in the mail: 1-based, counted across the sections in the
    /// order the digest lists them (`DigestView`), so two readers of one edition may have different items
    /// under one number; the ledger (`deliveries.itemIDs`, in that order) is where each reader's are read.
    /// Nil when that reader was sent no such digest or it has no such number.
    ///
    /// Reply commands (`+3`, `vote 3 7`) turn numbers into items through this.
    public func digestItem(number: Int, date: Day, kind: EditionKind?, subscriberID: Int64) throws -> EditionItem? {
        guard number >= 1 else { return nil }
        return try database.read { db in
            var values = [subscriberID.sqlValue, date.sqlValue]
            if let kind { values.append(kind.sqlValue) }
            guard
                let delivery = try db.fetchOne(
                    """
                    SELECT d.editionID, d.itemIDs FROM deliveries d JOIN editions e ON e.id = d.editionID
                    WHERE d.subscriberID = ? AND e.date = ?\(kind == nil ? "" : " AND e.kind = ?") AND d.status = 'sent'
                    ORDER BY d.sentAt DESC LIMIT 1
                    """,
                    values)
            else { return nil }
            let itemIDs = (try delivery["itemIDs"] as String).split(separator: ",").compactMap { Int64($0) }
            guard number <= itemIDs.count else { return nil }
            return try db.fetchOne(
                "SELECT itemID, \(ItemFields.columns) FROM edition_items WHERE editionID = ? AND itemID = ?",
                (try delivery["editionID"] as Int64).sqlValue, itemIDs[number - 1].sqlValue
            ).map { row in EditionItem(itemID: try row["itemID"], try ItemFields.read(row)) }
        }
    }
}

/// An item deleted between the check and the count of a vote, inside one transaction: cannot happen while
/// the transaction holds; thrown rather than counted wrong.
struct VoteItemVanished: Error, CustomStringConvertible {
    var itemID: Int64
    var description: String { "item \(itemID) vanished while a vote for it was counted" }
}
