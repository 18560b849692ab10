import Foundation

/// A reader's choices as people write them (flags, CSV cells, form fields): each nil leaves the choice as it is.
public struct ReaderChoicesText: Sendable, Equatable {
    public var cadence: String?
    public var weekday: String?
    /// `YYYY-MM-DD`; empty resumes.
    public var pausedUntil: String?
    public var maxStories: String?
    public var maxPosts: String?
    public var readingMinutes: String?

    public init(
        cadence: String? = nil, weekday: String? = nil, pausedUntil: String? = nil, maxStories: String? = nil,
        maxPosts: String? = nil, readingMinutes: String? = nil
    ) {
        self.cadence = cadence
        self.weekday = weekday
        self.pausedUntil = pausedUntil
        self.maxStories = maxStories
        self.maxPosts = maxPosts
        self.readingMinutes = readingMinutes
    }

    /// The CSV columns, as `subscribers export` writes them and `import` reads them (lowercased to match).
    public static let columns = ["cadence", "weekday", "pausedUntil", "maxStories", "maxPosts", "readingMinutes"]
}

extension Subscriber {
    /// Applies `choices`, checking each: an error names the field and what it accepts. A weekday alone (no
    /// cadence given) is kept for when the reader goes weekly.
    public mutating func apply(_ choices: ReaderChoicesText) throws {
        func trimmed(_ text: String?) -> String? {
            text.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let text = trimmed(choices.cadence), !text.isEmpty { cadence = try Cadence.parse(text) }
        if let text = trimmed(choices.weekday), !text.isEmpty { weekday = try Weekday.parse(text) }
        if let text = trimmed(choices.pausedUntil) {
            if text.isEmpty {
                pausedUntil = nil
            } else {
                guard let day = Day(text) else {
                    throw SubscriberError("paused-until must be a date YYYY-MM-DD, not \"\(text)\"")
                }
                pausedUntil = day
            }
        }
        func count(_ text: String?, _ name: String) throws -> Int?? {
            guard let text = trimmed(text) else { return .none }
            if text.isEmpty { return .some(nil) }
            guard let value = Int(text) else { throw SubscriberError("\(name) must be a whole number, not \"\(text)\"") }
            return .some(value)
        }
        var length = self.length
        if let value = try count(choices.maxStories, "max-stories") { length.stories = value }
        if let value = try count(choices.maxPosts, "max-posts") { length.posts = value }
        if let value = try count(choices.readingMinutes, "reading-minutes") { length.minutes = value }
        self.length = try length.validated()
    }

    /// Leaves the list at once (the unsubscribe page, a `stop` reply): whatever the status was.
    public mutating func unsubscribe(now: Date) {
        status = .unsubscribed
        unsubscribedAt = now
    }

    /// Why a pause may not end on `day` when set on `today` (nil when it may): it ends after today, within a year.
    /// The one rule for the preferences page and a reply's `pause until`.
    public static func pauseProblem(until day: Day, today: Day) -> String? {
        if day <= today { return "Choose a day after today." }
        if day > today.adding(months: 12) { return "Choose a day within a year (\(today.adding(months: 12)) at the latest)." }
        return nil
    }

    /// "weekly on Monday", "daily", "daily, paused until 2027-01-10".
    public var choicesDescription: String {
        var text = cadence == .weekly ? "weekly on \(weekday.name)" : cadence.rawValue
        if let pausedUntil { text += ", paused until \(pausedUntil)" }
        if length != .site { text += ", \(length.description)" }
        return text
    }
}
