import Foundation

/// The signed tokens that ride in the local part of our addresses (`base+FIELD-ID-MAC@domain`): VERP envelope
/// senders (`BounceAddress`) and the Reply-To of a digest (`ReplyAddress`). One place writes and reads them, so
/// both check the MAC the same way (in constant time) and fold case the same way.
///
/// FIELD names the mail (lower-case letters and digits), ID the reader, MAC is 12 hex digits of an HMAC-SHA256
/// over `purpose|FIELD|ID` under the link secret: a token of one purpose never passes for another's.
struct SubaddressToken {
    /// The configured address (`bounces@…`, `reply@…`): its local part is the prefix, its domain the domain.
    let base: EmailAddress
    let signer: LinkSigner
    /// Written into the MAC (`verp`, `reply`).
    let purpose: String

    /// `base` with the token for (`field`, `subscriberID`).
    func address(field: String, subscriberID: Int64) -> EmailAddress {
        // The parts are ASCII letters, digits, "+" and "-": always a valid address.
        try! EmailAddress("\(base.localPart)+\(token(field: field, subscriberID: subscriberID))@\(base.domain)")
    }

    func token(field: String, subscriberID: Int64) -> String {
        "\(field)-\(subscriberID)-\(mac(field, subscriberID))"
    }

    private func mac(_ field: some StringProtocol, _ subscriberID: Int64) -> String {
        signer.fingerprint(signed(field, subscriberID), length: 12)
    }

    private func signed(_ field: some StringProtocol, _ subscriberID: Int64) -> String {
        "\(purpose)|\(field)|\(subscriberID)"
    }

    /// FIELD and ID of `address` when it is `base` with a token whose MAC checks out; nil for any other address,
    /// a forged or a damaged token. `<…>` and any case are accepted (MTAs fold local parts).
    func read(_ address: String) -> (field: Substring, subscriberID: Int64)? {
        var text = address.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("<") && text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let local = text[..<at].lowercased()
        let domain = text[text.index(after: at)...].lowercased()
        guard domain == base.domain.lowercased() || domain == base.asciiDomain.lowercased() else { return nil }
        let prefix = base.localPart.lowercased() + "+"
        guard local.hasPrefix(prefix) else { return nil }
        let parts = local.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let subscriberID = Int64(parts[1]), subscriberID >= 0 else {
            return nil
        }
        // Constant-time: how much of a guess is right must not show in the time taken.
        guard signer.isValidFingerprint(parts[2], of: signed(parts[0], subscriberID), length: 12) else { return nil }
        return (parts[0], subscriberID)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
