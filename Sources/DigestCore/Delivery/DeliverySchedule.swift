import Foundation

/// Which edition a reader is due at a given instant. Pure: "now" is an input, so every rule
/// is tested with an injected clock.
///
/// The rule: edition D reaches a reader at the later of (a) D's cut-off (`sendHour` on D in the
/// site's time zone: no edition goes out before it closes) and (b) the reader's delivery hour on
/// D in their own time zone. At any instant a reader is due the *latest* edition whose moment
/// has come; older unsent editions are never sent, so a missed night is caught up once, not
/// twice. Running every hour therefore delivers each edition once per reader, at or after their
/// hour, across daylight-saving changes (the hour is computed per day in the reader's zone).
public struct DeliverySchedule: Sendable {
    public let ranker: Ranker

    public init(ranker: Ranker) { self.ranker = ranker }

    /// The instant edition `date` becomes due for readers in `timeZone` with `hour`.
    public func dueInstant(of date: Day, timeZone: TimeZone, hour: Int) -> Date {
        max(ranker.cutoff(for: date), date.instant(hour: hour, in: timeZone))
    }

    /// The latest edition due at `now` for readers in `timeZone` with `hour`, or nil if none
    /// of the days around now is due yet (cannot happen after the first day).
    public func dueEdition(at now: Date, timeZone: TimeZone, hour: Int) -> Day? {
        latestDue(at: now, timeZone: timeZone, hour: hour, within: 3) { _ in true }
    }

    /// The latest day that `matches` (a weekly reader's weekday, the 1st of a month) whose moment has come at
    /// `now`, looking back at most `days` days.
    public func latestDue(
        at now: Date, timeZone: TimeZone, hour: Int, within days: Int, matching matches: (Day) -> Bool
    ) -> Day? {
        // A reader's local day and the site's day differ by at most one; their moment for day D
        // is never before D's cut-off nor more than a day after it, so one day ahead suffices.
        let anchor = Day(now, in: ranker.timeZone)
        for offset in stride(from: 1, through: -days, by: -1) {
            let date = anchor.adding(days: offset)
            if matches(date) && dueInstant(of: date, timeZone: timeZone, hour: hour) <= now { return date }
        }
        return nil
    }

    /// The first day that `matches` whose moment is still to come at `now` (within `days` days).
    public func nextDue(
        after now: Date, timeZone: TimeZone, hour: Int, within days: Int, matching matches: (Day) -> Bool
    ) -> Day? {
        let anchor = Day(now, in: ranker.timeZone)
        for offset in -1...days {
            let date = anchor.adding(days: offset)
            if matches(date) && dueInstant(of: date, timeZone: timeZone, hour: hour) > now { return date }
        }
        return nil
    }
}
