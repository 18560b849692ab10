import Foundation

/// What an edition is, beside its date: an edition is identified by (date, kind). A reader gets at most one
/// edition a day, whichever kind.
public enum EditionKind: String, Sendable, Codable, CaseIterable, SQLTextEnum {
    /// The day's best: items of the `digest.windowHours` before the cut-off.
    case daily
    /// The week's best: items of the seven days before the cut-off.
    case weekly
    /// The month's best: items since the same day of the month before.
    case monthly
    /// What a reader missed (a pause that ended, an outage longer than their cadence): the best items of up to
    /// `catchUpDays` before the cut-off, each reader's share cut to what came after their last edition.
    case catchUp = "catch-up"

    /// The longest a catch-up looks back: a month's pause, and a week more.
    public static let catchUpDays = 38

    /// The first day of the window of the edition of `date`, for the kinds longer than a day (in days before).
    func windowStart(before cutoff: Date, date: Day, windowHours: Int, in timeZone: TimeZone, sendHour: Int) -> Date {
        switch self {
        case .daily: cutoff.addingTimeInterval(-Double(windowHours) * 3600)
        case .weekly: date.adding(days: -7).instant(hour: sendHour, in: timeZone)
        case .monthly: date.adding(months: -1).instant(hour: sendHour, in: timeZone)
        case .catchUp: date.adding(days: -Self.catchUpDays).instant(hour: sendHour, in: timeZone)
        }
    }

    /// How many candidates per section the edition keeps, as a multiple of `Ranker.backfillFactor`: a longer
    /// window holds more that a reader may already have received from their daily editions.
    var backfillMultiple: Int {
        switch self {
        case .daily: 1
        case .weekly: 2
        case .monthly, .catchUp: 4
        }
    }

    /// The gap after an edition of this kind that is no gap: the next regular edition comes within it.
    /// A reader whose last edition is older than this (and their cadence's) gets a catch-up.
    func coversUntil(_ date: Day) -> Day {
        switch self {
        case .daily, .catchUp: date.adding(days: 1)
        case .weekly: date.adding(days: 7)
        case .monthly: date.adding(months: 1)
        }
    }

    /// The path of the edition of `date` under `/archive`: the date alone for the daily edition, `DATE/weekly`
    /// for the others.
    public func archivePath(_ date: Day) -> String { self == .daily ? "\(date)" : "\(date)/\(rawValue)" }

    /// "The week's best", as mails and pages head the editions that are not the daily one.
    public var heading: String? {
        switch self {
        case .daily: nil
        case .weekly: "The week's best"
        case .monthly: "The month's best"
        case .catchUp: "While you were away"
        }
    }

    /// "the week's best", for the reader pages, the archive and run reports.
    public var title: String {
        switch self {
        case .daily: "daily edition"
        case .weekly: "the week's best"
        case .monthly: "the month's best"
        case .catchUp: "catch-up edition"
        }
    }
}

extension EditionKind {
    /// The kind's one letter in the tokens that name an edition (vote links, reply addresses): `20261124d`.
    var letter: Character {
        switch self {
        case .daily: "d"
        case .weekly: "w"
        case .monthly: "m"
        case .catchUp: "c"
        }
    }

    init?(letter: Character) {
        guard let kind = Self.allCases.first(where: { $0.letter == letter }) else { return nil }
        self = kind
    }
}
