import Foundation

/// Items in the JSON item format, as `items list --json` and `GET /api/items` write them.
/// The output can be imported again as is.
public enum ItemJSON {
    struct Record: Encodable {
        var kind: String
        var title: String
        var url: String
        var summary: String
        var author: String?
        var publishedAt: String
        var votes: Int
        /// Votes from the digests' vote links: counted by this server, never imported (an import reads the key
        /// and leaves the count as it is).
        var digestVotes: Int
        var imageURL: String?

        init(_ item: Item) {
            kind = item.kind.rawValue
            title = item.title
            url = item.url
            summary = item.summary
            author = item.author
            publishedAt = DateParsing.iso8601String(item.publishedAt)
            votes = item.votes
            digestVotes = item.digestVotes
            imageURL = item.imageURL
        }
    }

    /// A pretty-printed JSON array with sorted keys.
    public static func encode(_ items: [Item]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(items.map(Record.init))
    }
}
