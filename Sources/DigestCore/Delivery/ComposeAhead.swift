import Foundation

/// Runs `produce` on a thread of its own and keeps up to `capacity` of its results ready, so the
/// sender threads spend their turn on the wire, not on claiming and composing: with one SMTP connection,
/// composing the next message overlaps sending the current one.
///
/// With `finish` (DKIM signing, a pure function of the finished bytes), `finishers` threads more apply it
/// to the composed items, as many at once as there are finishers, and the senders still get the items in
/// the order they were composed (`State`).
///
/// Nothing about the ledger changes: a composed message waiting here belongs to a row that is already
/// `sending` (claimed), exactly like the rest of its claimed batch. A message is only in flight once a
/// sender takes it, which is after it is finished (signed), and its outcome is recorded (by
/// `LedgerRecorder`) right after the server's reply.
final class ComposeAhead<Item: Sendable>: @unchecked Sendable {
    // `state` and `running` are guarded by `condition`.
    private let condition = NSCondition()
    /// A taken item leaves the state at once (removing the first of a handful of slots moves a few
    /// references), so a composer that stays ahead never keeps sent messages alive.
    private var state: State
    /// The composer and finisher threads still running.
    private var running: Int

    private let produce: @Sendable () -> Item?
    private let finish: (@Sendable (Item) -> Item)?

    /// Starts the composing thread, and the finishing threads, at once.
    ///
    /// - Parameters:
    ///   - finishers: threads applying `finish`; ignored without `finish`.
    init(
        capacity: Int, finishers: Int = 0, produce: @escaping @Sendable () -> Item?,
        finish: (@Sendable (Item) -> Item)? = nil
    ) {
        let finishers = finish == nil ? 0 : max(1, finishers)
        state = State(capacity: capacity, finishes: finishers > 0)
        running = 1 + finishers
        self.produce = produce
        self.finish = finish
        Thread.start(named: "digest-composer", background: true) { [self] in compose() }
        for index in 0..<finishers {
            Thread.start(named: "digest-signer-\(index + 1)", background: true) { [self] in finishItems() }
        }
    }

    private func compose() {
        condition.lock()
        while true {
            switch state.composerNext() {
            case .wait:
                condition.wait()
                continue
            case .exit:
                break
            case .compose:
                condition.unlock()
                let item = produce()
                condition.lock()
                state.composed(item)
                condition.broadcast()
                continue
            }
            break
        }
        exited()
    }

    private func finishItems() {
        guard let finish else { return }
        condition.lock()
        while true {
            switch state.finisherNext() {
            case .wait:
                condition.wait()
                continue
            case .exit:
                break
            case .finish(let number, let item):
                condition.unlock()
                let finished = finish(item)
                condition.lock()
                state.finished(number: number, finished)
                condition.broadcast()
                continue
            }
            break
        }
        exited()
    }

    /// Called by a composing or finishing thread, holding the lock, as it ends.
    private func exited() {
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next item in composing order, waiting for the composer (and the finishers) if they are behind;
    /// nil when there are no more.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state.take() {
            case .take(let item):
                condition.broadcast()
                return item
            case .end:
                return nil
            case .wait:
                condition.wait()
            }
        }
    }

    /// Stops composing and finishing, and waits until the threads have finished the items they were working
    /// on. Returns how many composed items were never taken (their rows are still `sending`, for the caller
    /// to put back in the queue).
    @discardableResult
    func stop() -> Int {
        condition.lock()
        defer { condition.unlock() }
        state.stop()
        condition.broadcast()
        while running > 0 { condition.wait() }
        return state.drain()
    }
}
