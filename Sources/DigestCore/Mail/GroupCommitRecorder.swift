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
final class GroupCommitRecorder<Entry: Sendable>: @unchecked Sendable {
    // Every field is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Entry] = []
    private var enqueued = 0
    private var written = 0
    /// Tickets handed to writers so far.
    private var taken = 0
    /// Groups written while an earlier one was still in flight: first ticket → last ticket.
    private var writtenAhead: [Int: Int] = [:]
    private var stopping = false
    /// Writer threads still running.
    private var running: Int
    private var ended: Bool { running == 0 }
    private var failure: (any Error)?
    private var failureTold = false
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
        running = max(1, writers)
        for _ in 0..<running {
            Thread.start(named: name, background: true) { [self] in work() }
        }
    }

    /// Queues `entries`; returns the ticket of the last one for `waitUntilRecorded` (the current ticket
    /// when `entries` is empty).
    @discardableResult
    func enqueue(_ entries: [Entry]) -> Int {
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil, !ended else { return enqueued }
        queue += entries
        enqueued += entries.count
        condition.broadcast()
        return enqueued
    }

    /// Waits until the entry with `ticket` (and all before it) is written: true; false when writing
    /// failed first. Ticket 0 returns at once.
    func waitUntilRecorded(_ ticket: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while written < ticket && failure == nil && !ended { condition.wait() }
        return written >= ticket
    }

    /// The error that stopped writing, if one did.
    var error: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Writes what is queued, ends the thread and returns once it has ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !ended { condition.wait() }
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping && failure == nil { condition.wait() }
            if queue.isEmpty || failure != nil {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            let first = taken
            taken += batch.count
            condition.unlock()
            var error: (any Error)?
            do { try write(batch) } catch let thrown { error = thrown }
            condition.lock()
            if let error {
                let tell = !failureTold
                failureTold = true
                condition.unlock()
                // Told before the waiters wake, so the stop they meet carries the cause.
                if tell { failed(error) }
                condition.lock()
                if failure == nil { failure = error }
                queue = []
            } else {
                writtenAhead[first] = first + batch.count
                while let next = writtenAhead.removeValue(forKey: written) { written = next }
            }
            condition.broadcast()
            condition.unlock()
        }
    }
}
