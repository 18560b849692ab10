/// A cache emptied whole when one more entry would pass its count or its bytes: its users (the composer's
/// renderings and selections) mostly share a handful of entries, so emptying is rare, and cheaper to keep
/// than an eviction order.
struct BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let countLimit: Int
    let bytesLimit: Int
    private let size: @Sendable (Value) -> Int
    private var entries: [Key: Value] = [:]
    /// What the entries hold, by `size`.
    private(set) var bytes = 0

    /// `size`: the bytes an entry holds (none when the cache is bounded by count only).
    init(countLimit: Int, bytesLimit: Int = .max, size: @escaping @Sendable (Value) -> Int = { _ in 0 }) {
        self.countLimit = countLimit
        self.bytesLimit = bytesLimit
        self.size = size
    }

    var count: Int { entries.count }

    subscript(key: Key) -> Value? { entries[key] }

    mutating func insert(_ value: Value, for key: Key) {
        let added = size(value)
        if entries[key] == nil && (entries.count >= countLimit || bytes + added > bytesLimit) {
            entries.removeAll(keepingCapacity: true)
            bytes = 0
        }
        bytes += added - (entries.updateValue(value, forKey: key).map(size) ?? 0)
    }
}
