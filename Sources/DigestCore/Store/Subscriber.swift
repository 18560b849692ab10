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
    /// Daily (the default), weekly on `weekday`, or monthly.
    public var cadence: Cadence
    /// The day a weekly reader gets the week's best.
    public var weekday: Weekday
    /// Nothing is sent before this day's delivery moment; that day brings a catch-up of what was missed.
    public var pausedUntil: Day?
    /// "At most N stories and M posts", or "about N minutes" (`ReadingLength`); nil: the site's counts.
    public var maxStories: Int?
    public var maxPosts: Int?
    public var readingMinutes: Int?
    /// The code of one of `site.languages` (`ar`) the reader reads their mails and pages in; nil: the site's own.
    public var language: String?

    public init(
        id: Int64? = nil, email: EmailAddress, name: String? = nil, status: SubscriberStatus = .pending,
        sections: [ItemKind] = [], format: DigestFormat = .html, timeZone: String? = nil, deliveryHour: Int? = nil,
        createdAt: Date = Date(), confirmedAt: Date? = nil, unsubscribedAt: Date? = nil, bounceCount: Int = 0,
        lastConfirmationAt: Date? = nil, cadence: Cadence = .daily, weekday: Weekday = .mon, pausedUntil: Day? = nil,
        length: ReadingLength = .site, language: String? = nil
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
        self.cadence = cadence
        self.weekday = weekday
        self.pausedUntil = pausedUntil
        self.maxStories = length.stories
        self.maxPosts = length.posts
        self.readingMinutes = length.minutes
        self.language = language
    }

    /// How long the reader wants their digest.
    public var length: ReadingLength {
        get { ReadingLength(stories: maxStories, posts: maxPosts, minutes: readingMinutes) }
        set { (maxStories, maxPosts, readingMinutes) = (newValue.stories, newValue.posts, newValue.minutes) }
    }

    /// Whether the reader's pause still holds on `date` (their edition of that day is not sent).
    public func isPaused(on date: Day) -> Bool { pausedUntil.map { date < $0 } ?? false }

    /// Whether the reader wants the section of `kind`.
    public func wants(_ kind: ItemKind) -> Bool { sections.isEmpty || sections.contains(kind) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, email, name, status, sections, format, timeZone, deliveryHour, createdAt, confirmedAt
        case unsubscribedAt, bounceCount, lastConfirmationAt, cadence, weekday, pausedUntil, maxStories, maxPosts
        case readingMinutes, language
    }

    /// Every column but `id`, in the one order `values` binds them.
    static let fields = CodingKeys.allCases.dropFirst().map(\.rawValue)

    /// `id` and the fields, each prefixed with `table.` when given: what `init(row:)` reads.
    static func columns(_ table: String? = nil) -> String {
        (["id"] + fields).map { (table.map { "\($0)." } ?? "") + $0 }.joined(separator: ", ")
    }

    /// The fields' values, in `fields` order.
    var values: [SQLValue] {
        [
            .text(email.description), name.sqlValue, status.sqlValue, .text(sections.map(\.rawValue).joined(separator: ",")),
            format.sqlValue, timeZone.sqlValue, deliveryHour.sqlValue, createdAt.sqlValue, confirmedAt.sqlValue,
            unsubscribedAt.sqlValue, bounceCount.sqlValue, lastConfirmationAt.sqlValue, cadence.sqlValue,
            weekday.sqlValue, pausedUntil.sqlValue, maxStories.sqlValue, maxPosts.sqlValue, readingMinutes.sqlValue,
            language.sqlValue,
        ]
    }

    /// Reads `columns()` by name, wherever the result has them (a join may put other columns first; its
    /// own `id`, if any, must then be renamed).
    init(row: SQLRow) throws {
        func column<T: SQLDecodable>(_ key: CodingKeys) throws -> T { try row[key.rawValue] }
        id = try column(.id)
        email = try EmailAddress(stored: try column(.email) as String)
        name = try column(.name)
        status = try column(.status)
        sections = Self.decodeSections(try column(.sections))
        format = try column(.format)
        timeZone = try column(.timeZone)
        deliveryHour = try column(.deliveryHour)
        createdAt = try column(.createdAt)
        confirmedAt = try column(.confirmedAt)
        unsubscribedAt = try column(.unsubscribedAt)
        bounceCount = try column(.bounceCount)
        lastConfirmationAt = try column(.lastConfirmationAt)
        cadence = try column(.cadence)
        weekday = try column(.weekday)
        pausedUntil = try column(.pausedUntil)
        maxStories = try column(.maxStories)
        maxPosts = try column(.maxPosts)
        readingMinutes = try column(.readingMinutes)
        language = try column(.language)
    }

    static func decodeSections(_ text: String?) -> [ItemKind] {
        (text ?? "").split(separator: ",").compactMap { ItemKind(rawValue: String($0)) }
    }
}
