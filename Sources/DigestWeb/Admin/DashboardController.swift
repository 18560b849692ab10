import DigestCore
import Foundation
import Hummingbird

/// `/admin/` (`?days=30|90|365`): the list by status with its change over the period, last night's run at
/// a glance, the hours ahead that have readers due, the backlog, and the charts of the period: messages
/// per night, list growth per day, bounce and complaint rates per night against the lines receivers draw.
/// Every figure comes from the summary rows (`Store.statsReport`), never from counting the ledger.
struct DashboardController: Sendable {
    let admin: AdminPages
    let database: StoreExecutor
    let schedule: DeliverySchedule
    let siteZone: TimeZone
    static let periods = [30, 90, 365]
    /// Gmail's and Yahoo's line for bulk senders' spam complaints, and a hard-bounce rate lists should stay under.
    static let complaintLine = 0.003
    static let hardBounceLine = 0.02

    func addRoutes(to routes: PageRoutes) {
        routes.get("") { request, context in try await dashboard(request, context) }
    }

    func dashboard(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        // Relative links need the trailing slash: from /admin they would climb out of the console.
        guard request.uri.path.hasSuffix("/") else {
            return Response(status: .seeOther, headers: [.location: "admin/"])
        }
        let now = admin.settings.now()
        let days = request.uri.queryParameters.get("days").flatMap(Int.init).flatMap { Self.periods.contains($0) ? $0 : nil } ?? 30
        let report = try await database.run { [schedule] store in try store.statsReport(days: days, now: now, schedule: schedule) }
        let charts = Self.charts(report)
        let view: [String: Any] = [
            "title": "Dashboard", "days": days, "from": report.from, "through": report.through,
            "periods": Self.periods.map { ["href": "?days=\($0)", "label": "\($0) days", "current": $0 == days] },
            "readers": SubscriberStatus.allCases.map { status -> [String: Any] in
                let change = report.readers.change[status]
                return [
                    "label": status.rawValue.prefix(1).uppercased() + status.rawValue.dropFirst(),
                    "href": "readers?status=\(status.rawValue)",
                    "value": ChartNumber.count(Double(report.readers.current[status])),
                    "change": (change > 0 ? "+" : change < 0 ? "−" : "±") + ChartNumber.count(Double(abs(change))),
                ]
            },
            "totals": Self.totals(report),
            "hasRun": report.lastRun != nil, "run": report.lastRun.map(Self.run) ?? [:],
            "dueHours": report.dueHours.prefix(8).map { hour -> [String: Any] in
                [
                    "utc": AdminPages.time(hour.start), "local": Self.localTime(hour.start, siteZone),
                    "readers": ChartNumber.count(Double(hour.readers)), "editions": hour.editions.joined(separator: ", "),
                ]
            },
            "hasDueHours": !report.dueHours.isEmpty, "siteZone": siteZone.identifier,
            "backlog": Self.backlog(report.backlog),
            "charts": charts.map(Self.chartView),
        ]
        return admin.page("admin-dashboard", view, section: .dashboard, context: context)
    }

    static func charts(_ report: StatsReport) -> [TimeChart] {
        // One bar per night: the editions of one day (daily, weekly, catch-up) are summed.
        let byNight = Dictionary(grouping: report.editions, by: \.date)
        let nights = byNight.keys.sorted()
        func perNight(_ value: (EditionStats) -> Int) -> [Double] {
            nights.map { night in Double(byNight[night, default: []].reduce(0) { $0 + value($1) }) }
        }
        /// A rate per message sent, over the night's editions (each weighted by what it sent).
        func perNightRate(_ rate: (EditionStats) -> Double) -> [Double] {
            nights.map { night in
                let editions = byNight[night, default: []]
                let sent = editions.reduce(0) { $0 + $1.sent }
                guard editions.count > 1 else { return editions.first.map(rate) ?? 0 }
                return sent == 0 ? 0 : editions.reduce(0) { $0 + rate($1) * Double($1.sent) } / Double(sent)
            }
        }
        let days = report.daily.map(\.day)
        let period = "the last \(report.days) days (\(report.from) to \(report.through))"
        let sent = report.editions.reduce(0) { $0 + $1.sent }
        return [
            TimeChart(
                id: "messages", title: "Messages per night",
                summary: "Digest messages of each edition over \(period), stacked: sent, deferred and failed. "
                    + "\(ChartNumber.count(Double(sent))) sent in \(report.editions.count) editions.",
                labels: nights,
                bars: [
                    .init(name: "Sent", values: perNight(\.sent)),
                    .init(name: "Deferred", values: perNight(\.deferred)),
                    .init(name: "Failed", values: perNight(\.failed)),
                ]),
            TimeChart(
                id: "growth", title: "List growth per day",
                summary: "Over \(period): confirmations above the line, unsubscribes and bounced readers below it, "
                    + "sign-ups as a line. Net change of active readers: "
                    + "\(report.readers.change.active >= 0 ? "+" : "−")\(ChartNumber.count(Double(abs(report.readers.change.active)))).",
                labels: days,
                bars: [
                    .init(name: "Confirmed", values: report.daily.map { Double($0.confirmations) }),
                    .init(name: "Unsubscribed", values: report.daily.map { Double($0.unsubscribes) }, direction: .down),
                    .init(name: "Bounced", values: report.daily.map { Double($0.bounced) }, direction: .down),
                ],
                lines: [.init(name: "Signed up", values: report.daily.map { Double($0.signups) })]),
            TimeChart(
                id: "rates", title: "Bounce and complaint rates per night",
                summary: "Hard bounces and complaints per message sent, per edition over \(period), against the "
                    + "0.3 % complaint line of Gmail and Yahoo and a 2 % hard-bounce line. Over the period: "
                    + "\(ChartNumber.percent(report.totals.complaintRate)) complaints, "
                    + "\(ChartNumber.percent(report.totals.hardBounceRate)) hard bounces.",
                labels: nights,
                lines: [
                    .init(name: "Hard bounces", values: perNightRate(\.hardBounceRate)),
                    .init(name: "Complaints", values: perNightRate(\.complaintRate)),
                ],
                thresholds: [.init(name: "Complaint line", value: complaintLine), .init(name: "Hard-bounce line", value: hardBounceLine)],
                unit: .percent),
            TimeChart(
                id: "clicks", title: "Clicks per night",
                summary: "Clicks on the item links of each night's editions over \(period) (privacy.clickCounting; "
                    + "counts, nothing about who clicked). "
                    + "\(ChartNumber.count(Double(report.editions.reduce(0) { $0 + $1.clicks }))) clicks in all.",
                labels: nights,
                bars: [.init(name: "Clicks", values: perNight(\.clicks))]),
        ]
    }

    static func chartView(_ chart: TimeChart) -> [String: Any] {
        let table = chart.table
        return [
            "id": chart.id, "title": chart.title, "summary": chart.summary, "svg": chart.svg,
            "header": table.header.dropFirst().map { $0 }, "isEmpty": chart.labels.isEmpty,
            "rows": table.rows.map { ["date": $0[0], "cells": Array($0.dropFirst())] },
        ]
    }

    static func totals(_ report: StatsReport) -> [[String: Any]] {
        let now = report.totals
        let before = report.previousTotals
        func count(_ label: String, _ value: Int, _ previous: Int) -> [String: Any] {
            ["label": label, "value": ChartNumber.count(Double(value)), "previous": ChartNumber.count(Double(previous)), "warn": false]
        }
        func rate(_ label: String, _ value: Double, _ previous: Double, line: Double) -> [String: Any] {
            [
                "label": label, "value": ChartNumber.percent(value), "previous": ChartNumber.percent(previous),
                "warn": value >= line, "line": ChartNumber.percent(line),
            ]
        }
        return [
            count("Messages sent", now.sent, before.sent),
            count("Deferred", now.deferred, before.deferred),
            count("Failed", now.failed, before.failed),
            count("Sign-ups", now.signups, before.signups),
            count("Unsubscribes", now.unsubscribes, before.unsubscribes),
            rate("Complaint rate", now.complaintRate, before.complaintRate, line: complaintLine),
            rate("Hard-bounce rate", now.hardBounceRate, before.hardBounceRate, line: hardBounceLine),
        ]
    }

    static func run(_ run: RunGlance) -> [String: Any] {
        [
            "id": run.id, "command": run.command, "started": AdminPages.time(run.startedAt),
            "editions": run.editions.joined(separator: ", "),
            "status": run.exitStatus.map { status in
                switch status {
                case 0: "exit 0 (everything sent or skipped)"
                case 75: "exit 75 (deferred or stopped early: the next run goes on)"
                default: "exit \(status) (some failed for good)"
                }
            } ?? "unfinished (running, or killed)",
            "failedRun": (run.exitStatus ?? 1) != 0,
            "duration": run.seconds.map { String(format: "%.1f s", $0) } ?? "–",
            "figures": [
                ["label": "Sent", "value": ChartNumber.count(Double(run.sent))],
                ["label": "Deferred", "value": ChartNumber.count(Double(run.deferred))],
                ["label": "Failed", "value": ChartNumber.count(Double(run.failed))],
                ["label": "Skipped", "value": ChartNumber.count(Double(run.skipped))],
            ],
        ]
    }

    static func backlog(_ backlog: Backlog) -> [[String: Any]] {
        [
            ["label": "Ledger: queued", "value": backlog.ledgerQueued],
            ["label": "Ledger: deferred", "value": backlog.ledgerDeferred],
            ["label": "Ledger: being sent", "value": backlog.ledgerSending],
            ["label": "Outbox: queued", "value": backlog.outboxQueued],
            ["label": "Outbox: deferred", "value": backlog.outboxDeferred],
            ["label": "Outbox: failed for good", "value": backlog.outboxFailed],
        ]
    }

    static func localTime(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return String(format: "%02d-%02d %02d:%02d", parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }
}
