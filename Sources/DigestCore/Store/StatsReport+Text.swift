import Foundation

extension StatsReport {
    /// The figures as `digest stats` prints them for a person: the dashboard in lines of text.
    public var lines: [String] {
        func signed(_ value: Int) -> String { value > 0 ? "+\(value)" : "\(value)" }
        func percent(_ rate: Double) -> String { String(format: "%.2f %%", rate * 100) }
        var lines = ["Figures for the \(days) days \(from) to \(through) (UTC), at \(DateParsing.iso8601String(generatedAt))"]
        lines.append("Readers (change over the period):")
        for status in SubscriberStatus.allCases {
            lines.append(
                "  \(status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0))"
                    + "\(readers.current[status]) (\(signed(readers.change[status])))")
        }
        let t = totals
        let p = previousTotals
        lines.append(
            "List: \(t.signups) sign-ups (\(p.signups) the period before), \(t.confirmations) confirmations, "
                + "\(t.unsubscribes) unsubscribes, \(t.bounced) marked bounced, \(t.reactivated) reactivated, "
                + "\(t.removed) removed")
        lines.append(
            "Messages: \(t.editions) edition\(t.editions == 1 ? "" : "s"), \(t.sent) sent, \(t.deferred) deferred, \(t.failed) failed, "
                + "\(t.skipped) skipped (\(p.sent) sent the period before)")
        lines.append(
            "Reports received: \(t.hardBounces) hard bounces, \(t.softBounces) soft, \(t.otherBounces) other, "
                + "\(t.complaints) complaints; complaint rate \(percent(t.complaintRate)) (keep under 0.30 %), "
                + "hard-bounce rate \(percent(t.hardBounceRate)) (keep under 2 %)")
        if let run = lastRun {
            let status = run.exitStatus.map { "exit \($0)" } ?? "unfinished"
            let duration = run.seconds.map { String(format: " in %.1fs", $0) } ?? ""
            lines.append(
                "Last run: #\(run.id) \(run.command) at \(DateParsing.iso8601String(run.startedAt)), \(status)\(duration): "
                    + "\(run.sent) sent, \(run.deferred) deferred, \(run.failed) failed, \(run.skipped) skipped")
        } else {
            lines.append("Last run: none yet")
        }
        lines.append(
            "Backlog: ledger \(backlog.ledgerQueued) queued, \(backlog.ledgerDeferred) deferred, "
                + "\(backlog.ledgerSending) sending; outbox \(backlog.outboxQueued) queued, \(backlog.outboxDeferred) "
                + "deferred, \(backlog.outboxSending) sending, \(backlog.outboxFailed) failed")
        if dueHours.isEmpty {
            lines.append("Next 24 hours: no active reader due")
        } else {
            lines.append("Next 24 hours (UTC): readers due")
            for hour in dueHours {
                lines.append("  \(DateParsing.iso8601String(hour.start))  \(hour.readers) (\(hour.editions.joined(separator: ", ")))")
            }
        }
        if !editions.isEmpty {
            lines.append("Editions:")
            for edition in editions.reversed() {
                // A day can have a daily edition and a weekly or catch-up one: the kind tells them apart.
                let name = edition.kind == EditionKind.daily.rawValue ? edition.date : "\(edition.date) \(edition.kind)"
                lines.append(
                    "  \(name)  \(edition.sent) sent, \(edition.deferred) deferred, \(edition.failed) failed, "
                        + "\(edition.skipped) skipped; \(edition.hardBounces) hard bounces, \(edition.complaints) complaints; "
                        + "\(edition.clicks) clicks")
            }
        }
        return lines
    }
}
