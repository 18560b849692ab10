import Foundation

/// Which edition one reader is due at an instant: the one rule behind `digest send`, its dry run, `preview
/// --subscriber` and the reader pages. Pure: the reader, what the ledger holds for them and "now" are inputs.
///
/// - A daily reader is due the latest day whose moment has come (`DeliverySchedule`); a weekly reader the
///   latest of their weekday; a monthly reader the latest 1st of a month.
/// - A paused reader is due nothing before the moment of the day their pause ends; that day (or their
///   regular day, whichever is later) brings a catch-up when they missed something.
/// - "Missed something": their last edition that reached its end (sent, skipped or failed) is older than
///   what its kind and their cadence cover (a day, a week, a month), or none ever did and an earlier one is
///   still waiting. The gap is then filled by one catch-up edition of the best items since that last edition
///   (or since their first), never by the pile of editions they missed.
/// - Never an edition of a day they already have a row for, or of an earlier day: one edition a day at most.
public struct ReaderSchedule: Sendable {
    public let schedule: DeliverySchedule

    public init(schedule: DeliverySchedule) { self.schedule = schedule }

    /// What the ledger holds for one reader.
    public struct History: Sendable, Equatable {
        /// The newest edition day the reader has a ledger row for (any status but superseded).
        public var latest: Day?
        /// The newest edition that reached its end for the reader (sent, skipped or failed).
        public var lastSettled: Settled?
        /// The oldest edition day after `lastSettled` with a row that has not gone out (queued, deferred or
        /// superseded): a reader who never got anything since still missed it.
        public var firstMissed: Day?

        public struct Settled: Sendable, Equatable {
            public var date: Day
            public var kind: EditionKind

            public init(date: Day, kind: EditionKind) {
                self.date = date
                self.kind = kind
            }
        }

        public init(latest: Day? = nil, lastSettled: Settled? = nil, firstMissed: Day? = nil) {
            self.latest = latest
            self.lastSettled = lastSettled
            self.firstMissed = firstMissed
        }

        /// A reader the ledger knows nothing about (just confirmed).
        public static let none = History()
    }

    public enum Due: Sendable, Equatable {
        /// The edition of this day and kind; a catch-up covers what came out after `coversSince`'s edition.
        case edition(Day, EditionKind, coversSince: Day?)
        case none(NotDue)
    }

    /// Why a reader is due nothing now.
    public enum NotDue: Sendable, Equatable, CustomStringConvertible {
        case paused(until: Day)
        /// Their next edition is later (a weekly reader on another weekday; before their hour).
        case waiting(next: Day?)
        /// They have (or are being sent) this day's edition already.
        case alreadyHas(Day)

        public var description: String {
            switch self {
            case .paused(let until): "paused until \(until)"
            case .waiting(let next): next.map { "next edition on \($0)" } ?? "no edition due yet"
            case .alreadyHas(let date): "already has the edition of \(date)"
            }
        }
    }

    /// How far back the latest regular day of each cadence can be.
    private static func span(_ cadence: Cadence) -> Int {
        switch cadence {
        case .daily: 3
        case .weekly: 9
        case .monthly: 33
        }
    }

    /// Whether `date` is a regular day of the reader's cadence.
    static func isRegular(_ date: Day, for reader: Subscriber) -> Bool {
        switch reader.cadence {
        case .daily: true
        case .weekly: Weekday(date) == reader.weekday
        case .monthly: date.day == 1
        }
    }

    /// The edition `reader` is due at `now`, given their `history`.
    public func due(_ reader: Subscriber, history: History, at now: Date) -> Due {
        let ranker = schedule.ranker
        let zone = reader.timeZone.flatMap(TimeZone.init(identifier:)) ?? ranker.timeZone
        let hour = reader.deliveryHour ?? ranker.digest.sendHour
        func hasCome(_ date: Day) -> Bool { schedule.dueInstant(of: date, timeZone: zone, hour: hour) <= now }
        func next() -> Day? {
            schedule.nextDue(after: now, timeZone: zone, hour: hour, within: Self.span(reader.cadence) + 1) {
                Self.isRegular($0, for: reader) && !reader.isPaused(on: $0)
            }
        }
        if let until = reader.pausedUntil, !hasCome(until) { return .none(.paused(until: until)) }
        var regular = schedule.latestDue(at: now, timeZone: zone, hour: hour, within: Self.span(reader.cadence)) {
            Self.isRegular($0, for: reader)
        }
        // A new reader starts with the edition of today or yesterday, not last week's or last month's.
        if history == .none, let day = regular, day < Day(now, in: ranker.timeZone).adding(days: -1) { regular = nil }
        var date = regular
        // The day a pause ends is a day of its own, when it is later than the regular one.
        if let until = reader.pausedUntil, until > (date ?? until.adding(days: -1)),
            history.latest.map({ until > $0 }) ?? true
        {
            date = until
        }
        guard let date else { return .none(.waiting(next: next())) }
        if let latest = history.latest, latest >= date { return .none(.alreadyHas(latest)) }
        if let last = history.lastSettled {
            let covered = max(last.kind.coversUntil(last.date), reader.cadence.editionKind.coversUntil(last.date))
            if date > covered { return .edition(date, .catchUp, coversSince: last.date) }
        } else if let missed = history.firstMissed, date > missed {
            // Nothing ever reached them (a relay down since they joined): everything since their first edition.
            return .edition(date, .catchUp, coversSince: missed.adding(days: -1))
        }
        guard date == regular else { return .none(.waiting(next: next())) }
        return .edition(date, reader.cadence.editionKind, coversSince: nil)
    }
}
