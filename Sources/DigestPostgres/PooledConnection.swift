import PostgresNIO

/// A connection of the pool and the statements prepared on it. A connection the pool drops and opens
/// again starts with no prepared statements, as the server's new session does.
final class PooledConnection: @unchecked Sendable {
    let connection: PostgresConnection
    /// Where the async steps of its prepared statements run.
    let executor: EventLoopTaskExecutor
    /// Read and changed only by the thread that holds the connection's lease (the pool's lock orders
    /// one holder after the next).
    var statements: PreparedStatementCache

    init(_ connection: PostgresConnection, statements: PreparedStatementCache = PreparedStatementCache()) {
        self.connection = connection
        executor = EventLoopTaskExecutor(connection.eventLoop)
        self.statements = statements
    }

    var isClosed: Bool { connection.isClosed }
}
