import DigestCore
import Foundation
import Hummingbird

/// `GET /metrics`: the figures for Prometheus, in its text exposition format (version 0.0.4), from the
/// summary rows (`Store.metricsSnapshot`): what a scrape costs does not grow with the ledger. It answers where
/// admin pages do: on the admin listener, and on the public one with the admin bearer token.
struct MetricsController: Sendable {
    let database: StoreExecutor

    func addRoutes(to routes: PageRoutes) {
        routes.get("") { _, _ in try await metrics() }
    }

    func metrics() async throws -> Response {
        let snapshot = try await database.run { store in try store.metricsSnapshot() }
        return Response(
            status: .ok, headers: [.contentType: PrometheusText.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: PrometheusText.render(snapshot))))
    }
}

/// Writes a `MetricsSnapshot` as Prometheus text: every family with its `# HELP` and `# TYPE` line, counters
/// ending in `_total`, label values escaped. Pure (numbers in, text out).
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The metric families, in this order; see the README's table.
    static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = Exposition()
        let readers = snapshot.readers
        out.family("digest_readers", .gauge, "Readers on the list, by status.")
        for status in SubscriberStatus.allCases { out.sample("digest_readers", ["status": status.rawValue], readers[status]) }

        let messages = snapshot.messages
        out.family(
            "digest_messages_total", .counter,
            "Digest messages by final outcome, over every edition (as of each run's end).")
        out.sample("digest_messages_total", ["status": "sent"], messages.sent)
        out.sample("digest_messages_total", ["status": "failed"], messages.failed)
        out.sample("digest_messages_total", ["status": "skipped"], messages.skipped)
        out.family("digest_recipients_total", .counter, "Ledger rows queued: one per edition and reader.")
        out.sample("digest_recipients_total", [:], messages.recipients)
        out.family("digest_editions_total", .counter, "Editions with deliveries.")
        out.sample("digest_editions_total", [:], snapshot.editions)
        out.family(
            "digest_clicks_total", .counter,
            "Clicks on the digests' item links (privacy.clickCounting), as flushed to the database.")
        out.sample("digest_clicks_total", [:], snapshot.clicks)

        let events = snapshot.events
        out.family(
            "digest_bounce_reports_total", .counter,
            "Bounce reports received after the SMTP session (DSNs, the bounces API), by kind.")
        out.sample("digest_bounce_reports_total", ["kind": "hard"], events.hardBounces)
        out.sample("digest_bounce_reports_total", ["kind": "soft"], events.softBounces)
        out.sample("digest_bounce_reports_total", ["kind": "other"], events.otherBounces)
        out.family("digest_complaints_total", .counter, "Complaint reports received (feedback loops).")
        out.sample("digest_complaints_total", [:], events.complaints)
        out.family("digest_list_events_total", .counter, "Changes to the list, by event.")
        for (event, value) in [
            ("signup", events.signups), ("confirmation", events.confirmations), ("unsubscribe", events.unsubscribes),
            ("bounced", events.bounced), ("reactivated", events.reactivated), ("removed", events.removed),
        ] {
            out.sample("digest_list_events_total", ["event": event], value)
        }

        let backlog = snapshot.backlog
        out.family("digest_ledger_backlog", .gauge, "Digest deliveries waiting in the ledger, by status.")
        out.sample("digest_ledger_backlog", ["status": "queued"], backlog.ledgerQueued)
        out.sample("digest_ledger_backlog", ["status": "deferred"], backlog.ledgerDeferred)
        out.sample("digest_ledger_backlog", ["status": "sending"], backlog.ledgerSending)
        out.family("digest_outbox_backlog", .gauge, "Web mails (confirmations) in the outbox not sent, by status.")
        out.sample("digest_outbox_backlog", ["status": "queued"], backlog.outboxQueued)
        out.sample("digest_outbox_backlog", ["status": "deferred"], backlog.outboxDeferred)
        out.sample("digest_outbox_backlog", ["status": "sending"], backlog.outboxSending)
        out.sample("digest_outbox_backlog", ["status": "failed"], backlog.outboxFailed)

        if let run = snapshot.lastRun {
            out.family("digest_last_run_timestamp_seconds", .gauge, "When the last digest send run started (Unix time).")
            out.sample("digest_last_run_timestamp_seconds", [:], run.startedAt.timeIntervalSince1970)
            out.family("digest_last_run_finished", .gauge, "1 when the last send run finished, 0 while it runs or when it was killed.")
            out.sample("digest_last_run_finished", [:], run.finishedAt == nil ? 0 : 1)
            if let exit = run.exitStatus {
                out.family(
                    "digest_last_run_exit_status", .gauge,
                    "Exit status of the last finished send run (0 all sent, 75 deferred, 1 failed).")
                out.sample("digest_last_run_exit_status", [:], Int(exit))
            }
            if let seconds = run.seconds {
                out.family("digest_last_run_duration_seconds", .gauge, "How long the last finished send run took.")
                out.sample("digest_last_run_duration_seconds", [:], seconds)
            }
            out.family("digest_last_run_messages", .gauge, "Messages of the last send run, by outcome.")
            for (status, value) in [
                ("sent", run.sent), ("deferred", run.deferred), ("failed", run.failed), ("skipped", run.skipped),
            ] {
                out.sample("digest_last_run_messages", ["status": status], value)
            }
        }
        return out.text
    }

    enum Kind: String { case counter, gauge }

    /// The text being written.
    struct Exposition {
        private(set) var text = ""

        mutating func family(_ name: String, _ kind: Kind, _ help: String) {
            // A counter's family is named without `_total` in the TYPE and HELP lines of OpenMetrics; the
            // 0.0.4 text format names it as its samples are named.
            text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
            text += "# TYPE \(name) \(kind.rawValue)\n"
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) {
            sample(name, labels, String(value))
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            sample(name, labels, value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value))
        }

        private mutating func sample(_ name: String, _ labels: [String: String], _ value: String) {
            let pairs = labels.sorted { $0.key < $1.key }.map { key, value in
                let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    .replacingOccurrences(of: "\n", with: "\\n")
                return "\(key)=\"\(escaped)\""
            }
            text += name + (pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}") + " " + value + "\n"
        }
    }
}
