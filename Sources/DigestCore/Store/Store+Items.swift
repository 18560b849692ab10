import Foundation

/// What an import changed.
public struct UpsertCounts: Sendable, Equatable {
    public var inserted = 0
    public var updated = 0
    public init(inserted: Int = 0, updated: Int = 0) {
        self.inserted = inserted
        self.updated = updated
    }
}

extension Store {
    /// Inserts new items and updates existing ones (matched by url) in one transaction.
    ///
    /// Feeds pass two exceptions: with `keepVotes` an existing item keeps its votes (the feed carries
    /// none; votes may come from the items API), and items whose url is in `undated` keep their
    /// publication time (the entry had no date: the fetch time would make it look new on every fetch).
    @discardableResult
    public func upsert(_ drafts: [ItemDraft], keepVotes: Bool = false, undated: Set<String> = [], now: Date = Date())
        throws -> UpsertCounts
    {
        try database.write { db in
            var counts = UpsertCounts()
            let upsert = """
                INSERT INTO items (\(ItemFields.columns), updatedAt) VALUES (\(sqlPlaceholders(ItemFields.count + 1)))
                ON CONFLICT(url) DO UPDATE SET
                    kind = excluded.kind, title = excluded.title, summary = excluded.summary,
                    author = excluded.author, imageURL = coalesce(excluded.imageURL, items.imageURL),
                    publishedAt = CASE WHEN ? = 1 THEN items.publishedAt ELSE excluded.publishedAt END,
                    votes = CASE WHEN ? = 1 THEN items.votes ELSE excluded.votes END,
                    updatedAt = excluded.updatedAt
                """
            for draft in drafts {
                if try db.fetchOne("SELECT 1 FROM items WHERE url = ?", .text(draft.url)) != nil {
                    counts.updated += 1
                } else {
                    counts.inserted += 1
                }
                try db.execute(
                    upsert,
                    ItemFields.values(draft) + [now.sqlValue, undated.contains(draft.url).sqlValue, keepVotes.sqlValue])
            }
            return counts
        }
    }

    /// Items published at or after `since` (all when nil), newest first.
    public func items(since: Date? = nil, limit: Int = 10_000) throws -> [Item] {
        try database.read { db in
            try db.fetchAll(
                "SELECT \(Item.columns) FROM items WHERE publishedAt >= ? ORDER BY publishedAt DESC, id DESC LIMIT ?",
                (since ?? .distantPast).sqlValue, limit.sqlValue
            ).map { try Item(row: $0) }
        }
    }

    /// The `limit` best items of `kind` published in `window` scoring at least `minVotes`, in `Ranker`'s order
    /// (score, then newer, then lower id; the score is the site's votes plus the digest votes at
    /// `digestVoteWeight`, as `Ranker.score` adds them): the candidates it ranks.
    public func bestItems(kind: ItemKind, in window: Range<Date>, minVotes: Int, digestVoteWeight: Double, limit: Int)
        throws -> [Item]
    {
        try bestItems(
            kind: kind, in: window, minVotes: minVotes, digestVoteWeight: digestVoteWeight, matching: nil, limit: limit)
    }

    /// `bestItems` whose title or url contains `text`, whatever its case, for the admin's items page;
    /// all of the window's when `text` is nil or empty.
    public func bestItems(
        kind: ItemKind, in window: Range<Date>, minVotes: Int = 0, digestVoteWeight: Double, matching text: String?,
        limit: Int
    ) throws -> [Item] {
        try database.read { db in
            let weight = SQLValue.real(digestVoteWeight)
            var values = [
                weight, kind.sqlValue, window.lowerBound.sqlValue, window.upperBound.sqlValue, weight, minVotes.sqlValue,
            ]
            var filter = ""
            if let text, !text.isEmpty {
                let pattern = SQLValue.text("%" + Self.likeEscaped(text.lowercased()) + "%")
                filter = " AND (\(Self.lowered("title", db.dialect)) LIKE ? ESCAPE '\\' OR \(Self.lowered("url", db.dialect)) LIKE ? ESCAPE '\\')"
                values += [pattern, pattern]
            }
            // The score is computed as `Ranker.score` computes it (one multiplication, one addition in
            // double precision), so both orders agree to the last bit.
            return try db.fetchAll(
                """
                SELECT \(Item.columns), votes + ? * digestVotes AS score FROM items
                WHERE kind = ? AND publishedAt >= ? AND publishedAt < ? AND votes + ? * digestVotes >= ?\(filter)
                ORDER BY score DESC, publishedAt DESC, id LIMIT ?
                """,
                values + [limit.sqlValue]
            ).map { try Item(row: $0) }
        }
    }

    public func item(url: String) throws -> Item? {
        try database.read { db in
            try db.fetchOne("SELECT \(Item.columns) FROM items WHERE url = ?", .text(url)).map { try Item(row: $0) }
        }
    }

    /// Deletes the item at `url` (with `audit`, in one transaction); editions already frozen keep their copy.
    /// False when there is none.
    public func removeItem(url: String, audit: AuditEntry? = nil) throws -> Bool {
        try database.write { db in
            guard try db.execute("DELETE FROM items WHERE url = ?", .text(url)) > 0 else { return false }
            if let audit { try Self.insertAudit(audit, in: db) }
            return true
        }
    }

    public func itemCount() throws -> Int {
        try database.read { db in try db.fetchValue("SELECT count(*) FROM items") ?? 0 }
    }
}
