import Foundation

/// VERP envelope senders (variable envelope return path): each digest leaves with
/// `bounces+TOKEN@domain` as its `MAIL FROM`, so a bounce that comes back later names the edition and
/// the reader it is about, whatever the bounce itself says (or fails to say).
///
/// TOKEN is `YYYYMMDD-SUBSCRIBERID-MAC`: the edition's date, the reader's id and 12 hex digits of an
/// HMAC-SHA256 under the link secret, so nobody can forge a bounce for another reader. Lower-case
/// letters, digits and hyphens only: it survives MTAs that fold the local part's case.
public struct BounceAddress: Sendable {
    /// The configured base address (`mail.bounceAddress`), such as `bounces@courier.example`.
    public let base: EmailAddress
    let signer: LinkSigner

    public init(base: EmailAddress, signer: LinkSigner) {
        self.base = base
        self.signer = signer
    }

    /// What a VERP token names: the edition of `date` sent to the subscriber `subscriberID`.
    public struct Reference: Sendable, Equatable {
        public var date: Day
        public var subscriberID: Int64

        public init(date: Day, subscriberID: Int64) {
            self.date = date
            self.subscriberID = subscriberID
        }
    }

    /// The envelope sender for `reference`.
    public func sender(for reference: Reference) -> EmailAddress {
        // The parts are ASCII letters, digits, "+" and "-": always a valid address.
        try! EmailAddress("\(base.localPart)+\(token(for: reference))@\(base.domain)")
    }

    func token(for reference: Reference) -> String {
        let compact = reference.date.description.filter { $0 != "-" }
        return "\(compact)-\(reference.subscriberID)-\(mac(compact, reference.subscriberID))"
    }

    private func mac(_ compactDate: String, _ subscriberID: Int64) -> String {
        signer.fingerprint(signed(compactDate, subscriberID), length: 12)
    }

    private func signed(_ compactDate: String, _ subscriberID: Int64) -> String {
        "verp|\(compactDate)|\(subscriberID)"
    }

    /// The reference in `address` when it is one of ours (`base` with a token whose MAC checks
    /// out); nil for any other address or a forged or damaged token.
    public func reference(in address: String) -> Reference? {
        var text = address.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("<") && text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let local = text[..<at].lowercased()
        let domain = text[text.index(after: at)...].lowercased()
        guard domain == base.domain.lowercased() || domain == base.asciiDomain.lowercased() else { return nil }
        let prefix = base.localPart.lowercased() + "+"
        guard local.hasPrefix(prefix) else { return nil }
        let parts = local.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let subscriberID = Int64(parts[1]), subscriberID >= 0,
            let date = Day(compact: parts[0]),
            signer.isValidFingerprint(parts[2], of: signed(String(parts[0]), subscriberID), length: 12)
        else { return nil }
        return Reference(date: date, subscriberID: subscriberID)
    }
}
