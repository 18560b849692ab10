import Foundation

/// Writes entries on a thread of its own, everything queued since the last write at once (one
/// transaction for the caller: group commit), in the order they were queued. The one writer of what it
/// is given: callers on other threads only queue.
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
    private var stopping = false
    private var ended = false
    private var failure: (any Error)?
    private let write: ([Entry]) throws -> Void
    private let failed: (any Error) -> Void

    /// Starts the writing thread at once. `write` runs on it; `failed` is called there once, with the
    /// first error `write` throws.
    init(
        named name: String, write: @escaping ([Entry]) throws -> Void, failed: @escaping (any Error) -> Void = { _ in }
    ) {
        self.write = write
        self.failed = failed
        Thread.start(named: name, background: true) { [self] in work() }
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
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty || failure != nil {
                ended = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            condition.unlock()
            var error: (any Error)?
            do { try write(batch) } catch let thrown { error = thrown }
            // Told before the waiters wake, so the stop they meet carries the cause.
            if let error { failed(error) }
            condition.lock()
            if let error {
                failure = error
                queue = []
            } else {
                written += batch.count
            }
            condition.broadcast()
            condition.unlock()
        }
    }
}
