import DigestCore
import Foundation

/// A few open connections shared by threads that each hold one for a transaction: a thread leases an
/// idle one (or opens a new one while there are fewer than `maximum`, or waits), and gives it back
/// afterwards; a connection that broke is closed and forgotten instead, so the next lease opens a
/// fresh one. Blocking, like the rest of the store's API.
///
/// The bookkeeping is `State`, a value whose events return what to do; this class only performs the
/// actions (opening and closing connections outside the lock) and parks threads on a condition.
final class PostgresConnectionPool<Connection: Sendable>: @unchecked Sendable {
    /// Who holds which connection; no I/O.
    struct State {
        let maximum: Int
        /// Connections ready for a lease, most recently returned last.
        private(set) var idle: [Connection] = []
        /// Idle, leased and being opened.
        private(set) var count = 0
        private(set) var isClosed = false

        init(maximum: Int) { self.maximum = max(1, maximum) }

        enum LeaseAction {
            /// Use this idle connection.
            case use(Connection)
            /// Open a new connection (already counted: report `opened` or `dropped`).
            case open
            /// Every connection is leased: wait for a release or a drop, then lease again.
            case wait
            /// The pool was closed.
            case closed
        }

        mutating func lease() -> LeaseAction {
            if isClosed { return .closed }
            if let connection = idle.popLast() { return .use(connection) }
            if count < maximum {
                count += 1
                return .open
            }
            return .wait
        }

        enum ReleaseAction {
            /// Kept for the next lease; wake one waiting thread.
            case keep
            /// The pool was closed meanwhile: close it.
            case close(Connection)
        }

        /// A leased connection is given back in good order.
        mutating func release(_ connection: Connection) -> ReleaseAction {
            if isClosed {
                count -= 1
                return .close(connection)
            }
            idle.append(connection)
            return .keep
        }

        /// A leased connection broke (and was closed), or opening one failed: its place is free.
        mutating func dropped() {
            count -= 1
        }

        /// Closes the pool; the idle connections to close now (leased ones are closed when released).
        mutating func close() -> [Connection] {
            guard !isClosed else { return [] }
            isClosed = true
            let connections = idle
            count -= idle.count
            idle = []
            return connections
        }
    }

    private let condition = NSCondition()
    private var state: State
    private let openConnection: () throws -> Connection
    private let closeConnection: (Connection) -> Void
    private let closedError: () -> any Error

    init(
        maximum: Int, open: @escaping () throws -> Connection, close: @escaping (Connection) -> Void,
        closedError: @escaping () -> any Error
    ) {
        state = State(maximum: maximum)
        openConnection = open
        closeConnection = close
        self.closedError = closedError
    }

    /// A connection for the caller alone, until `release` or `drop`; waits while all are leased.
    /// `isUsable` weeds out idle connections the server closed meanwhile.
    func lease(isUsable: (Connection) -> Bool = { _ in true }) throws -> Connection {
        while true {
            condition.lock()
            let action = state.lease()
            if case .wait = action { condition.wait() }
            condition.unlock()
            switch action {
            case .use(let connection):
                if isUsable(connection) { return connection }
                drop(connection)
            case .open:
                do {
                    return try openConnection()
                } catch {
                    condition.lock()
                    state.dropped()
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            case .wait:
                continue
            case .closed:
                throw closedError()
            }
        }
    }

    func release(_ connection: Connection) {
        condition.lock()
        let action = state.release(connection)
        condition.signal()
        condition.unlock()
        if case .close(let connection) = action { closeConnection(connection) }
    }

    /// Closes a connection that is no longer fit for use and frees its place.
    func drop(_ connection: Connection) {
        closeConnection(connection)
        condition.lock()
        state.dropped()
        condition.signal()
        condition.unlock()
    }

    /// Closes the idle connections and refuses new leases; false when it was closed already.
    @discardableResult
    func close() -> Bool {
        condition.lock()
        let wasClosed = state.isClosed
        let connections = state.close()
        condition.broadcast()
        condition.unlock()
        connections.forEach(closeConnection)
        return !wasClosed
    }
}
