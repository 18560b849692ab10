import Foundation
import GRDB

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
        try pool.write { db in
            var counts = UpsertCounts()
            let exists = try db.makeStatement(sql: "SELECT 1 FROM items WHERE url = ?")
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO items (kind, title, url, summary, author, imageURL, publishedAt, votes, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(url) DO UPDATE SET
                        kind = excluded.kind, title = excluded.title, summary = excluded.summary,
                        author = excluded.author, imageURL = coalesce(excluded.imageURL, items.imageURL),
                        publishedAt = CASE WHEN ? THEN items.publishedAt ELSE excluded.publishedAt END,
                        votes = CASE WHEN ? THEN items.votes ELSE excluded.votes END,
                        updatedAt = excluded.updatedAt
                    """)
            for draft in drafts {
                if try Bool.fetchOne(exists, arguments: [draft.url]) == true {
                    counts.updated += 1
                } else {
                    counts.inserted += 1
                }
                try upsert.execute(arguments: [
                    draft.kind, draft.title, draft.url, draft.summary, draft.author, draft.imageURL, draft.publishedAt,
                    draft.votes, now, undated.contains(draft.url), keepVotes,
                ])
            }
            return counts
        }
    }

    /// Sets (or, with `add`, increases) the votes of the item at `url`; false when there is none.
    public func updateVotes(url: String, votes: Int, add: Bool = false, now: Date = Date()) throws -> Bool {
        try pool.write { db in
            let sql =
                add
                ? "UPDATE items SET votes = max(0, votes + ?), updatedAt = ? WHERE url = ?"
                : "UPDATE items SET votes = ?, updatedAt = ? WHERE url = ?"
            try db.execute(sql: sql, arguments: [votes, now, url])
            return db.changesCount > 0
        }
    }

    /// Items published at or after `since` (all when nil), newest first.
    public func items(since: Date? = nil, limit: Int = 10_000) throws -> [Item] {
        try pool.read { db in
            var request = Item.order(Column("publishedAt").desc, Column("id").desc).limit(limit)
            if let since { request = request.filter(Column("publishedAt") >= since) }
            return try request.fetchAll(db)
        }
    }

    public func item(url: String) throws -> Item? {
        try pool.read { db in try Item.filter(Column("url") == url).fetchOne(db) }
    }

    /// Deletes the item at `url`; editions already frozen keep their copy. False when there is none.
    public func removeItem(url: String) throws -> Bool {
        try pool.write { db in try Item.filter(Column("url") == url).deleteAll(db) > 0 }
    }

    public func itemCount() throws -> Int {
        try pool.read { db in try Item.fetchCount(db) }
    }
}
