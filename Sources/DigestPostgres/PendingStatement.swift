import DigestCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A statement sent without waiting for its answer (a transaction's BEGIN), settled once: its error, if
/// any, is thrown by the first statement that follows it.
final class PendingStatement: @unchecked Sendable {
    let sql: String
    let connection: PostgresConnection
    /// Read and cleared only by the one thread that runs the transaction.
    private var answer: EventLoopFuture<PostgresQueryResult>?

    init(sql: String, _ answer: EventLoopFuture<PostgresQueryResult>, on connection: PostgresConnection) {
        self.sql = sql
        self.answer = answer
        self.connection = connection
    }

    func settle() throws {
        guard let answer else { return }
        self.answer = nil
        do {
            _ = try PostgresAnswer.wait(for: answer, on: connection)
        } catch {
            throw PostgresError(error, sql: sql)
        }
    }
}
