/// Whose problem one send outcome is: the reader's, the relay's, or nobody's yet.
///
/// Classified from the SMTP reply the transport recorded, using the RFC 3463 enhanced status code
/// when the reply carries one ("550 5.1.1 …"), else the basic code (RFC 5321 §4.2):
///
/// | reply                                   | verdict             | ledger                         |
/// |-----------------------------------------|---------------------|--------------------------------|
/// | 2xx                                     | `accepted`          | sent                           |
/// | no reply (refused, reset, timed out), 421 | `relayUnavailable` | deferred; counts toward the breaker |
/// | other 4xx                               | `tryLater`          | deferred                       |
/// | 5.2.2, 552 (mailbox full)               | `tryLater`          | deferred, no bounce            |
/// | 5.1.x (bad address), 5.2.x but 5.2.2-5.2.4, 5.4.x, and 550/551/553 without an enhanced code | `readerRefused` | failed, a hard bounce |
/// | 5.2.3, 5.2.4, 5.3.x, 5.5.x, 5.6.x, 5.7.x, 530, 535, 554 without an enhanced code, other 5xx | `relayRefused` | deferred, never a bounce |
///
/// "5.1.X Addressing Status … 5.7.X Security or Policy Status" — https://www.rfc-editor.org/rfc/rfc3463#section-3
/// 5.1.7/5.1.8 name the *sender's* address, so they are the relay's (our) problem too.
public enum ReplyVerdict: Sendable, Equatable {
    case accepted
    /// The relay could not be reached or gave no answer: the relay's problem, for every reader alike.
    case relayUnavailable
    /// A temporary refusal of this message: try again later.
    case tryLater
    /// A permanent refusal of this reader's address: a hard bounce.
    case readerRefused
    /// A permanent refusal that is about the relay, the sender or the message, not the reader.
    case relayRefused

    public init(_ outcome: SendOutcome) {
        switch outcome {
        case .sent:
            self = .accepted
        case .transient(let reason):
            guard let reply = SMTPReplyCode(reason) else {
                self = .relayUnavailable
                return
            }
            if reply.basic == 421 {
                self = .relayUnavailable
            } else {
                self = .tryLater
            }
        case .permanent(let reason):
            guard let reply = SMTPReplyCode(reason) else {
                self = .relayRefused
                return
            }
            self = Self.permanent(reply)
        }
    }

    private static func permanent(_ reply: SMTPReplyCode) -> ReplyVerdict {
        if let enhanced = reply.enhanced {
            switch (enhanced.subject, enhanced.detail) {
            case (1, 7), (1, 8): return .relayRefused
            case (2, 2): return .tryLater
            case (2, 3), (2, 4): return .relayRefused
            case (1, _), (2, _), (4, _): return .readerRefused
            default: return .relayRefused
            }
        }
        switch reply.basic {
        case 550, 551, 553: return .readerRefused
        case 552: return .tryLater
        default: return .relayRefused
        }
    }

    /// Whether the ledger should record this outcome as a deferral instead of the transport's verdict.
    public var defers: Bool { self == .tryLater || self == .relayRefused || self == .relayUnavailable }
}

/// The codes at the start of an SMTP reply: "550 5.1.1 <a@b>: Recipient address rejected".
struct SMTPReplyCode: Equatable {
    var basic: Int
    var enhanced: (class: Int, subject: Int, detail: Int)?

    static func == (lhs: SMTPReplyCode, rhs: SMTPReplyCode) -> Bool {
        lhs.basic == rhs.basic && lhs.enhanced.map { [$0.class, $0.subject, $0.detail] }
            == rhs.enhanced.map { [$0.class, $0.subject, $0.detail] }
    }

    /// The enhanced code as RFC 3463 writes it (`5.1.1`), when the reply has one.
    var status: String? { enhanced.map { "\($0.class).\($0.subject).\($0.detail)" } }

    /// Nil unless `text` starts with a three-digit reply code.
    init?(_ text: String) {
        let bytes = Array(text.utf8.prefix(24))
        func digits(from start: Int) -> (value: Int, end: Int)? {
            var index = start
            var value = 0
            while index < bytes.count, bytes[index] &- 0x30 < 10, index - start < 3 {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            return index > start ? (value, index) : nil
        }
        guard bytes.count >= 3, let code = digits(from: 0), code.end == 3, (200..<600).contains(code.value) else {
            return nil
        }
        basic = code.value
        enhanced = nil
        // "status-code = class "." subject "." detail" — https://www.rfc-editor.org/rfc/rfc3463#section-2
        var index = 3
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x2D { index += 1 }
        guard let first = digits(from: index), first.end < bytes.count, bytes[first.end] == 0x2E,
            let second = digits(from: first.end + 1), second.end < bytes.count, bytes[second.end] == 0x2E,
            let third = digits(from: second.end + 1), [2, 4, 5].contains(first.value)
        else { return }
        enhanced = (first.value, second.value, third.value)
    }
}
