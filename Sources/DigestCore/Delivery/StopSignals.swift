import Dispatch
import Foundation

/// SIGTERM, SIGINT and SIGHUP as events of a run instead of the end of the process: what systemd sends at
/// `TimeoutStartSec`, an operator's Ctrl-C, a closed terminal. The first asks for a graceful stop (messages
/// on the wire finish and are recorded, the report is written, the lock released); the second for an
/// immediate one (no message reaches its end of data any more).
public final class StopSignals: @unchecked Sendable {
    public static let stopping: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    /// Set once in `init`, read in `cancel`.
    private let sources: [any DispatchSourceSignal]

    /// Routes the signals to `runner` until `cancel()`; their default action (ending the process) is off
    /// meanwhile.
    public init(stopping runner: DeliveryRunner) {
        let queue = DispatchQueue(label: "digest.signals")
        let received = LockedValue(0)
        sources = Self.stopping.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let count = received.withLock { count in
                    count += 1
                    return count
                }
                runner.stop(Self.reason(signal: number, count: count))
            }
            source.resume()
            return source
        }
    }

    /// Lets this thread receive the stopping signals. A process started with them blocked (Foundation's
    /// `Process` spawns children with most signals blocked; so do some supervisors) would otherwise never
    /// see SIGTERM; threads made later inherit the mask of the thread that makes them.
    public static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        for number in stopping { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// What the `count`-th stopping signal asks of a run.
    static func reason(signal number: Int32, count: Int) -> SenderPool.StopReason {
        let name = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP"][number] ?? "signal \(number)"
        return count == 1
            ? SenderPool.StopReason(.signal, "\(name) received: finished the messages on the wire, sent nothing more")
            : SenderPool.StopReason(.signal, "\(name) received again: stopped at once", immediate: true)
    }

    /// Gives the signals their default action back.
    public func cancel() {
        for source in sources { source.cancel() }
        for number in Self.stopping { signal(number, SIG_DFL) }
    }
}
