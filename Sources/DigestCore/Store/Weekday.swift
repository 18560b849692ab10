import Foundation

/// A day of the week, as a weekly reader picks it: stored and written as `mon` … `sun`.
public enum Weekday: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    case mon, tue, wed, thu, fri, sat, sun

    /// The weekday of a calendar day.
    public init(_ day: Day) {
        // Days since 1970-01-01, a Thursday.
        let index = (DateParsing.daysSince1970(year: day.year, month: day.month, day: day.day) % 7 + 7 + 3) % 7
        self = Self.allCases[index]
    }

    /// `Monday`, in English (the reader pages' language).
    public var name: String {
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][Self.allCases.firstIndex(of: self)!]
    }

    /// Reads `mon`, `Monday`, `MON` or 1 (Monday) … 7 (Sunday), with an error naming the choices.
    public static func parse(_ text: String) throws -> Weekday {
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let number = Int(key), (1...7).contains(number) { return allCases[number - 1] }
        if key.count >= 3, let found = allCases.first(where: { $0.name.lowercased().hasPrefix(key) }) { return found }
        throw SubscriberError("weekday must be one of mon, tue, wed, thu, fri, sat, sun, not \"\(text)\"")
    }
}
