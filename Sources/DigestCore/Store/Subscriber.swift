import Foundation

/// A reader's place in the subscription life cycle.
public enum SubscriberStatus: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    /// Signed up, confirmation not yet clicked.
    case pending
    case active
    case unsubscribed
    /// Too many hard bounces; no more mail until re-subscribed.
    case bounced
}

/// The format a reader asked for. `html` mail still carries the plain-text alternative.
public enum DigestFormat: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    case html
    case text
}

public struct Subscriber: Sendable, Equatable, Codable {
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

    /// Whether the reader wants the section of `kind`.
    public func wants(_ kind: ItemKind) -> Bool { sections.isEmpty || sections.contains(kind) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, email, name, status, sections, format, timeZone, deliveryHour, createdAt, confirmedAt
        case unsubscribedAt, bounceCount, lastConfirmationAt
    }

    /// Every column but `id`, in the one order `values` binds them and `init(row:from:)` reads them.
    static let fields = CodingKeys.allCases.dropFirst().map(\.rawValue)

    /// `id` and the fields, each prefixed with `table.` when given: what `init(row:from:)` reads.
    static func columns(_ table: String? = nil) -> String {
        (["id"] + fields).map { (table.map { "\($0)." } ?? "") + $0 }.joined(separator: ", ")
    }

    /// The fields' values, in `fields` order.
    var values: [SQLValue] {
        [
            .text(email.description), name.sqlValue, status.sqlValue, .text(sections.map(\.rawValue).joined(separator: ",")),
            format.sqlValue, timeZone.sqlValue, deliveryHour.sqlValue, createdAt.sqlValue, confirmedAt.sqlValue,
            unsubscribedAt.sqlValue, bounceCount.sqlValue, lastConfirmationAt.sqlValue,
        ]
    }

    /// Reads `columns()` starting at `first`.
    init(row: SQLRow, from first: Int = 0) throws {
        id = try row[first]
        email = try EmailAddress(stored: try row[first + 1] as String)
        name = try row[first + 2]
        status = try row[first + 3]
        sections = Self.decodeSections(try row[first + 4])
        format = try row[first + 5]
        timeZone = try row[first + 6]
        deliveryHour = try row[first + 7]
        createdAt = try row[first + 8]
        confirmedAt = try row[first + 9]
        unsubscribedAt = try row[first + 10]
        bounceCount = try row[first + 11]
        lastConfirmationAt = try row[first + 12]
    }

    static func decodeSections(_ text: String?) -> [ItemKind] {
        (text ?? "").split(separator: ",").compactMap { ItemKind(rawValue: String($0)) }
    }
}
