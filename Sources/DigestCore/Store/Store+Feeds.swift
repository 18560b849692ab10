import Foundation
import GRDB

/// What the last successful fetch of a feed left behind for the next conditional GET.
public struct FeedState: Sendable, Equatable {
    /// The feed URL as configured or given (not the URL a redirect led to).
    public var url: String
    public var etag: String?
    public var lastModified: String?
    public var fetchedAt: Date

    public init(url: String, etag: String? = nil, lastModified: String? = nil, fetchedAt: Date) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.fetchedAt = fetchedAt
    }
}

extension Store {
    /// The validators remembered for `url`, nil when it was never fetched.
    public func feedState(url: String) throws -> FeedState? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM feed_state WHERE url = ?", arguments: [url])
            else { return nil }
            return FeedState(
                url: row["url"], etag: row["etag"], lastModified: row["lastModified"], fetchedAt: row["fetchedAt"])
        }
    }

    /// Remembers the validators of a fetch whose items were stored.
    public func saveFeedState(_ state: FeedState) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO feed_state (url, etag, lastModified, fetchedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT(url) DO UPDATE SET
                        etag = excluded.etag, lastModified = excluded.lastModified, fetchedAt = excluded.fetchedAt
                    """,
                arguments: [state.url, state.etag, state.lastModified, state.fetchedAt])
        }
    }

    /// Forgets the validators of `url`, so that the next fetch downloads the whole feed.
    public func removeFeedState(url: String) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM feed_state WHERE url = ?", arguments: [url]) }
    }
}

extension Store {
    /// Upserts items read from a feed. Unlike `upsert(_:now:)`, an existing item keeps its votes when
    /// the feed carries none (`keepVotes`: votes may come from the items API), and keeps its publication
    /// time when the entry had no date (`undated`: the fetch time would make it look new on every fetch).
    @discardableResult
    public func upsertFeedItems(_ drafts: [ItemDraft], keepVotes: Bool, undated: Set<String>, now: Date = Date())
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
}
