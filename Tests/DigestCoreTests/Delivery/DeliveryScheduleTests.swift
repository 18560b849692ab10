import Foundation
import Testing

@testable import DigestCore

@Suite struct DeliveryScheduleTests {
    /// Site in UTC, editions close at 06:00 UTC.
    let schedule = DeliverySchedule(
        ranker: Ranker(
            digest: .init(
                sendHour: 6, windowHours: 24, sections: [.init(kind: .story, title: "Top", count: 3)], minVotes: 0,
                skipWhenEmpty: true, summaryLimit: 100),
            timeZone: TimeZone(identifier: "UTC")!))

    let honolulu = TimeZone(identifier: "Pacific/Honolulu")!  // UTC−10, no DST
    let utc = TimeZone(identifier: "UTC")!
    let moscow = TimeZone(identifier: "Europe/Moscow")!  // UTC+3, no DST
    let chatham = TimeZone(identifier: "Pacific/Chatham")!  // UTC+13:45 in November (DST)

    func due(_ now: String, _ zone: TimeZone, hour: Int = 6) -> String? {
        schedule.dueEdition(at: Fixtures.date(now), timeZone: zone, hour: hour)?.description
    }

    /// Every hour of three days, as cron `0 * * * *` would run: which editions each reader gets, and when.
    func simulate(_ zone: TimeZone, hour: Int, from start: String = "2026-11-23T00:00:00Z", hours: Int = 72)
        -> [(edition: String, at: Date)]
    {
        var sent: [(String, Date)] = []
        var now = Fixtures.date(start)
        // What was due before the simulation starts counts as already delivered.
        var last = schedule.dueEdition(at: now, timeZone: zone, hour: hour)
        for _ in 0..<hours {
            if let date = schedule.dueEdition(at: now, timeZone: zone, hour: hour), last.map({ date > $0 }) ?? true {
                sent.append((date.description, now))
                last = date
            }
            now += 3600
        }
        return sent
    }

    @Test func readersAcrossTheWorldGetEachEditionOnceAtOrAfterTheirHour() {
        for zone in [honolulu, utc, moscow, chatham] {
            let sent = simulate(zone, hour: 6)
            let editions = sent.map(\.edition)
            #expect(Set(editions).count == editions.count, "\(zone.identifier) got an edition twice")
            #expect(editions.contains("2026-11-24") && editions.contains("2026-11-25"), "\(zone.identifier): \(editions)")
            for (edition, at) in sent {
                let day = Day(edition)!
                // Never before the edition closed, never before the reader's hour on that day.
                #expect(at >= schedule.ranker.cutoff(for: day))
                #expect(at >= day.instant(hour: 6, in: zone))
                // And delivered within the hour cron first runs after both.
                #expect(at.timeIntervalSince(schedule.dueInstant(of: day, timeZone: zone, hour: 6)) < 3600)
            }
        }
    }

    @Test func specificInstants() {
        // Honolulu 06:00 local on the 24th is 16:00Z: before that, the 23rd's edition is the latest due.
        #expect(due("2026-11-24T15:59:00Z", honolulu) == "2026-11-23")
        #expect(due("2026-11-24T16:00:00Z", honolulu) == "2026-11-24")
        // Moscow 06:00 is 03:00Z, before the 06:00Z cut-off: they get it at the cut-off.
        #expect(due("2026-11-24T05:59:00Z", moscow) == "2026-11-23")
        #expect(due("2026-11-24T06:00:00Z", moscow) == "2026-11-24")
        // Chatham (+13:45): their 06:00 on the 24th is 16:15Z on the 23rd; still due at the cut-off.
        #expect(due("2026-11-23T16:15:00Z", chatham) == "2026-11-23")
        #expect(due("2026-11-24T06:00:00Z", chatham) == "2026-11-24")
        #expect(due("2026-11-24T06:00:00Z", utc) == "2026-11-24")
    }

    @Test func aSkippedDayIsCaughtUpOnceNotTwice() {
        // Cron did not run at all on the 24th; it comes back at 10:00Z on the 25th.
        #expect(due("2026-11-25T10:00:00Z", utc) == "2026-11-25")
        // Before the 25th's edition closes, the one owed is the 24th's: one catch-up mail, not two.
        #expect(due("2026-11-25T01:00:00Z", utc) == "2026-11-24")
    }

    @Test func daylightSavingChangeDaysDeliverOnce() {
        // Europe/Berlin: summer time ends 2026-10-25 03:00 local; America/New_York: 2026-11-01.
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let newYork = TimeZone(identifier: "America/New_York")!
        for (zone, start) in [(berlin, "2026-10-24T00:00:00Z"), (newYork, "2026-10-31T00:00:00Z")] {
            let sent = simulate(zone, hour: 9, from: start, hours: 96)
            let editions = sent.map(\.edition)
            #expect(Set(editions).count == editions.count)
            #expect(editions.count >= 3)
            for (edition, at) in sent {
                let local = Calendar.current.dateComponents(in: zone, from: at)
                // On every day, DST or not, the mail leaves at the reader's 09:00 local (the cut-off is earlier).
                #expect(local.hour == 9, "\(zone.identifier) \(edition) at \(at)")
            }
        }
        // Spring forward: 2026-03-29 in Berlin has no 02:00; a 2 o'clock reader gets it at 03:00 local.
        let spring = Day("2026-03-29")!.instant(hour: 2, in: berlin)
        #expect(spring == Fixtures.date("2026-03-29T01:00:00Z"))
    }
}

@Suite struct RunSummaryTests {
    @Test func reasonsGroupWithoutAddresses() {
        #expect(
            ReplyText.grouped("550 5.1.1 <r1@example.com>: Recipient address rejected")
                == ReplyText.grouped("550 5.1.1 <r2@example.org>: Recipient address rejected"))
        #expect(ReplyText.grouped("452 mailbox full for bob@example.com") == "452 mailbox full for …")
    }

    @Test func exitStatusFollowsWhatIsLeft() {
        var summary = RunSummary()
        summary.sent = 3
        #expect(summary.exitStatus == 0)
        summary.failed = 1
        #expect(summary.exitStatus == 1)
        summary.deferred = 1
        #expect(summary.exitStatus == 75)
        #expect(summary.lines.first?.contains("3 sent, 0 skipped, 1 deferred, 1 failed") == true)
    }
}
