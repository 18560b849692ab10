/// A message ready for the wire: the envelope and the exact bytes of the message
/// (RFC 5322, CRLF line ends, dot-stuffing left to the transport).
public struct MailMessage: Sendable, Equatable {
    /// Envelope sender (`MAIL FROM`).
    public var sender: EmailAddress
    /// Envelope recipient (`RCPT TO`): exactly one per message.
    public var recipient: EmailAddress
    /// The `Message-ID` header value, angle brackets included.
    public var messageID: String
    public var data: [UInt8]

    public init(sender: EmailAddress, recipient: EmailAddress, messageID: String, data: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.messageID = messageID
        self.data = data
    }
}

/// What became of one attempt to hand a message to the server.
public enum SendOutcome: Sendable, Equatable {
    /// Accepted; `reply` is the server's final reply, e.g. "250 2.0.0 Ok: queued as 4F3A".
    case sent(reply: String)
    /// Worth trying again later: connection refused or reset, timeout, TLS handshake, 4xx, 421.
    case transient(reason: String)
    /// Refused for good (5xx for this recipient, or a configuration the server rejects).
    case permanent(reason: String)

    /// The reply or reason, as recorded in the ledger.
    public var text: String {
        switch self {
        case .sent(let reply): reply
        case .transient(let reason), .permanent(let reason): reason
        }
    }
}

/// The final result for one message after the pool's in-run retries.
public struct DeliveryResult: Sendable, Equatable {
    public var outcome: SendOutcome
    public var attempts: Int
    /// The failure lies in the configuration (credentials, TLS), not with this recipient: a ledger should
    /// leave the message deferred and never count it as a bounce, whatever the outcome says.
    public var isConfigurationFailure: Bool
    /// A permanent refusal of the reader's address (RFC 3463 5.1.x and kin, see `ReplyVerdict`) that was
    /// not part of a relay-wide refusal: it counts toward the reader's `bounced`. Any other permanent
    /// refusal is the relay's or the sender's problem, and a ledger keeps the message for a later run.
    public var isBounce: Bool

    public init(outcome: SendOutcome, attempts: Int, isConfigurationFailure: Bool = false, isBounce: Bool = false) {
        self.outcome = outcome
        self.attempts = attempts
        self.isConfigurationFailure = isConfigurationFailure
        self.isBounce = isBounce
    }
}
