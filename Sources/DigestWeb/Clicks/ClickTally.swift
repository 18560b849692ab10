import DigestCore

/// The clicks counted in memory since the last flush to the store. A value type whose events say what
/// happened; no I/O, no waiting, so `ClickCounter`'s rules are tested without threads or a database.
struct ClickTally: Sendable {
    /// Distinct (edition, item, reader) keys held at most: past it a click on a new key is dropped (and
    /// counted as dropped) rather than growing without end while the database is away.
    let limit: Int
    private(set) var pending: [ClickKey: Int] = [:]
    /// Clicks lost to the limit, or to flushes that failed with a full tally, since the process started.
    private(set) var dropped = 0

    init(limit: Int = 100_000) { self.limit = limit }

    /// One click on `key`. False when it was dropped.
    @discardableResult
    mutating func click(_ key: ClickKey) -> Bool {
        if let count = pending[key] {
            pending[key] = count + 1
            return true
        }
        guard pending.count < limit else {
            dropped += 1
            return false
        }
        pending[key] = 1
        return true
    }

    /// The clicks to write now; the tally starts again from zero.
    mutating func take() -> [ClickKey: Int] {
        defer { pending = [:] }
        return pending
    }

    /// Puts back a batch whose write failed, added to what came in meanwhile, within the limit.
    mutating func restore(_ batch: [ClickKey: Int]) {
        for (key, count) in batch {
            if let current = pending[key] {
                pending[key] = current + count
            } else if pending.count < limit {
                pending[key] = count
            } else {
                dropped += count
            }
        }
    }
}
