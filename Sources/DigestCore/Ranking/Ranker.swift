import Foundation

/// Picks and orders the items of a day, and each reader's share of them.
///
/// Order: most votes first; ties by newer `publishedAt`, then lower id. Deterministic: the same
/// data always gives the same edition.
public struct Ranker: Sendable {
    public let digest: Configuration.Digest
    public let timeZone: TimeZone

    /// How many candidates per section an edition keeps beyond the section's count, so readers
    /// who already received some items can be backfilled from lower-ranked ones.
    public static let backfillFactor = 4

    public init(digest: Configuration.Digest, timeZone: TimeZone) {
        self.digest = digest
        self.timeZone = timeZone
    }

    /// The instant edition `date` closes: `digest.sendHour` on that day in the site's time zone.
    public func cutoff(for date: Day) -> Date { date.instant(hour: digest.sendHour, in: timeZone) }

    /// Items published in [cutoff − windowHours, cutoff) count for edition `date`.
    public func window(for date: Day) -> Range<Date> {
        let cutoff = cutoff(for: date)
        return cutoff.addingTimeInterval(-Double(digest.windowHours) * 3600)..<cutoff
    }

    /// Ranks the stored items of `date`'s window into an (unsaved) edition. The store fetches, per kind,
    /// only the best items `rank(date:items:)` can keep (in its order, at least `minVotes`, as many as the
    /// largest section of that kind takes): decoding every item of the window (~2,700 a day in the
    /// benchmark) made ranking 8× slower than sorting them in SQL.
    public func rank(date: Day, store: Store) throws -> Edition {
        let window = window(for: date)
        var byKind: [ItemKind: [Item]] = [:]
        for kind in Set(digest.sections.map(\.kind)) {
            let keep = digest.sections.filter { $0.kind == kind }.map { $0.count * Self.backfillFactor }.max() ?? 0
            byKind[kind] = try store.bestItems(kind: kind, in: window, minVotes: digest.minVotes, limit: keep)
        }
        return rank(date: date, items: byKind)
    }

    /// Ranks `items` (each kind's items of the window) into an (unsaved) edition: for each section, the
    /// items with at least `minVotes`, best first, as many as the section shows times `backfillFactor`.
    public func rank(date: Day, items: [ItemKind: [Item]]) -> Edition {
        let window = window(for: date)
        var candidates: [EditionItem] = []
        for section in digest.sections {
            let ranked = (items[section.kind] ?? [])
                .filter { $0.kind == section.kind && window.contains($0.publishedAt) && $0.votes >= digest.minVotes }
                .sorted(by: Self.ranksBefore)
                .prefix(section.count * Self.backfillFactor)
            candidates += ranked.map(EditionItem.init)
        }
        return Edition(id: nil, date: date, windowStart: window.lowerBound, cutoff: window.upperBound, candidates: candidates)
    }

    /// The order of the class comment: votes, then newer, then lower id (`Store.bestItems` sorts the same).
    static func ranksBefore(_ a: Item, _ b: Item) -> Bool {
        if a.votes != b.votes { return a.votes > b.votes }
        if a.publishedAt != b.publishedAt { return a.publishedAt > b.publishedAt }
        return (a.id ?? .max) < (b.id ?? .max)
    }

    /// The edition of `date`: the frozen one if it exists, else ranked now and, when `freeze`
    /// is true, stored so every later send of the day uses the same candidates.
    public func edition(for date: Day, store: Store, freeze: Bool, now: Date = Date()) throws -> Edition {
        if let frozen = try store.edition(date: date) { return frozen }
        let edition = try rank(date: date, store: store)
        return freeze ? try store.freeze(edition, now: now) : edition
    }

    /// One reader's digest: the sections they want, in configured order, each filled with the
    /// best candidates they have not received before (lower-ranked ones fill the gaps).
    public func select(from edition: Edition, wants: (ItemKind) -> Bool, alreadyReceived: Set<Int64>) -> DigestSelection {
        var sections: [DigestSelection.Section] = []
        for section in digest.sections where wants(section.kind) {
            let items = edition.candidates
                .lazy
                .filter { $0.kind == section.kind && !alreadyReceived.contains($0.itemID) }
                .prefix(section.count)
            sections.append(.init(kind: section.kind, title: section.title, items: Array(items)))
        }
        return DigestSelection(sections: sections)
    }
}
