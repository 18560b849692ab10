import Foundation
import Synchronization

/// The counts of a run as they change, shared by the sender threads.
final class RunState: Sendable {
    enum Outcome { case sent, skipped, deferred, failed }

    private let current: Mutex<RunSummary>
    private let progress: (@Sendable (RunSummary) -> Void)?

    init(summary: RunSummary, progress: (@Sendable (RunSummary) -> Void)?) {
        current = Mutex(summary)
        self.progress = progress
    }

    func record(_ outcome: Outcome, reason: String?) {
        let snapshot = current.withLock { summary -> RunSummary in
            switch outcome {
            case .sent: summary.sent += 1
            case .skipped: summary.skipped += 1
            case .deferred: summary.deferred += 1
            case .failed: summary.failed += 1
            }
            if let reason { summary.reasons[reason, default: 0] += 1 }
            return summary
        }
        progress?(snapshot)
    }

    var summary: RunSummary { current.withLock { $0 } }
}
