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
    /// Readers queued (a dry run: composed) per edition kind this run (`daily`, `weekly`, …).
    public var readers: [String: Int] = [:]
    /// Readers whose edition would be due now but who paused it.
    public var paused = 0

    public init() {}

    /// The plan's editions and readers.
    mutating func planned(_ outcome: EditionPlanner.Outcome) {
        editions = outcome.editions.map { $0.kind == .daily ? "\($0.date)" : "\($0.date) \($0.kind.rawValue)" }
        for (kind, count) in outcome.queued where count > 0 { readers[kind.rawValue, default: 0] += count }
        paused += outcome.paused
    }

    enum CodingKeys: String, CodingKey {
        case editions, queued, sent, skipped, deferred, failed, recovered, reasons, seconds, dryRun, note, stoppedBy
        case readers, paused
    }

    /// Reports stored before readers had cadences have no `readers` nor `paused`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        editions = try value(.editions, [])
        queued = try value(.queued, 0)
        sent = try value(.sent, 0)
        skipped = try value(.skipped, 0)
        deferred = try value(.deferred, 0)
        failed = try value(.failed, 0)
        recovered = try value(.recovered, 0)
        reasons = try value(.reasons, [:])
        seconds = try value(.seconds, 0)
        dryRun = try value(.dryRun, false)
        note = try c.decodeIfPresent(String.self, forKey: .note)
        stoppedBy = try c.decodeIfPresent(String.self, forKey: .stoppedBy)
        readers = try value(.readers, [:])
        paused = try value(.paused, 0)
    }

    /// "412 weekly, 9,118 daily, 37 paused": readers by edition kind, most first.
    public var readersLine: String? {
        var parts = readers.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\($0.value.formatted(.number.locale(Locale(identifier: "en_US")))) \($0.key)" }
        if paused > 0 { parts.append("\(paused.formatted(.number.locale(Locale(identifier: "en_US")))) paused") }
        return parts.isEmpty ? nil : "readers: " + parts.joined(separator: ", ")
    }

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
        let editionText =
            editions.isEmpty
            ? "no edition due" : "edition\(editions.count > 1 ? "s" : "") \(editions.joined(separator: ", "))"
        lines.append(
            "\(dryRun ? "dry run: " : "")\(editionText): \(sent) sent, \(skipped) skipped, \(deferred) deferred, "
                + "\(failed) failed" + (recovered > 0 ? ", \(recovered) recovered from an interrupted run" : "")
                + String(format: " in %.1fs (%.0f/s)", seconds, messagesPerSecond))
        if let readersLine { lines.append("  \(readersLine)") }
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
