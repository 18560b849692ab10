import Foundation

/// What an item is; each kind fills its own digest section.
public enum ItemKind: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    case story
    case post
}

/// The eight fields a stored item, an import's draft and an edition's frozen copy share, with their one
/// column list (`ItemFields`): the SQL that writes or reads them names the columns in this order.
public protocol ItemContent {
    var kind: ItemKind { get }
    var title: String { get }
    var url: String { get }
    var summary: String { get }
    var author: String? { get }
    var imageURL: String? { get }
    var publishedAt: Date { get }
    var votes: Int { get }
}

/// The columns of `ItemContent`, in order, for `items` and `edition_items`.
enum ItemFields {
    static let names = ["kind", "title", "url", "summary", "author", "imageURL", "publishedAt", "votes"]
    static let columns = names.joined(separator: ", ")
    static var count: Int { names.count }

    /// The bound values of `content`, in column order.
    static func values(_ content: some ItemContent) -> [SQLValue] {
        [
            content.kind.sqlValue, .text(content.title), .text(content.url), .text(content.summary),
            content.author.sqlValue, content.imageURL.sqlValue, content.publishedAt.sqlValue, content.votes.sqlValue,
        ]
    }

    /// Reads the eight columns by name.
    static func read(_ row: SQLRow) throws -> ItemDraft {
        ItemDraft(
            stored: try row["kind"], title: try row["title"], url: try row["url"], summary: try row["summary"],
            author: try row["author"], imageURL: try row["imageURL"], publishedAt: try row["publishedAt"],
            votes: try row["votes"])
    }
}

/// A story or blog post with its reader votes. `url` is the natural key: importing the same
/// url again updates the row.
public struct Item: Sendable, Equatable, Codable, ItemContent {
    public var id: Int64?
    public var kind: ItemKind
    public var title: String
    public var url: String
    public var summary: String
    public var author: String?
    public var imageURL: String?
    public var publishedAt: Date
    public var votes: Int
    /// Votes cast from digests' vote links (`Store.recordDigestVote`), counted apart from the site's `votes`:
    /// the site sets those, the server counts these. The ranking adds them at `digest.digestVoteWeight`.
    public var digestVotes: Int
    public var updatedAt: Date

    public init(
        id: Int64? = nil, kind: ItemKind, title: String, url: String, summary: String = "", author: String? = nil,
        imageURL: String? = nil, publishedAt: Date, votes: Int, digestVotes: Int = 0, updatedAt: Date = Date()
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.url = url
        self.summary = summary
        self.author = author
        self.imageURL = imageURL
        self.publishedAt = publishedAt
        self.votes = votes
        self.digestVotes = digestVotes
        self.updatedAt = updatedAt
    }

    /// `id`, the content columns, `digestVotes`, `updatedAt`: what `init(row:)` reads.
    static let columns = "id, \(ItemFields.columns), digestVotes, updatedAt"

    init(row: SQLRow) throws {
        let content = try ItemFields.read(row)
        self.init(
            id: try row["id"], kind: content.kind, title: content.title, url: content.url, summary: content.summary,
            author: content.author, imageURL: content.imageURL, publishedAt: content.publishedAt, votes: content.votes,
            digestVotes: try row["digestVotes"], updatedAt: try row["updatedAt"])
    }
}
