import Foundation
import GRDB

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
        try pool.write { db in
            let set = try db.makeStatement(sql: "UPDATE items SET votes = ?, updatedAt = ? WHERE url = ?")
            let add = try db.makeStatement(
                sql: "UPDATE items SET votes = max(0, min(votes + ?, 2147483647)), updatedAt = ? WHERE url = ?")
            let read = try db.makeStatement(sql: "SELECT votes FROM items WHERE url = ?")
            var results: [Int] = []
            for (index, change) in changes.enumerated() {
                switch change.operation {
                case .set(let votes): try set.execute(arguments: [votes, now, change.url])
                case .add(let votes): try add.execute(arguments: [votes, now, change.url])
                }
                // Throwing inside `write` rolls the whole transaction back.
                guard db.changesCount > 0, let votes = try Int.fetchOne(read, arguments: [change.url]) else {
                    throw UnknownItemError(index: index, url: change.url)
                }
                results.append(votes)
            }
            return results
        }
    }
}
