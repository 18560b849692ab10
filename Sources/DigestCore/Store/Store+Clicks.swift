import Foundation

/// Where clicks are tallied: an item of an edition, and the reader only with `privacy.clickCounting: perReader`.
public struct ClickKey: Sendable, Hashable {
    public var editionID: Int64
    public var itemID: Int64
    public var subscriberID: Int64?

    public init(editionID: Int64, itemID: Int64, subscriberID: Int64? = nil) {
        self.editionID = editionID
        self.itemID = itemID
        self.subscriberID = subscriberID
    }
}

/// One reader's clicks on one item of an edition (`perReader` only).
public struct ReaderClicks: Sendable, Equatable {
    public var itemID: Int64
    public var subscriberID: Int64
    public var count: Int
}

extension Store {
    /// The URL of each item of edition `editionID`, by item id: the only places its click links lead to.
    /// Empty when no such edition was frozen. A frozen edition never changes, so callers may keep this.
    public func clickTargets(editionID: Int64) throws -> [Int64: String] {
        try database.read { db in
            var targets: [Int64: String] = [:]
            for row in try db.fetchAll("SELECT itemID, url FROM edition_items WHERE editionID = ?", editionID.sqlValue) {
                targets[try row["itemID"]] = try row["url"]
            }
            return targets
        }
    }

    /// Adds `counts` to the stored clicks in one transaction: each to its (edition, item), and those with a
    /// reader to their (edition, item, reader) too. A reader erased meanwhile counts for the item alone.
    public func recordClicks(_ counts: [ClickKey: Int]) throws {
        guard !counts.isEmpty else { return }
        try database.write { db in
            var perItem: [ClickKey: Int] = [:]
            for (key, count) in counts { perItem[ClickKey(editionID: key.editionID, itemID: key.itemID), default: 0] += count }
            for (key, count) in perItem {
                try db.execute(
                    """
                    INSERT INTO clicks (editionID, itemID, count) VALUES (?, ?, ?)
                    ON CONFLICT (editionID, itemID) DO UPDATE SET count = clicks.count + excluded.count
                    """, key.editionID.sqlValue, key.itemID.sqlValue, count.sqlValue)
            }
            for (key, count) in counts {
                guard let reader = key.subscriberID else { continue }
                try db.execute(
                    """
                    INSERT INTO reader_clicks (editionID, itemID, subscriberID, count)
                    SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), id, CAST(? AS BIGINT) FROM subscribers WHERE id = ?
                    ON CONFLICT (editionID, itemID, subscriberID) DO UPDATE SET count = reader_clicks.count + excluded.count
                    """, key.editionID.sqlValue, key.itemID.sqlValue, count.sqlValue, reader.sqlValue)
            }
        }
    }

    /// Clicks on each item of edition `editionID`, by item id (items nobody clicked are absent).
    public func clicks(editionID: Int64) throws -> [Int64: Int] {
        try database.read { db in try Self.clicks(db, editionID: editionID) }
    }

    static func clicks(_ db: any SQLConnection, editionID: Int64) throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for row in try db.fetchAll("SELECT itemID, count FROM clicks WHERE editionID = ?", editionID.sqlValue) {
            counts[try row["itemID"]] = try row["count"]
        }
        return counts
    }

    /// The per-reader rows of edition `editionID` (only `perReader` writes them), by item then reader.
    public func readerClicks(editionID: Int64) throws -> [ReaderClicks] {
        try database.read { db in
            try db.fetchAll(
                "SELECT itemID, subscriberID, count FROM reader_clicks WHERE editionID = ? ORDER BY itemID, subscriberID",
                editionID.sqlValue
            ).map { ReaderClicks(itemID: try $0["itemID"], subscriberID: try $0["subscriberID"], count: try $0["count"]) }
        }
    }

    /// Reader `subscriberID`'s clicks (`perReader` only), oldest edition first: what their data download lists.
    func clicks(subscriberID: Int64) throws -> [ReaderDataExport.Click] {
        try database.read { db in
            try db.fetchAll(
                """
                SELECT e.date, e.kind, ei.title, ei.url, rc.count
                FROM reader_clicks rc JOIN editions e ON e.id = rc.editionID
                JOIN edition_items ei ON ei.editionID = rc.editionID AND ei.itemID = rc.itemID
                WHERE rc.subscriberID = ? ORDER BY e.date, e.kind, ei.position
                """, subscriberID.sqlValue
            ).map {
                ReaderDataExport.Click(
                    date: try $0["date"], kind: try $0["kind"], title: try $0["title"], url: try $0["url"],
                    count: try $0["count"])
            }
        }
    }

    /// Every click counted, over every edition (`digest_clicks_total`).
    static func totalClicks(_ db: any SQLConnection) throws -> Int {
        try db.fetchValue("SELECT \(total("count")) AS total FROM clicks") ?? 0
    }
}
