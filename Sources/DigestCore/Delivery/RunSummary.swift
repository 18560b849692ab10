import Foundation

/// What one `digest send` did: counts, reasons and speed. Printed at the end and stored as the
/// run report.
public struct RunSummary: Sendable, Codable, Equatable {
    public var editions: [String] = []
    public var queued = 0
    public var sent = 0
    public var skipped = 0
    public var deferred = 0
    public var failed = 0
    /// Rows left `sending` by a run that died, put back in the queue at the start.
    public var recovered = 0
    /// Reason → how many deliveries ended with it (deferred, failed and skipped ones).
    public var reasons: [String: Int] = [:]
    public var seconds: Double = 0
    public var dryRun = false
    /// Set when the run did not send at all (lock held by another run, configuration error), or stopped.
    public var note: String?
    /// The stop event that ended sending early (`SenderPool.StopReason.Kind`), if one did.
    public var stoppedBy: String?

    public init() {}

    public var messagesPerSecond: Double { seconds > 0 ? Double(sent) / seconds : 0 }

    /// 0 when everything was delivered or skipped, 75 (EX_TEMPFAIL) when sending stopped early or
    /// deliveries are deferred to a later run, 1 when some failed for good.
    public var exitStatus: Int32 {
        if deferred > 0 || stoppedBy != nil { return 75 }
        if failed > 0 { return 1 }
        return 0
    }

    /// The lines printed at the end of a run.
    public var lines: [String] {
        var lines: [String] = []
        if let note { lines.append(note) }
        let editionText = editions.isEmpty ? "no edition due" : "edition \(editions.joined(separator: ", "))"
        lines.append(
            "\(dryRun ? "dry run: " : "")\(editionText): \(sent) sent, \(skipped) skipped, \(deferred) deferred, "
                + "\(failed) failed" + (recovered > 0 ? ", \(recovered) recovered from an interrupted run" : "")
                + String(format: " in %.1fs (%.0f/s)", seconds, messagesPerSecond))
        for (reason, count) in reasons.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }).prefix(10) {
            lines.append("  \(count) × \(reason)")
        }
        return lines
    }
}

/// A stored run, for `digest runs`.
public struct RunReport: Sendable, Codable, Equatable {
    public var id: Int64
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var exitStatus: Int32?
    public var summary: RunSummary?
    /// Bounces and complaints reported since about the messages of its editions (`digest runs` fills it in).
    public var reported: BounceCounts?
}
