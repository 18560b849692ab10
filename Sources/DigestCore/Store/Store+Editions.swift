import Foundation
import GRDB

extension Store {
    /// Items of `kind` published in `window` with at least `minVotes`, best first:
    /// votes, then newer, then lower id.
    public func rankedItems(kind: ItemKind, window: Range<Date>, minVotes: Int, limit: Int) throws -> [Item] {
        try pool.read { db in
            try Item.fetchAll(
                db,
                sql: """
                    SELECT * FROM items
                    WHERE kind = ? AND publishedAt >= ? AND publishedAt < ? AND votes >= ?
                    ORDER BY votes DESC, publishedAt DESC, id ASC
                    LIMIT ?
                    """,
                arguments: [kind, window.lowerBound, window.upperBound, minVotes, limit])
        }
    }

    /// The frozen edition of `date`, if one was stored.
    public func edition(date: Day) throws -> Edition? {
        try pool.read { db in try Self.fetchEdition(db, date: date) }
    }

    /// Stores `edition` unless the day is already frozen; either way returns the stored one.
    /// Two runs racing here end up with the same edition (UNIQUE date, first one wins).
    public func freeze(_ edition: Edition, now: Date) throws -> Edition {
        try pool.write { db in
            if let existing = try Self.fetchEdition(db, date: edition.date) { return existing }
            try db.execute(
                sql: "INSERT INTO editions (date, windowStart, cutoff, createdAt) VALUES (?, ?, ?, ?)",
                arguments: [edition.date.description, edition.windowStart, edition.cutoff, now])
            let id = db.lastInsertedRowID
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO edition_items (editionID, position, itemID, kind, title, url, summary, author,
                                               imageURL, publishedAt, votes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for (position, item) in edition.candidates.enumerated() {
                try insert.execute(arguments: [
                    id, position, item.itemID, item.kind, item.title, item.url, item.summary, item.author, item.imageURL,
                    item.publishedAt, item.votes,
                ])
            }
            var stored = edition
            stored.id = id
            return stored
        }
    }

    static func fetchEdition(_ db: Database, date: Day) throws -> Edition? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM editions WHERE date = ?", arguments: [date.description])
        else { return nil }
        let id: Int64 = row["id"]
        let items = try Row.fetchAll(
            db, sql: "SELECT * FROM edition_items WHERE editionID = ? ORDER BY position", arguments: [id]
        ).map { row in
            EditionItem(
                itemID: row["itemID"], kind: row["kind"], title: row["title"], url: row["url"], summary: row["summary"],
                author: row["author"], imageURL: row["imageURL"], publishedAt: row["publishedAt"], votes: row["votes"])
        }
        return Edition(id: id, date: date, windowStart: row["windowStart"], cutoff: row["cutoff"], candidates: items)
    }

    /// Items a reader was sent in editions before `date` and on or after `since`.
    public func receivedItemIDs(subscriberID: Int64, before date: Day, since: Day) throws -> Set<Int64> {
        try pool.read { db in
            let lists = try String.fetchAll(
                db,
                sql: """
                    SELECT d.itemIDs FROM deliveries d JOIN editions e ON e.id = d.editionID
                    WHERE d.subscriberID = ? AND d.status = 'sent' AND e.date < ? AND e.date >= ?
                    """,
                arguments: [subscriberID, date.description, since.description])
            return Set(lists.flatMap { $0.split(separator: ",").compactMap { Int64($0) } })
        }
    }

    /// `receivedItemIDs` for many readers in one query (a claimed batch): readers who received
    /// nothing in the window are absent from the result.
    public func receivedItemIDs(subscriberIDs: [Int64], before date: Day, since: Day) throws -> [Int64: Set<Int64>] {
        guard !subscriberIDs.isEmpty else { return [:] }
        return try pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT d.subscriberID, d.itemIDs FROM deliveries d JOIN editions e ON e.id = d.editionID
                    WHERE d.subscriberID IN (\(subscriberIDs.map { _ in "?" }.joined(separator: ",")))
                      AND d.status = 'sent' AND e.date < ? AND e.date >= ?
                    """,
                arguments: StatementArguments(subscriberIDs) + [date.description, since.description])
            var received: [Int64: Set<Int64>] = [:]
            while let row = try rows.next() {
                let itemIDs: String = row[1]
                received[row[0], default: []].formUnion(itemIDs.split(separator: ",").compactMap { Int64($0) })
            }
            return received
        }
    }
}
