import DigestCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Waiting for a statement's answer without waiting forever. A server that crashed in the middle of a
/// transaction once left a statement's answer pending on a connection postgres-nio had already closed
/// (`pg_ctl stop -m immediate` during a send: the ledger writer blocked for good, and with it every
/// sender at its barrier). So the wait looks at the connection twice a second: once it is closed, a
/// statement still unanswered a moment later fails as the connection's loss. And no statement of the
/// store runs for minutes: after `longest`, the connection is closed and the statement fails.
enum PostgresAnswer {
    static let longest: TimeInterval = 300

    static func wait<T: Sendable>(for future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        future.whenComplete { outcome in
            result.withLockedValue { $0 = outcome }
            done.signal()
        }
        let deadline = Date().addingTimeInterval(longest)
        var closedSeen = false
        while done.wait(timeout: .now() + 0.5) == .timedOut {
            if connection.isClosed {
                // One more slice for an answer already on its way, then the loss is the answer.
                if closedSeen { throw PostgresError(message: "the connection to the server was lost") }
                closedSeen = true
            } else if Date() >= deadline {
                let _: EventLoopFuture<Void> = connection.close()
                throw PostgresError(message: "no answer from the server in \(Int(longest)) s; the connection was closed")
            }
        }
        return try result.withLockedValue { $0! }.get()
    }
}
