import Foundation

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
        try database.read { db in
            guard
                let row = try db.fetchOne(
                    "SELECT url, etag, lastModified, fetchedAt FROM feed_state WHERE url = ?", .text(url))
            else { return nil }
            return FeedState(
                url: try row["url"], etag: try row["etag"], lastModified: try row["lastModified"],
                fetchedAt: try row["fetchedAt"])
        }
    }

    /// Remembers the validators of a fetch whose items were stored.
    public func saveFeedState(_ state: FeedState) throws {
        try database.write { db in
            try db.execute(
                """
                    INSERT INTO feed_state (url, etag, lastModified, fetchedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT(url) DO UPDATE SET
                        etag = excluded.etag, lastModified = excluded.lastModified, fetchedAt = excluded.fetchedAt
                    """,
                .text(state.url), state.etag.sqlValue, state.lastModified.sqlValue, state.fetchedAt.sqlValue)
        }
    }

    /// Forgets the validators of `url`, so that the next fetch downloads the whole feed.
    public func removeFeedState(url: String) throws {
        try database.write { db in try db.execute("DELETE FROM feed_state WHERE url = ?", .text(url)) }
    }
}
