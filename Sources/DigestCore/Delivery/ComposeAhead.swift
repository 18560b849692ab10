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
    // `state` and `running` are guarded by `lock`; each kind of thread waits on a condition of its own
    // (`Waiting`), so an event wakes only a thread that can act on it (`State.Wakes`).
    private let lock = ConditionLock(conditions: 4)
    private enum Waiting: Int {
        case composer, finisher, sender
        /// `stop()`, for the composer and the finishers to exit.
        case exits
    }
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
            // At the senders' priority: in a signed send signing is the work the senders wait for, and at nice +10
            // any other program on the machine (a build, a browser) took the cores from it.
            Thread.start(named: "digest-signer-\(index + 1)") { [self] in finishItems() }
        }
    }

    /// Wakes whom `wakes` names. Hold the lock.
    private func wake(_ wakes: State.Wakes) {
        if wakes.contains(.everyone) {
            for waiting in [Waiting.composer, .finisher, .sender] { lock.broadcast(waiting.rawValue) }
            return
        }
        if wakes.contains(.composer) { lock.signal(Waiting.composer.rawValue) }
        if wakes.contains(.finisher) { lock.signal(Waiting.finisher.rawValue) }
        if wakes.contains(.sender) { lock.signal(Waiting.sender.rawValue) }
    }

    private func compose() {
        lock.lock()
        loop: while true {
            switch state.composerNext() {
            case .wait:
                lock.wait(Waiting.composer.rawValue)
            case .exit:
                break loop
            case .compose:
                lock.unlock()
                let item = produce()
                lock.lock()
                wake(state.composed(item))
            }
        }
        exited()
    }

    private func finishItems() {
        guard let finish else { return }
        lock.lock()
        loop: while true {
            switch state.finisherNext() {
            case .wait:
                lock.wait(Waiting.finisher.rawValue)
            case .exit:
                break loop
            case .finish(let number, let item):
                lock.unlock()
                let finished = finish(item)
                lock.lock()
                wake(state.finished(number: number, finished))
            }
        }
        exited()
    }

    /// Called by a composing or finishing thread, holding the lock, as it ends.
    private func exited() {
        running -= 1
        lock.broadcast(Waiting.exits.rawValue)
        lock.unlock()
    }

    /// The next item in composing order, waiting for the composer (and the finishers) if they are behind;
    /// nil when there are no more.
    func next() -> Item? {
        lock.lock()
        defer { lock.unlock() }
        while true {
            switch state.take() {
            case .take(let item, let wakes):
                wake(wakes)
                return item
            case .end:
                return nil
            case .wait:
                lock.wait(Waiting.sender.rawValue)
            }
        }
    }

    /// Stops composing and finishing, and waits until the threads have finished the items they were working
    /// on. Returns how many composed items were never taken (their rows are still `sending`, for the caller
    /// to put back in the queue).
    @discardableResult
    func stop() -> Int {
        lock.lock()
        defer { lock.unlock() }
        wake(state.stop())
        while running > 0 { lock.wait(Waiting.exits.rawValue) }
        return state.drain()
    }
}
