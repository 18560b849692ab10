import Foundation

/// Writes entries on a thread of its own, everything queued since the last write at once (one
/// transaction for the caller: group commit), in the order they were queued. The one writer of what it
/// is given: callers on other threads only queue.
///
/// With `writers` > 1 (a database across a network) that many groups may be in flight at once: a group
/// queued while another is being written goes out on the next free writer instead of waiting a round
/// trip for it. Groups may then commit out of order, but a ticket counts as written only once every entry
/// up to it is: the barrier keeps its meaning. Entries written by two writers at once must not depend on
/// each other (the ledger's do not: two outcomes of one reader are never in flight together).
///
/// `waitUntilRecorded(_:)` is the senders' barrier before a message's end of data: it returns once the
/// entry with that ticket is written, or false once a write has failed, after which nothing more is
/// written (what is queued later is dropped: its rows stay claimed for the next run to re-queue).
///
/// The queue, the tickets and the barrier are `State`'s; this class holds the lock, runs the writer threads and
/// calls `write` and `failed`.
final class GroupCommitRecorder<Entry: Sendable>: @unchecked Sendable {
    // `state` is guarded by `condition`; writers, callers at the barrier and `stop()` all wait on it.
    private let condition = NSCondition()
    private var state: State
    private let write: ([Entry]) throws -> Void
    private let failed: (any Error) -> Void

    /// Starts the writing thread at once. `write` runs on it; `failed` is called there once, with the
    /// first error `write` throws.
    init(
        named name: String, writers: Int = 1, write: @escaping ([Entry]) throws -> Void,
        failed: @escaping (any Error) -> Void = { _ in }
    ) {
        self.write = write
        self.failed = failed
        state = State(writers: writers)
        for _ in 0..<state.running {
            Thread.start(named: name, background: true) { [self] in work() }
        }
    }

    /// Queues `entries`; returns the ticket of the last one for `waitUntilRecorded` (the current ticket
    /// when `entries` is empty).
    @discardableResult
    func enqueue(_ entries: [Entry]) -> Int {
        condition.lock()
        defer { condition.unlock() }
        switch state.enqueue(entries) {
        case .queued(let ticket):
            condition.broadcast()
            return ticket
        case .dropped(let ticket):
            return ticket
        }
    }

    /// Waits until the entry with `ticket` (and all before it) is written: true; false when writing
    /// failed first. Ticket 0 returns at once.
    func waitUntilRecorded(_ ticket: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state.barrier(ticket) {
            case .recorded: return true
            case .never: return false
            case .wait: condition.wait()
            }
        }
    }

    /// The error that stopped writing, if one did.
    var error: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return state.failure
    }

    /// Writes what is queued, ends the thread and returns once it has ended.
    func stop() {
        condition.lock()
        state.stop()
        condition.broadcast()
        while !state.hasEnded { condition.wait() }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            switch state.writerNext() {
            case .wait:
                condition.wait()
            case .exit:
                condition.broadcast()
                condition.unlock()
                return
            case .write(let group, let first):
                condition.unlock()
                var error: (any Error)?
                do { try write(group) } catch let thrown { error = thrown }
                condition.lock()
                if let error {
                    let tell = state.writeFailed()
                    condition.unlock()
                    // Told before the waiters wake, so the stop they meet carries the cause.
                    if tell { failed(error) }
                    condition.lock()
                    state.failureTold(error)
                } else {
                    state.written(first: first, count: group.count)
                }
                condition.broadcast()
            }
        }
    }
}
