import Logging
import NIOCore
import PostgresNIO

/// Runs a named prepared statement whose text is known only at run time, through postgres-nio's public
/// `PostgresConnection.execute(_: PostgresPreparedStatement, …)`.
///
/// That API is made for statements written as types (`static let sql`): the connection prepares a name
/// the first time it meets it (Parse, Describe, Sync, and waits for the answer), then only binds and
/// executes it, keeping the names it prepared per connection. The store's statements are strings (written
/// once, in DigestCore), so the two types below read their name and text from a task-local value that
/// `rows` sets around the call; postgres-nio reads both at the start of `execute`, inside that scope. A name
/// stands for one text on its connection for good (`PreparedStatementCache` never reuses one), which is
/// all postgres-nio assumes. The older untyped `prepare(query:)` does not fit: its statements are typed
/// by the server's guess rather than by the arguments (a text argument where the server guesses a date
/// is read in the wrong binary format). Its call for a command tag (`Row == ()`) is not used: in 1.33 it
/// fails a precondition for every statement (see `PreparedStatementCache`).
enum NamedStatement {
    struct Text: Sendable {
        let name: String
        let sql: String
        /// The parameters' types, sent with the preparation as the unnamed statement sends them with each run:
        /// the server then reads every argument in the type it was bound as, instead of guessing one from the
        /// statement (`? IS NULL`, `COALESCE(?, …)`). `.null` (0) leaves that one to the server.
        let types: [PostgresDataType]
    }

    static let current = TaskLocal<Text?>(wrappedValue: nil)

    /// `text`'s statement run for its rows; prepared first when the connection has not prepared the name.
    static func rows(
        _ text: Text, _ bindings: PostgresBindings, on connection: PooledConnection, logger: Logger
    ) -> EventLoopFuture<[PostgresRow]> {
        run(on: connection) { postgres in
            try await current.withValue(text) {
                var rows: [PostgresRow] = []
                for try await row in try await postgres.execute(Rows(bindings: bindings), logger: logger) {
                    rows.append(row)
                }
                return rows
            }
        }
    }

    /// `body` in a task whose jobs run on the connection's event loop (`EventLoopTaskExecutor`).
    private static func run<T: Sendable>(
        on connection: PooledConnection, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) -> EventLoopFuture<T> {
        let promise = connection.connection.eventLoop.makePromise(of: T.self)
        let postgres = connection.connection
        Task(executorPreference: connection.executor) {
            do {
                promise.succeed(try await body(postgres))
            } catch {
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    private static var text: Text {
        guard let text = current.get() else { preconditionFailure("a named statement run outside NamedStatement") }
        return text
    }

    /// The statement run for its rows.
    struct Rows: PostgresPreparedStatement {
        static var name: String { text.name }
        static var sql: String { text.sql }
        static var bindingDataTypes: [PostgresDataType] { text.types }
        typealias Row = PostgresRow
        let bindings: PostgresBindings
        func makeBindings() -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

}
