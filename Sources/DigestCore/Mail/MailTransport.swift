/// A way to deliver messages: SMTP through libcurl, or files in a Maildir.
public protocol MailTransport: Sendable {
    /// How many connections may be open (messages in flight) at once.
    var connections: Int { get }

    /// Opens the state of one connection. A connection is used by one thread at a time and
    /// sends messages one after another, reusing its session.
    func makeConnection() throws -> any MailConnection
}

/// One connection (an SMTP session, or a Maildir writer). Not thread-safe: one thread at a time.
public protocol MailConnection: AnyObject {
    /// Sends one message and blocks until the server's final reply (or a failure). Never throws:
    /// every failure is classified as transient or permanent.
    func send(_ message: MailMessage) -> SendOutcome

    /// `send(_:)`, calling `beforeEnd` once when the whole message has been handed over but before the
    /// end of data that makes the server take it (SMTP: before the final "."). A pool waits there for
    /// the previous message's outcome to be recorded, so recording overlaps this message's round trips
    /// and still no more than one accepted message per connection is ever unrecorded. When `beforeEnd`
    /// returns false the message is abandoned before the server takes it (a transient outcome).
    func send(_ message: MailMessage, beforeEnd: () -> Bool) -> SendOutcome

    /// Whether the connection is still worth reusing; after a transient failure a pool replaces it.
    var isUsable: Bool { get }

    /// Set after a failure that every later message would meet as well (wrong password, STARTTLS
    /// required but not offered, a certificate that does not verify): a pool stops sending when it
    /// sees one, and the text says what to fix. Nil when the last send had no such problem.
    var configurationProblem: String? { get }
}

extension MailConnection {
    public var configurationProblem: String? { nil }

    /// Transports without a separate end of data wait first, then send.
    public func send(_ message: MailMessage, beforeEnd: () -> Bool) -> SendOutcome {
        guard beforeEnd() else { return .transient(reason: MailConnectionText.abandoned) }
        return send(message)
    }
}

enum MailConnectionText {
    /// The outcome of a message whose end of data was held back because sending stopped.
    static let abandoned = "not sent: sending stopped before the end of data"
}
