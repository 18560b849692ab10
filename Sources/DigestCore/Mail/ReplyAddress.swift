import Foundation

/// The Reply-To of a digest when `mail.replyAddress` is set: `reply+TOKEN@domain`, so a reader's reply names the
/// reader and the edition it answers, whatever the reply itself says (or a forger claims).
///
/// TOKEN is `YYYYMMDDk-SUBSCRIBERID-MAC`: the edition's date and its kind's letter (`d` daily, `w` weekly, `m`
/// monthly, `c` catch-up), the reader's id, and 12 hex digits of an HMAC-SHA256 under the link secret, signed like
/// the VERP sender (`SubaddressToken`) but under a purpose of its own, so neither passes for the other. A token is
/// good for `validDays` after its edition's date: an old digest's reply address stops acting for anyone.
public struct ReplyAddress: Sendable {
    /// The configured address (`mail.replyAddress`), such as `reply@courier.example`.
    public let base: EmailAddress
    let signer: LinkSigner
    /// How long after its edition a reply token still counts (a month and a half: a weekly reader on holiday).
    public static let validDays = 45

    public init(base: EmailAddress, signer: LinkSigner) {
        self.base = base
        self.signer = signer
    }

    /// The reply addresses of `mail.replyAddress`; nil when it is not set (digests keep `mail.replyTo`).
    public init?(configuration: Configuration.Mail, signer: LinkSigner) {
        guard let base = configuration.replyAddress else { return nil }
        self.init(base: base, signer: signer)
    }

    /// What a reply token names: the reader and the edition (date and kind) they were answering.
    public struct Reference: Sendable, Equatable, Hashable {
        public var date: Day
        public var kind: EditionKind
        public var subscriberID: Int64

        public init(date: Day, kind: EditionKind, subscriberID: Int64) {
            self.date = date
            self.kind = kind
            self.subscriberID = subscriberID
        }

        /// Whether the token is past its use on `today` (`validDays` after the edition's date).
        public func isExpired(today: Day) -> Bool { date.adding(days: ReplyAddress.validDays) < today }
    }

    /// The Reply-To address for `reference`.
    public func address(for reference: Reference) -> EmailAddress {
        token.address(field: Self.field(reference), subscriberID: reference.subscriberID)
    }

    /// The reference in `address` when it is one of ours with a good MAC; nil otherwise (expiry is the caller's:
    /// an expired token still names who it was for, which a refusal reports).
    public func reference(in address: String) -> Reference? {
        guard let (field, subscriberID) = token.read(address), let edition = EditionReference(token: field) else {
            return nil
        }
        return Reference(date: edition.date, kind: edition.kind, subscriberID: subscriberID)
    }

    private var token: SubaddressToken { SubaddressToken(base: base, signer: signer, purpose: "reply") }

    private static func field(_ reference: Reference) -> String {
        EditionReference(date: reference.date, kind: reference.kind).token
    }
}
