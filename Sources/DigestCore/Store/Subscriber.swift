import Foundation
import GRDB

/// A reader's place in the subscription life cycle.
public enum SubscriberStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// Signed up, confirmation not yet clicked.
    case pending
    case active
    case unsubscribed
    /// Too many hard bounces; no more mail until re-subscribed.
    case bounced
}

/// The format a reader asked for. `html` mail still carries the plain-text alternative.
public enum DigestFormat: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case html
    case text
}

public struct Subscriber: Sendable, Equatable, Codable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "subscribers"

    public var id: Int64?
    public var email: EmailAddress
    public var name: String?
    public var status: SubscriberStatus
    /// Item kinds the reader wants, or empty for every section.
    public var sections: [ItemKind]
    public var format: DigestFormat
    /// IANA identifier; nil means the site's time zone.
    public var timeZone: String?
    /// Local hour 0–23; nil means `digest.sendHour`.
    public var deliveryHour: Int?
    public var createdAt: Date
    public var confirmedAt: Date?
    public var unsubscribedAt: Date?
    public var bounceCount: Int
    /// When the last confirmation mail was queued, so repeated sign-ups cannot flood an inbox.
    public var lastConfirmationAt: Date?

    public init(
        id: Int64? = nil, email: EmailAddress, name: String? = nil, status: SubscriberStatus = .pending,
        sections: [ItemKind] = [], format: DigestFormat = .html, timeZone: String? = nil, deliveryHour: Int? = nil,
        createdAt: Date = Date(), confirmedAt: Date? = nil, unsubscribedAt: Date? = nil, bounceCount: Int = 0,
        lastConfirmationAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.status = status
        self.sections = sections
        self.format = format
        self.timeZone = timeZone
        self.deliveryHour = deliveryHour
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.unsubscribedAt = unsubscribedAt
        self.bounceCount = bounceCount
        self.lastConfirmationAt = lastConfirmationAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Whether the reader wants the section of `kind`.
    public func wants(_ kind: ItemKind) -> Bool { sections.isEmpty || sections.contains(kind) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, email, name, status, sections, format, timeZone, deliveryHour, createdAt, confirmedAt
        case unsubscribedAt, bounceCount, lastConfirmationAt
    }

    public init(row: Row) throws {
        id = row["id"]
        email = try EmailAddress(stored: row["email"] as String)
        name = row["name"]
        status = row["status"]
        sections = Self.decodeSections(row["sections"])
        format = row["format"]
        timeZone = row["timeZone"]
        deliveryHour = row["deliveryHour"]
        createdAt = row["createdAt"]
        confirmedAt = row["confirmedAt"]
        unsubscribedAt = row["unsubscribedAt"]
        bounceCount = row["bounceCount"]
        lastConfirmationAt = row["lastConfirmationAt"]
    }

    /// The columns `init(row:from:)` reads, in its order (qualified with `table.`).
    static func selectedColumns(_ table: String) -> String {
        [
            "id", "email", "name", "status", "sections", "format", "timeZone", "deliveryHour", "createdAt",
            "confirmedAt", "unsubscribedAt", "bounceCount", "lastConfirmationAt",
        ].map { "\(table).\($0)" }.joined(separator: ", ")
    }

    /// Decodes `selectedColumns` starting at column `first`: by position, for the claims of a send
    /// (looking every column up by name cost more than the rest of decoding).
    init(row: Row, from first: Int) throws {
        id = row[first]
        email = try EmailAddress(stored: row[first + 1] as String)
        name = row[first + 2]
        status = row[first + 3]
        sections = Self.decodeSections(row[first + 4])
        format = row[first + 5]
        timeZone = row[first + 6]
        deliveryHour = row[first + 7]
        createdAt = row[first + 8]
        confirmedAt = row[first + 9]
        unsubscribedAt = row[first + 10]
        bounceCount = row[first + 11]
        lastConfirmationAt = row[first + 12]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["email"] = email.description
        container["name"] = name
        container["status"] = status
        container["sections"] = sections.map(\.rawValue).joined(separator: ",")
        container["format"] = format
        container["timeZone"] = timeZone
        container["deliveryHour"] = deliveryHour
        container["createdAt"] = createdAt
        container["confirmedAt"] = confirmedAt
        container["unsubscribedAt"] = unsubscribedAt
        container["bounceCount"] = bounceCount
        container["lastConfirmationAt"] = lastConfirmationAt
    }

    static func decodeSections(_ text: String?) -> [ItemKind] {
        (text ?? "").split(separator: ",").compactMap { ItemKind(rawValue: String($0)) }
    }
}
