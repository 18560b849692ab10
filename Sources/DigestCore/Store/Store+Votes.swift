import Foundation

/// One change of an item's votes: set to a count, or add to it (negative subtracts, never below 0).
public struct VoteChange: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case set(Int)
        case add(Int)
    }

    public var url: String
    public var operation: Operation

    public init(url: String, _ operation: Operation) {
        self.url = url
        self.operation = operation
    }
}

/// The url of a vote change that names no stored item; nothing of its batch was written.
public struct UnknownItemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Position of the change in its batch.
    public var index: Int
    public var url: String
    public var description: String { "no item has the url \(url)" }
}

extension Store {
    /// Applies every change in one transaction and returns each item's new vote count, in order.
    /// Throws `UnknownItemError` (and writes nothing) when a url names no item.
    public func applyVotes(_ changes: [VoteChange], now: Date = Date()) throws -> [Int] {
        try database.write { db in
            let set = "UPDATE items SET votes = ?, updatedAt = ? WHERE url = ?"
            let add =
                "UPDATE items SET votes = \(db.dialect.greatest("0", db.dialect.least("votes + ?", "2147483647"))), updatedAt = ? WHERE url = ?"
            var results: [Int] = []
            for (index, change) in changes.enumerated() {
                let changed: Int
                switch change.operation {
                case .set(let votes): changed = try db.execute(set, votes.sqlValue, now.sqlValue, .text(change.url))
                case .add(let votes): changed = try db.execute(add, votes.sqlValue, now.sqlValue, .text(change.url))
                }
                // Throwing inside `write` rolls the whole transaction back.
                guard changed > 0, let votes: Int = try db.fetchValue("SELECT votes FROM items WHERE url = ?", .text(change.url))
                else {
                    throw UnknownItemError(index: index, url: change.url)
                }
                results.append(votes)
            }
            return results
        }
    }
}
