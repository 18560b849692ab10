import Foundation

/// Picks and orders the items of a day, and each reader's share of them.
///
/// Order: highest `score` first (the site's votes plus the votes from digests at `digest.digestVoteWeight`);
/// ties by newer `publishedAt`, then lower id. Deterministic: the same data always gives the same edition.
/// Pure: the store hands it items with both counts, and it reads nothing else.
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

    /// Items published in [cutoff − windowHours, cutoff) count for the daily edition of `date`; longer kinds
    /// look back a week, a month or `EditionKind.catchUpDays` from the same cut-off.
    public func window(for date: Day, kind: EditionKind = .daily) -> Range<Date> {
        let cutoff = cutoff(for: date)
        let start = kind.windowStart(
            before: cutoff, date: date, windowHours: digest.windowHours, in: timeZone, sendHour: digest.sendHour)
        return min(start, cutoff)..<cutoff
    }

    /// How many candidates of a section an edition of `kind` keeps.
    func keep(_ section: Configuration.Section, kind: EditionKind) -> Int {
        section.count * Self.backfillFactor * kind.backfillMultiple
    }

    /// Ranks the stored items of the window of `date` and `kind` into an (unsaved) edition. The store fetches,
    /// per item kind, only the best items `rank(date:kind:items:)` can keep (in its order, at least `minVotes`,
    /// as many as the largest section of that kind takes): decoding every item of the window (~2,700 a day in
    /// the benchmark) made ranking 8× slower than sorting them in SQL.
    public func rank(date: Day, kind: EditionKind = .daily, store: Store) throws -> Edition {
        let window = window(for: date, kind: kind)
        var byKind: [ItemKind: [Item]] = [:]
        for itemKind in Set(digest.sections.map(\.kind)) {
            let keep = digest.sections.filter { $0.kind == itemKind }.map { self.keep($0, kind: kind) }.max() ?? 0
            byKind[itemKind] = try store.bestItems(
                kind: itemKind, in: window, minVotes: digest.minVotes, digestVoteWeight: digest.digestVoteWeight,
                limit: keep)
        }
        return rank(date: date, kind: kind, items: byKind)
    }

    /// Ranks `items` (each item kind's items of the window) into an (unsaved) edition: for each section, the
    /// items scoring at least `minVotes`, best first, as many as the section shows times `backfillFactor` (and the
    /// kind's `backfillMultiple`). The same pure ranking for every kind of edition; only the window differs.
    public func rank(date: Day, kind: EditionKind = .daily, items: [ItemKind: [Item]]) -> Edition {
        let window = window(for: date, kind: kind)
        var candidates: [EditionItem] = []
        for section in digest.sections {
            let ranked = (items[section.kind] ?? [])
                .filter {
                    $0.kind == section.kind && window.contains($0.publishedAt) && score($0) >= Double(digest.minVotes)
                }
                .sorted(by: ranksBefore)
                .prefix(keep(section, kind: kind))
            candidates += ranked.map(EditionItem.init)
        }
        return Edition(
            id: nil, date: date, kind: kind, windowStart: window.lowerBound, cutoff: window.upperBound,
            candidates: candidates)
    }

    /// What ranks an item: its site votes plus its digest votes at `digest.digestVoteWeight` (1 by default:
    /// a vote from a digest counts as a vote on the site). `Store.bestItems` computes the same in SQL.
    public func score(_ item: Item) -> Double {
        Double(item.votes) + digest.digestVoteWeight * Double(item.digestVotes)
    }

    /// The order of the class comment: score, then newer, then lower id (`Store.bestItems` sorts the same).
    func ranksBefore(_ a: Item, _ b: Item) -> Bool {
        let (scoreA, scoreB) = (score(a), score(b))
        if scoreA != scoreB { return scoreA > scoreB }
        if a.publishedAt != b.publishedAt { return a.publishedAt > b.publishedAt }
        return (a.id ?? .max) < (b.id ?? .max)
    }

    /// The edition of `date` and `kind`: the frozen one if it exists, else ranked now and, when `freeze`
    /// is true, stored so every later send of it uses the same candidates.
    public func edition(
        for date: Day, kind: EditionKind = .daily, store: Store, freeze: Bool, now: Date = Date()
    ) throws -> Edition {
        if let frozen = try store.edition(date: date, kind: kind) { return frozen }
        let edition = try rank(date: date, kind: kind, store: store)
        return freeze ? try store.freeze(edition, now: now) : edition
    }

    /// One reader's digest: the sections they want, in configured order, each filled with the best candidates
    /// they have not received before (lower-ranked ones fill the gaps), published at or after `since` when
    /// given (a catch-up holds only what came after the reader's last edition), as many as their `length`
    /// allows (`ReadingLength`): never fewer than one in a section that has any.
    public func select(
        from edition: Edition, wants: (ItemKind) -> Bool, alreadyReceived: Set<Int64>, length: ReadingLength = .site,
        since: Date? = nil
    ) -> DigestSelection {
        var sections: [DigestSelection.Section] = []
        for section in digest.sections where wants(section.kind) {
            let items = edition.candidates
                .lazy
                .filter { $0.kind == section.kind && !alreadyReceived.contains($0.itemID) }
                .filter { since == nil || $0.publishedAt >= since! }
                .prefix(length.limit(for: section.kind, siteCount: section.count))
            sections.append(.init(kind: section.kind, title: section.title, items: Array(items)))
        }
        if let minutes = length.minutes { Self.fit(&sections, words: minutes * ReadingLength.wordsPerMinute) }
        return DigestSelection(sections: sections)
    }

    /// Cuts `sections` to about `budget` words of titles and summaries: each section keeps its first item, then
    /// items are added by rank (every section's second, then every third, …) while they fit.
    static func fit(_ sections: inout [DigestSelection.Section], words budget: Int) {
        var kept = sections.map { min($0.items.count, 1) }
        var used = zip(sections, kept).reduce(0) { total, pair in total + pair.0.items.prefix(pair.1).map(\.words).reduce(0, +) }
        var rank = 1
        while sections.indices.contains(where: { sections[$0].items.count > rank }) {
            for index in sections.indices where sections[index].items.count > rank && kept[index] == rank {
                let words = sections[index].items[rank].words
                guard used + words <= budget else { continue }
                used += words
                kept[index] += 1
            }
            rank += 1
        }
        for index in sections.indices { sections[index].items = Array(sections[index].items.prefix(kept[index])) }
    }
}
