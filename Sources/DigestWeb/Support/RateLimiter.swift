import Foundation
import Synchronization

/// A token bucket per key (an IP address, an email address), in memory: `capacity` requests at
/// once, then one more every `1 / refillPerSecond` seconds. Restarting the server forgets it all,
/// which is fine for its job (slowing down form abuse on one machine).
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let capacity: Double
    let refillPerSecond: Double
    /// Buckets kept before full ones are forgotten.
    static let pruneThreshold = 10_000
    private let buckets = Mutex<[String: Bucket]>([:])

    init(capacity: Int, refillEvery interval: TimeInterval) {
        self.capacity = Double(capacity)
        refillPerSecond = 1 / interval
    }

    /// Takes one token for `key`; false when the bucket is empty (answer 429).
    func allow(_ key: String, now: Date) -> Bool {
        buckets.withLock { buckets in
            if buckets.count > Self.pruneThreshold {
                // A bucket that has refilled completely is the same as no bucket.
                buckets = buckets.filter { level($0.value, now) < capacity }
            }
            var bucket = buckets[key].map { Bucket(tokens: level($0, now), updated: now) }
                ?? Bucket(tokens: capacity, updated: now)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return true
        }
    }

    /// Seconds until `key` may try again: 0 while its bucket holds a token, else the time the next token
    /// takes to come (rounded up, at least 1). Takes nothing: for limits that count failures only, which
    /// ask this before trying and call `allow` after a failure.
    func waitTime(_ key: String, now: Date) -> Int {
        buckets.withLock { buckets in
            guard let bucket = buckets[key] else { return 0 }
            let tokens = level(bucket, now)
            // Less a hair, so that 40.000000001 s of floating-point arithmetic is still said as 40.
            return tokens >= 1 ? 0 : max(1, Int(((1 - tokens) / refillPerSecond - 1e-6).rounded(.up)))
        }
    }

    private func level(_ bucket: Bucket, _ now: Date) -> Double {
        min(capacity, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * refillPerSecond)
    }
}
