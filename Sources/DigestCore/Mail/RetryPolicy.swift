import Foundation

/// How often and how late a message that failed transiently is tried again within one run.
///
/// The delay before try `n + 1` is `min(maxDelay, baseDelay × 2^(n−1))`, shortened by a random part of up
/// to `jitter` of itself so that connections that failed together do not retry together.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries per message in one run, the first included; after the last one the message is reported
    /// `.transient` (the ledger leaves it deferred for the next run).
    public var maxAttempts: Int
    /// Seconds before the second try.
    public var baseDelay: Double
    /// Upper bound of any one delay, in seconds.
    public var maxDelay: Double
    /// 0…1: the share of each delay that is randomised away (0 = exact delays, for tests).
    public var jitter: Double

    public init(maxAttempts: Int = 3, baseDelay: Double = 1, maxDelay: Double = 60, jitter: Double = 0.5) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
    }

    /// Seconds to wait after the failed try number `attempt` (1-based); `random` is in 0..<1.
    public func delay(afterAttempt attempt: Int, random: Double = .random(in: 0..<1)) -> Double {
        let exponential = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        return exponential * (1 - jitter * random)
    }
}

/// A token bucket shared by the connections of a pool: at most `perSecond` sends start per second.
final class SendRateLimiter: @unchecked Sendable {
    private let perSecond: Double
    private let capacity: Double
    private let lock = NSLock()
    private var tokens: Double
    private var last: Date

    /// `perSecond` > 0; `burst` is how many sends may start back to back after a quiet spell.
    init(perSecond: Double, burst: Double = 1) {
        self.perSecond = perSecond
        capacity = max(1, burst)
        tokens = capacity
        last = Date()
    }

    /// Takes a token, sleeping the calling thread until one is due. Tokens may go negative: each caller
    /// reserves the next free slot, so waiting threads are served in order without spinning.
    func acquire() {
        lock.lock()
        let now = Date()
        tokens = min(capacity, tokens + now.timeIntervalSince(last) * perSecond)
        last = now
        tokens -= 1
        let wait = tokens < 0 ? -tokens / perSecond : 0
        lock.unlock()
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }
}
