import Foundation
import GRDB

/// What an item is; each kind fills its own digest section.
public enum ItemKind: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case story
    case post
}

/// A story or blog post with its reader votes. `url` is the natural key: importing the same
/// url again updates the row.
public struct Item: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "items"

    public var id: Int64?
    public var kind: ItemKind
    public var title: String
    public var url: String
    public var summary: String
    public var author: String?
    public var imageURL: String?
    public var publishedAt: Date
    public var votes: Int
    public var updatedAt: Date

    public init(
        id: Int64? = nil, kind: ItemKind, title: String, url: String, summary: String = "", author: String? = nil,
        imageURL: String? = nil, publishedAt: Date, votes: Int, updatedAt: Date = Date()
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
        self.updatedAt = updatedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
