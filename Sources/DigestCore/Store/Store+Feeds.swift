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
