import Foundation

/// The frozen selection of one day and kind (the day's, the week's or the month's best, or a catch-up):
/// every send of it (other time zones, retries, crash recovery) uses exactly these ranked candidates,
/// whatever happens to the items afterwards.
public struct Edition: Sendable, Equatable {
    /// nil until the edition is stored (a preview of a day not yet frozen).
    public var id: Int64?
    public var date: Day
    public var kind: EditionKind
    public var windowStart: Date
    public var cutoff: Date
    /// Every candidate, in rank order within each kind.
    public var candidates: [EditionItem]

    public init(
        id: Int64?, date: Day, kind: EditionKind = .daily, windowStart: Date, cutoff: Date, candidates: [EditionItem]
    ) {
        self.id = id
        self.date = date
        self.kind = kind
        self.windowStart = windowStart
        self.cutoff = cutoff
        self.candidates = candidates
    }

    /// Candidates of one kind, best first.
    public func candidates(of kind: ItemKind) -> [EditionItem] { candidates.filter { $0.kind == kind } }
}

/// A copy of an item as it stood when its edition was frozen.
public struct EditionItem: Sendable, Equatable, Hashable, ItemContent {
    public var itemID: Int64
    public var kind: ItemKind
    public var title: String
    public var url: String
    public var summary: String
    public var author: String?
    public var imageURL: String?
    public var publishedAt: Date
    public var votes: Int

    public init(_ item: Item) {
        self.init(itemID: item.id ?? 0, item)
    }

    /// An item's content as frozen under `itemID`.
    init(itemID: Int64, _ content: some ItemContent) {
        self.init(
            itemID: itemID, kind: content.kind, title: content.title, url: content.url, summary: content.summary,
            author: content.author, imageURL: content.imageURL, publishedAt: content.publishedAt, votes: content.votes)
    }

    public init(
        itemID: Int64, kind: ItemKind, title: String, url: String, summary: String, author: String?, imageURL: String?,
        publishedAt: Date, votes: Int
    ) {
        self.itemID = itemID
        self.kind = kind
        self.title = title
        self.url = url
        self.summary = summary
        self.author = author
        self.imageURL = imageURL
        self.publishedAt = publishedAt
        self.votes = votes
    }
}

extension EditionItem {
    /// Words of the title and the summary: what "about N minutes" of reading counts.
    var words: Int {
        func count(_ text: String) -> Int { text.split(whereSeparator: { $0.isWhitespace }).count }
        return count(title) + count(summary)
    }
}

/// What one reader gets from an edition: their sections, each filled from the candidates.
public struct DigestSelection: Sendable, Equatable, Hashable {
    public struct Section: Sendable, Equatable, Hashable {
        public var kind: ItemKind
        public var title: String
        public var items: [EditionItem]
    }

    public var sections: [Section]

    public var isEmpty: Bool { sections.allSatisfy { $0.items.isEmpty } }
    public var itemIDs: [Int64] { sections.flatMap { $0.items.map(\.itemID) } }
}
