import Foundation

/// Runs `produce` on a thread of its own and keeps up to `capacity` of its results ready, so the
/// sender threads spend their turn on the wire, not on claiming and composing: with one SMTP connection,
/// composing the next message overlaps sending the current one.
///
/// Nothing about the ledger changes: a composed message waiting here belongs to a row that is already
/// `sending` (claimed), exactly like the rest of its claimed batch. A message is only in flight once a
/// sender takes it, and its outcome is recorded (by `LedgerRecorder`) right after the server's reply.
final class ComposeAhead<Item: Sendable>: @unchecked Sendable {
    // Every field below is guarded by `condition`.
    private let condition = NSCondition()
    /// At most `capacity` items, oldest first. A taken item leaves the array at once (removing the first of
    /// a handful moves a few references), so a composer that stays ahead never keeps sent messages alive.
    private var ready: [Item] = []
    private var exhausted = false
    private var stopping = false
    private var running = true

    private let capacity: Int
    private let produce: @Sendable () -> Item?

    /// Starts the composing thread at once.
    init(capacity: Int, produce: @escaping @Sendable () -> Item?) {
        self.capacity = max(1, capacity)
        self.produce = produce
        Thread.start(named: "digest-composer", background: true) { [self] in work() }
    }

    private func work() {
        while true {
            condition.lock()
            while ready.count >= capacity && !stopping { condition.wait() }
            if stopping { break }
            condition.unlock()
            let item = produce()
            condition.lock()
            if let item {
                ready.append(item)
            } else {
                exhausted = true
            }
            condition.broadcast()
            if item == nil { break }
            condition.unlock()
        }
        // Still holding the lock here.
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// The next composed item, waiting for the composer if it is behind; nil when it has no more.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !exhausted && running { condition.wait() }
        guard !ready.isEmpty else { return nil }
        let item = ready.removeFirst()
        condition.broadcast()
        return item
    }

    /// Stops composing and waits until the thread has finished the item it was working on. Returns
    /// how many composed items were never taken (their rows are still `sending`, for the caller to
    /// put back in the queue).
    @discardableResult
    func stop() -> Int {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        let left = ready.count
        ready = []
        return left
    }
}
