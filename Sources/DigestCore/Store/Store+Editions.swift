import Foundation

extension Store {
    /// The frozen edition of `date` and `kind`, if one was stored.
    public func edition(date: Day, kind: EditionKind = .daily) throws -> Edition? {
        try database.read { db in try Self.fetchEdition(db, date: date, kind: kind) }
    }

    /// The kinds of the editions stored for `date`, daily first.
    public func editionKinds(date: Day) throws -> [EditionKind] {
        let kinds: [EditionKind] = try database.read { db in
            try db.fetchColumn("SELECT kind FROM editions WHERE date = ?", date.sqlValue)
        }
        return EditionKind.allCases.filter(kinds.contains)
    }

    /// Stores `edition` unless its day and kind are already frozen; either way returns the stored one. Two runs
    /// racing here (two senders started by cron on two machines) end up with the same edition: (date, kind)
    /// is UNIQUE, the second insert waits for the first to commit and then inserts nothing.
    public func freeze(_ edition: Edition, now: Date) throws -> Edition {
        try database.write { db in
            guard
                let id: Int64 = try db.fetchValue(
                    """
                    INSERT INTO editions (date, kind, windowStart, cutoff, createdAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (date, kind) DO NOTHING RETURNING id
                    """,
                    edition.date.sqlValue, edition.kind.sqlValue, edition.windowStart.sqlValue, edition.cutoff.sqlValue,
                    now.sqlValue)
            else {
                guard let existing = try Self.fetchEdition(db, date: edition.date, kind: edition.kind) else {
                    throw StoreError(path: path, underlying: EditionRaceError(date: edition.date))
                }
                return existing
            }
            let insert = """
                INSERT INTO edition_items (editionID, position, itemID, \(ItemFields.columns))
                VALUES (\(sqlPlaceholders(3 + ItemFields.count)))
                """
            for (position, item) in edition.candidates.enumerated() {
                try db.execute(insert, [id.sqlValue, position.sqlValue, item.itemID.sqlValue] + ItemFields.values(item))
            }
            var stored = edition
            stored.id = id
            return stored
        }
    }

    /// Editions closed by `now` (their cut-off passed), newest first, a page at a time, with their first
    /// `titles` candidates' titles (their best stories): the archive's list. And how many there are. Catch-up
    /// editions are left out: each reader's share of one is cut to what they missed, so it has no page.
    public func pastEditions(now: Date, limit: Int, offset: Int, titles: Int = 3) throws -> (editions: [PastEdition], total: Int) {
        try database.read { db in
            let published = "cutoff <= ? AND kind <> 'catch-up'"
            let total: Int = try db.fetchValue("SELECT count(*) FROM editions WHERE \(published)", now.sqlValue) ?? 0
            let rows = try db.fetchAll(
                """
                SELECT id, date, kind, cutoff FROM editions WHERE \(published)
                ORDER BY date DESC, kind LIMIT ? OFFSET ?
                """,
                now.sqlValue, limit.sqlValue, offset.sqlValue)
            let editions = try rows.map { row -> PastEdition in
                let id: Int64 = try row["id"]
                let top: [String] = try db.fetchColumn(
                    "SELECT title FROM edition_items WHERE editionID = ? ORDER BY position LIMIT ?", id.sqlValue,
                    titles.sqlValue)
                return PastEdition(date: try row["date"], kind: try row["kind"], cutoff: try row["cutoff"], topTitles: top)
            }
            return (editions, total)
        }
    }

    static func fetchEdition(_ db: any SQLConnection, date: Day, kind: EditionKind = .daily) throws -> Edition? {
        guard
            let row = try db.fetchOne(
                "SELECT id, windowStart, cutoff FROM editions WHERE date = ? AND kind = ?", date.sqlValue, kind.sqlValue)
        else { return nil }
        let id: Int64 = try row["id"]
        let items = try db.fetchAll(
            "SELECT itemID, \(ItemFields.columns) FROM edition_items WHERE editionID = ? ORDER BY position", id.sqlValue
        ).map { row in EditionItem(itemID: try row["itemID"], try ItemFields.read(row)) }
        return Edition(
            id: id, date: date, kind: kind, windowStart: try row["windowStart"], cutoff: try row["cutoff"],
            candidates: items)
    }

    /// Items a reader was sent in editions before `date` and on or after `since`.
    public func receivedItemIDs(subscriberID: Int64, before date: Day, since: Day) throws -> Set<Int64> {
        try receivedItemIDs(subscriberIDs: [subscriberID], before: date, since: since)[subscriberID] ?? []
    }

    /// `receivedItemIDs` for many readers in one query (a claimed batch): readers who received
    /// nothing in the window are absent from the result.
    public func receivedItemIDs(subscriberIDs: [Int64], before date: Day, since: Day) throws -> [Int64: Set<Int64>] {
        guard !subscriberIDs.isEmpty else { return [:] }
        return try database.readStatement { db in
            let rows = try db.fetchAll(
                """
                SELECT d.subscriberID, d.itemIDs FROM deliveries d JOIN editions e ON e.id = d.editionID
                WHERE d.subscriberID IN (\(sqlPlaceholders(subscriberIDs.count)))
                  AND d.status = 'sent' AND e.date < ? AND e.date >= ?
                """,
                subscriberIDs.map(\.sqlValue) + [.text(date.description), .text(since.description)])
            var received: [Int64: Set<Int64>] = [:]
            for row in rows {
                let itemIDs: String = try row["itemIDs"]
                received[try row["subscriberID"], default: []]
                    .formUnion(itemIDs.split(separator: ",").compactMap { Int64($0) })
            }
            return received
        }
    }
}

/// An edition that another run was inserting vanished before it could be read (it rolled back).
struct EditionRaceError: Error, CustomStringConvertible {
    var date: Day
    var description: String { "the edition of \(date) was being frozen by another run, which gave up; run again" }
}

/// One line of the archive's list: an edition's date, when it closed, and its first titles.
public struct PastEdition: Sendable, Equatable {
    public var date: Day
    public var kind: EditionKind
    public var cutoff: Date
    public var topTitles: [String]
}
