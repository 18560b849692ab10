import Foundation

/// VERP envelope senders (variable envelope return path): each digest, and each mail of the outbox to a
/// reader (a confirmation), leaves with `bounces+TOKEN@domain` as its `MAIL FROM`, so a bounce that comes
/// back later names the reader and the mail it is about, whatever the bounce itself says (or fails to say).
///
/// TOKEN is `MAIL-SUBSCRIBERID-MAC`: MAIL is the edition's date as `YYYYMMDD` for a digest, or `m` and
/// the Unix second the mail was made for a mail of the outbox; MAC is 12 hex digits of an HMAC-SHA256
/// over MAIL and the reader's id under the link secret, so nobody can forge a bounce for another reader.
/// Lower-case letters, digits and hyphens only: it survives MTAs that fold the local part's case. A
/// digest's token has kept its form since the first VERP sender, so bounces of digests sent before
/// outbox mails had one still match.
public struct BounceAddress: Sendable {
    /// The configured base address (`mail.bounceAddress`), such as `bounces@courier.example`.
    public let base: EmailAddress
    let signer: LinkSigner

    public init(base: EmailAddress, signer: LinkSigner) {
        self.base = base
        self.signer = signer
    }

    /// The VERP senders of `mail.bounceAddress`; nil when it is not set (mail then leaves from `mail.from`).
    public init?(configuration: Configuration.Mail, signer: LinkSigner) {
        guard let base = configuration.bounceAddress else { return nil }
        self.init(base: base, signer: signer)
    }

    /// What a VERP token names: one mail sent to the subscriber `subscriberID`.
    public struct Reference: Sendable, Equatable {
        /// Which of the reader's mails.
        public enum Mail: Sendable, Equatable {
            /// The digest of the edition of this day.
            case edition(Day)
            /// A mail of the outbox (a confirmation), by the Unix second it was made.
            case outbox(madeAt: Int64)
        }

        public var mail: Mail
        public var subscriberID: Int64

        public init(mail: Mail, subscriberID: Int64) {
            self.mail = mail
            self.subscriberID = subscriberID
        }

        /// The digest of the edition of `date`.
        public init(date: Day, subscriberID: Int64) {
            self.init(mail: .edition(date), subscriberID: subscriberID)
        }

        /// The outbox mail made at `made`.
        public init(outboxMailMadeAt made: Date, subscriberID: Int64) {
            self.init(mail: .outbox(madeAt: Int64(made.timeIntervalSince1970.rounded(.down))), subscriberID: subscriberID)
        }
    }

    /// The envelope sender for `reference`.
    public func sender(for reference: Reference) -> EmailAddress {
        token.address(field: Self.field(reference.mail), subscriberID: reference.subscriberID)
    }

    func token(for reference: Reference) -> String {
        token.token(field: Self.field(reference.mail), subscriberID: reference.subscriberID)
    }

    /// A digest's MAC text has always been `verp|YYYYMMDD|ID`; an outbox mail's field starts with a letter, so no
    /// token of one kind is valid as the other.
    private var token: SubaddressToken { SubaddressToken(base: base, signer: signer, purpose: "verp") }

    /// The token's first field: `20261124` for a digest, `m1764000000` for a mail of the outbox.
    private static func field(_ mail: Reference.Mail) -> String {
        switch mail {
        case .edition(let date): date.compact
        case .outbox(let made): "m\(made)"
        }
    }

    private static func mail(inField field: Substring) -> Reference.Mail? {
        if field.first == "m" {
            let digits = field.dropFirst()
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let made = Int64(digits) else { return nil }
            return .outbox(madeAt: made)
        }
        return Day(compact: field).map(Reference.Mail.edition)
    }

    /// The reference in `address` when it is one of ours (`base` with a token whose MAC checks
    /// out); nil for any other address or a forged or damaged token.
    public func reference(in address: String) -> Reference? {
        guard let (field, subscriberID) = token.read(address), let mail = Self.mail(inField: field) else { return nil }
        return Reference(mail: mail, subscriberID: subscriberID)
    }
}
