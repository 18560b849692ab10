import PostgresNIO

/// Which statements one connection keeps as named prepared statements, so the server parses and plans
/// them once per connection instead of once per run (the unnamed statement: Parse, Bind, Execute each
/// time). A value whose events return what to do; no I/O, so every transition is tested without a server.
///
/// What is prepared: a statement with placeholders, from its `threshold`th run on this connection. Every
/// statement a send repeats (the claim, the group commit, the outbox's) reaches it at once; one that runs
/// once (a migration step, an admin page's query, a statement built with its values inside) never pays
/// the preparation's extra round trip or holds server memory. At most `capacity` are kept; past that the
/// one used longest ago is deallocated.
///
/// A statement is keyed by its text and the types of its arguments: the server takes a prepared
/// statement's parameter types from its first Parse, and a later Bind of another type (a NULL where a
/// number was) would be read in the wrong binary format. Another set of types is another statement.
///
/// Only statements run for their rows (`fetchAll`) are prepared. postgres-nio 1.33 answers a named
/// statement with its rows only: its call that returns the command tag instead (the row count `execute`
/// returns) stops the process with a precondition ("commandTag may only be called if all rows have been
/// consumed") for every statement, rows or none. So the store's hot writes whose count is not needed are
/// written to return rows (the group commit returns the ids it wrote), and `execute` stays unnamed.
struct PreparedStatementCache {
    /// A statement as the server sees it: the translated text and the types of its arguments.
    struct Key: Hashable {
        let sql: String
        let types: [PostgresDataType]
    }

    /// What the caller wants from the statement.
    enum Wanted {
        /// Its rows (`fetchAll`).
        case rows
        /// The number of rows it changed (`execute`), from its command tag: never prepared.
        case count
    }

    enum Action: Equatable {
        /// Send it as the unnamed statement, as before.
        case unnamed
        /// Deallocate `deallocating` (evicted, or left behind by a failed run), then prepare the statement
        /// as `name` and run it.
        case prepare(name: String, deallocating: [String])
        /// Run the statement prepared as `name`.
        case execute(name: String)
    }

    private struct Entry {
        var uses = 0
        var name: String?
        var lastUse = 0
    }

    static let defaultThreshold = 2
    static let defaultCapacity = 64

    let threshold: Int
    let capacity: Int
    /// Statements seen on this connection; bounded (`remembered`) by forgetting the unprepared ones.
    private var entries: [Key: Entry] = [:]
    private(set) var preparedCount = 0
    /// Names no longer in use, to deallocate with the next preparation.
    private var retired: [String] = []
    private var clock = 0
    private var lastNumber = 0

    /// How many statements are remembered (counted, not prepared) before the unprepared ones are forgotten.
    var remembered: Int { capacity * 16 }

    init(threshold: Int = Self.defaultThreshold, capacity: Int = Self.defaultCapacity) {
        self.threshold = max(1, threshold)
        self.capacity = max(1, capacity)
    }

    /// The statement `key` is about to run, with `placeholders` placeholders.
    mutating func run(_ key: Key, placeholders: Int, wanted: Wanted) -> Action {
        guard placeholders > 0, wanted == .rows else { return .unnamed }
        clock += 1
        if entries[key] == nil, entries.count >= remembered { forgetUnprepared() }
        var entry = entries[key, default: Entry()]
        entry.uses += 1
        entry.lastUse = clock
        defer { entries[key] = entry }
        if let name = entry.name { return .execute(name: name) }
        guard entry.uses >= threshold else { return .unnamed }
        if preparedCount >= capacity, let evicted = leastRecentlyUsed() {
            retired.append(entries[evicted]!.name!)
            entries[evicted]!.name = nil
            entries[evicted]!.uses = 0
            preparedCount -= 1
        }
        lastNumber += 1
        let name = "digest_\(lastNumber)"
        entry.name = name
        preparedCount += 1
        let deallocating = retired
        retired = []
        return .prepare(name: name, deallocating: deallocating)
    }

    /// Preparing or running the named statement of `key` failed in a way that leaves the name unusable (see
    /// `PostgresSQLConnection`): the statement is prepared again, under a new name, at its next run.
    /// `deallocate`: the server still holds the old one; it is freed with the next preparation.
    mutating func discard(_ key: Key, deallocate: Bool) {
        guard var entry = entries[key], let name = entry.name else { return }
        if deallocate { retired.append(name) }
        entry.name = nil
        entry.uses = threshold - 1
        entries[key] = entry
        preparedCount -= 1
    }

    /// The prepared statement's name for `key`, if it has one.
    func name(of key: Key) -> String? { entries[key]?.name }

    private func leastRecentlyUsed() -> Key? {
        entries.filter { $0.value.name != nil }.min { $0.value.lastUse < $1.value.lastUse }?.key
    }

    private mutating func forgetUnprepared() {
        entries = entries.filter { $0.value.name != nil }
    }
}
