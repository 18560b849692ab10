import Foundation
import Testing

@testable import DigestCore

/// Which edition one reader is due (`ReaderSchedule`), from the reader, their history and "now" alone.
@Suite struct ReaderScheduleTests {
    /// Site in UTC, editions close at 06:00 UTC. 2026-11-26 is a Thursday.
    let readers = ReaderSchedule(
        schedule: DeliverySchedule(
            ranker: Ranker(
                digest: .init(
                    sendHour: 6, windowHours: 24, sections: [.init(kind: .story, title: "Top", count: 3)], minVotes: 0,
                    skipWhenEmpty: true, summaryLimit: 100),
                timeZone: TimeZone(identifier: "UTC")!)))

    func reader(
        _ cadence: Cadence = .daily, weekday: Weekday = .mon, pausedUntil: String? = nil, zone: String? = nil,
        hour: Int? = nil
    ) -> Subscriber {
        Subscriber(
            id: 1, email: try! EmailAddress("r@example.com"), status: .active, timeZone: zone, deliveryHour: hour,
            cadence: cadence, weekday: weekday, pausedUntil: pausedUntil.flatMap(Day.init))
    }

    func history(latest: String? = nil, settled: (String, EditionKind)? = nil, missed: String? = nil)
        -> ReaderSchedule.History
    {
        ReaderSchedule.History(
            latest: latest.flatMap(Day.init),
            lastSettled: settled.map { .init(date: Day($0.0)!, kind: $0.1) }, firstMissed: missed.flatMap(Day.init))
    }

    func due(_ reader: Subscriber, _ history: ReaderSchedule.History, _ now: String) -> ReaderSchedule.Due {
        readers.due(reader, history: history, at: Fixtures.date(now))
    }

    @Test func aDailyReaderGetsTodaysEditionOnceItIsTheirHour() {
        let yesterday = history(latest: "2026-11-25", settled: ("2026-11-25", .daily))
        #expect(due(reader(), yesterday, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .daily, coversSince: nil))
        #expect(due(reader(), yesterday, "2026-11-26T05:59:00Z") == .none(.alreadyHas(Day("2026-11-25")!)))
        let today = history(latest: "2026-11-26", settled: ("2026-11-26", .daily))
        #expect(due(reader(), today, "2026-11-26T23:00:00Z") == .none(.alreadyHas(Day("2026-11-26")!)))
        // A reader in Tokyo at 08:00 local: the edition closes at 15:00 there, so they get it then.
        let tokyo = reader(zone: "Asia/Tokyo", hour: 8)
        #expect(due(tokyo, yesterday, "2026-11-26T05:00:00Z") == .none(.alreadyHas(Day("2026-11-25")!)))
        #expect(due(tokyo, yesterday, "2026-11-26T06:00:00Z") == .edition(Day("2026-11-26")!, .daily, coversSince: nil))
    }

    @Test func aWeeklyReaderGetsTheWeeksBestOnTheirWeekdayOnly() {
        let thursday = reader(.weekly, weekday: .thu)
        let lastWeek = history(latest: "2026-11-19", settled: ("2026-11-19", .weekly))
        #expect(due(thursday, lastWeek, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .weekly, coversSince: nil))
        #expect(due(thursday, lastWeek, "2026-11-25T07:00:00Z") == .none(.alreadyHas(Day("2026-11-19")!)))
        let friday = reader(.weekly, weekday: .fri)
        let thisWeek = history(latest: "2026-11-20", settled: ("2026-11-20", .weekly))
        #expect(due(friday, thisWeek, "2026-11-26T07:00:00Z") == .none(.alreadyHas(Day("2026-11-20")!)))
        // A new weekly reader waits for their weekday instead of getting last week's edition.
        #expect(due(reader(.weekly, weekday: .mon), .none, "2026-11-26T07:00:00Z") == .none(.waiting(next: Day("2026-11-30")!)))
        #expect(due(thursday, .none, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .weekly, coversSince: nil))
    }

    @Test func aMonthlyReaderGetsTheMonthsBestOnTheFirst() {
        let monthly = reader(.monthly)
        let november = history(latest: "2026-11-01", settled: ("2026-11-01", .monthly))
        #expect(due(monthly, november, "2026-11-26T07:00:00Z") == .none(.alreadyHas(Day("2026-11-01")!)))
        #expect(due(monthly, november, "2026-12-01T07:00:00Z") == .edition(Day("2026-12-01")!, .monthly, coversSince: nil))
    }

    @Test func aPauseSendsNothingThenOneCatchUpOnTheDayItEnds() {
        let paused = reader(pausedUntil: "2026-12-10")
        let before = history(latest: "2026-11-25", settled: ("2026-11-25", .daily))
        #expect(due(paused, before, "2026-11-26T07:00:00Z") == .none(.paused(until: Day("2026-12-10")!)))
        // The last hour of the pause, and the first after its end's moment.
        #expect(due(paused, before, "2026-12-10T05:59:00Z") == .none(.paused(until: Day("2026-12-10")!)))
        #expect(
            due(paused, before, "2026-12-10T06:00:00Z") == .edition(Day("2026-12-10")!, .catchUp, coversSince: Day("2026-11-25")!))
        // The day after the catch-up, the daily edition again.
        let caughtUp = history(latest: "2026-12-10", settled: ("2026-12-10", .catchUp))
        #expect(due(paused, caughtUp, "2026-12-11T07:00:00Z") == .edition(Day("2026-12-11")!, .daily, coversSince: nil))
    }

    @Test func aWeeklyReaderWhosePauseMissedNothingWaitsForTheirDay() {
        // Paused Friday to Tuesday: no Thursday in between, nothing missed, no catch-up.
        let weekly = reader(.weekly, weekday: .thu, pausedUntil: "2026-11-24")
        let lastWeek = history(latest: "2026-11-19", settled: ("2026-11-19", .weekly))
        #expect(due(weekly, lastWeek, "2026-11-24T07:00:00Z") == .none(.waiting(next: Day("2026-11-26")!)))
        #expect(due(weekly, lastWeek, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .weekly, coversSince: nil))
        // Paused over their Thursday: the day it ends brings what they missed.
        let longer = reader(.weekly, weekday: .thu, pausedUntil: "2026-11-28")
        #expect(
            due(longer, lastWeek, "2026-11-28T07:00:00Z") == .edition(Day("2026-11-28")!, .catchUp, coversSince: Day("2026-11-19")!))
    }

    @Test func anOutageLongerThanTheCadenceEndsInOneCatchUp() {
        let gap = history(latest: "2026-11-25", settled: ("2026-11-23", .daily))
        #expect(
            due(reader(), gap, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .catchUp, coversSince: Day("2026-11-23")!))
        // Nothing ever reached a new reader: everything since the first edition they missed.
        let never = history(latest: "2026-11-25", missed: "2026-11-24")
        #expect(
            due(reader(), never, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .catchUp, coversSince: Day("2026-11-23")!))
        // One day late is no gap.
        let late = history(latest: "2026-11-25", settled: ("2026-11-25", .daily))
        #expect(due(reader(), late, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .daily, coversSince: nil))
    }

    @Test func switchingCadenceNeitherDoublesNorCatchesUp() {
        // Daily until Tuesday, weekly on Thursday from then: the week's best on Thursday, no catch-up.
        let nowWeekly = reader(.weekly, weekday: .thu)
        let daily = history(latest: "2026-11-24", settled: ("2026-11-24", .daily))
        #expect(due(nowWeekly, daily, "2026-11-26T07:00:00Z") == .edition(Day("2026-11-26")!, .weekly, coversSince: nil))
        // Weekly on Thursday, daily again from Saturday: the daily edition, not a catch-up of the week.
        let weekly = history(latest: "2026-11-26", settled: ("2026-11-26", .weekly))
        #expect(due(reader(), weekly, "2026-11-28T07:00:00Z") == .edition(Day("2026-11-28")!, .daily, coversSince: nil))
    }

    /// A year of hourly runs (cron `0 * * * *`) in four zones, two with daylight-saving changes, for a daily and
    /// a weekly reader each: every edition arrives once, at the reader's hour, on their day; none is missed.
    @Test func aYearOfHourlyRunsAcrossDaylightSavingSendsEachEditionOnce() {
        let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
        for zone in zones {
            let timeZone = TimeZone(identifier: zone)!
            for cadence in [Cadence.daily, .weekly] {
                let reader = reader(cadence, weekday: .wed, zone: zone, hour: 9)
                var sent: [(Day, Date)] = []
                var now = Fixtures.date("2026-01-01T00:00:00Z")
                // What was due before the year starts counts as delivered.
                var history = ReaderSchedule.History.none
                if case .edition(let date, let kind, _) = readers.due(reader, history: history, at: now) {
                    history = .init(latest: date, lastSettled: .init(date: date, kind: kind))
                }
                for _ in 0..<(365 * 24) {
                    if case .edition(let date, let kind, _) = readers.due(reader, history: history, at: now) {
                        sent.append((date, now))
                        history = .init(latest: date, lastSettled: .init(date: date, kind: kind))
                    }
                    now += 3600
                }
                let days = sent.map(\.0)
                #expect(Set(days).count == days.count, "\(zone) \(cadence): an edition twice")
                for (date, at) in sent {
                    // At 09:00 local (the edition closed at 06:00 UTC, earlier or the same day), within the hour.
                    let local = Calendar(identifier: .gregorian).dateComponents(in: timeZone, from: at)
                    let moment = readers.schedule.dueInstant(of: date, timeZone: timeZone, hour: 9)
                    #expect(at >= moment && at.timeIntervalSince(moment) < 3600, "\(zone) \(date) at \(at)")
                    if moment == date.instant(hour: 9, in: timeZone) { #expect(local.hour == 9, "\(zone) \(date) at \(at)") }
                    if cadence == .weekly { #expect(Weekday(date) == .wed) }
                }
                // None missed: every day (every Wednesday) from the first to the last.
                let expected = cadence == .daily ? 364 : 52
                #expect(days.count >= expected, "\(zone) \(cadence): \(days.count) editions")
                for (earlier, later) in zip(days, days.dropFirst()) {
                    #expect(earlier.adding(days: cadence == .daily ? 1 : 7) == later, "\(zone): \(earlier) then \(later)")
                }
            }
        }
    }
}

@Suite struct ReaderChoiceValueTests {
    @Test func weekdaysAndMonths() throws {
        #expect(Weekday(Day("2026-11-26")!) == .thu)
        #expect(Weekday(Day("1970-01-01")!) == .thu)
        #expect(Weekday(Day("2027-01-03")!) == .sun)
        #expect(try Weekday.parse("Monday") == .mon)
        #expect(try Weekday.parse("7") == .sun)
        #expect(try Weekday.parse("WED") == .wed)
        #expect(throws: SubscriberError.self) { try Weekday.parse("someday") }
        #expect(Day("2026-01-31")!.adding(months: 1) == Day("2026-02-28")!)
        #expect(Day("2028-01-31")!.adding(months: 1) == Day("2028-02-29")!)
        #expect(Day("2026-12-15")!.adding(months: 1) == Day("2027-01-15")!)
        #expect(Day("2026-03-31")!.adding(months: -1) == Day("2026-02-28")!)
    }

    @Test func choicesAreCheckedNamingTheField() throws {
        var reader = Subscriber(email: try EmailAddress("r@example.com"))
        try reader.apply(.init(cadence: "Weekly", weekday: "fri", pausedUntil: "2027-01-10", maxStories: "3", maxPosts: "1"))
        #expect(reader.cadence == .weekly && reader.weekday == .fri && reader.pausedUntil == Day("2027-01-10"))
        #expect(reader.length == ReadingLength(stories: 3, posts: 1))
        #expect(reader.choicesDescription == "weekly on Friday, paused until 2027-01-10, at most 3 stories and 1 post")
        try reader.apply(.init(pausedUntil: "", maxStories: "", maxPosts: "", readingMinutes: "5"))
        #expect(reader.pausedUntil == nil && reader.length == ReadingLength(minutes: 5))
        #expect(throws: SubscriberError("cadence must be daily, weekly or monthly, not \"hourly\"")) {
            try reader.apply(.init(cadence: "hourly"))
        }
        #expect(throws: SubscriberError("paused-until must be a date YYYY-MM-DD, not \"soon\"")) {
            try reader.apply(.init(pausedUntil: "soon"))
        }
        #expect(throws: SubscriberError("stories must be a whole number from 1 to 100, not 0")) {
            try reader.apply(.init(maxStories: "0", readingMinutes: ""))
        }
        #expect(throws: SubscriberError.self) { try reader.apply(.init(maxStories: "2")) }  // minutes and counts
    }
}
