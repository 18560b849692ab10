import Foundation

/// What an inbound import did, for the person, the cron job or the API client that ran it.
public struct InboundImportSummary: Sendable, Equatable {
    /// Messages read.
    public var messages = 0
    /// Bounces and complaints, as `digest bounces import` always reported them.
    public var bounces = BounceImportSummary()
    /// Messages of each other kind applied by this import (`command`, `letter`, `auto-reply`, `refused`).
    public var applied: [String: Int] = [:]
    /// Messages an earlier import had applied (nothing changed).
    public var duplicates = 0
    /// One line per message applied, saying what it did.
    public var details: [String] = []
    /// Letters that could not be forwarded (no `mail.replyTo`, no From): listed, not recorded, so a later import
    /// with `mail.replyTo` set forwards them.
    public var notForwarded: [String] = []

    public init() {}

    mutating func count(_ recorded: InboundRecorded, as kind: String, _ detail: String) {
        switch recorded {
        case .duplicate: duplicates += 1
        case .recorded:
            applied[kind, default: 0] += 1
            details.append(detail)
        }
    }

    /// One count of every message read, by what it was, then what each did; the bounce and complaint reports'
    /// own line only when there were some (one summary, not two that count the same messages differently).
    public var lines: [String] {
        let others = ["command", "refused", "letter", "auto-reply"].map { "\(applied[$0] ?? 0) \($0)" }
        var lines = [
            "\(messages) message\(messages == 1 ? "" : "s") read: \(bounces.messages) bounce or complaint report(s), "
                + "\(others.joined(separator: ", ")), \(duplicates) already applied"
        ]
        lines += details
        lines += notForwarded
        if bounces.messages > 0 { lines += bounces.lines }
        return lines
    }
}
