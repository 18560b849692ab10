import Foundation

/// How often a reader gets the digest: every day (the default), once a week on a weekday they pick, or once a
/// month (on the 1st). Each cadence has an edition kind of its own; a reader gets at most one edition a day.
public enum Cadence: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    case daily, weekly, monthly

    /// The edition a reader on this cadence is sent when nothing was missed.
    public var editionKind: EditionKind {
        switch self {
        case .daily: .daily
        case .weekly: .weekly
        case .monthly: .monthly
        }
    }

    /// Reads `daily`, `weekly` or `monthly`, whatever the case, with an error naming the choices.
    public static func parse(_ text: String) throws -> Cadence {
        guard let cadence = Cadence(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw SubscriberError("cadence must be daily, weekly or monthly, not \"\(text)\"")
        }
        return cadence
    }
}
