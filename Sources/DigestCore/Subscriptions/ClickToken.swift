import Foundation

/// The token of a counted item link, `/r/TOKEN` (`privacy.clickCounting`).
///
/// `aggregate`: `EDITION.ITEM.MAC`, which names the edition and the item and nothing about the reader, so
/// the link is the same in every reader's copy and the rendered body stays shared. `perReader` appends
/// `.READER.MAC`, a second MAC over the edition and the reader: the one per-reader value a copy needs
/// (`PersonalizedText.Field.clickReader`), the same for each of its items. Both MACs are HMAC-SHA256 under
/// the link secret, cut to 96 bits to keep links short (a forger still needs 2^96 guesses per link).
/// What a token names is a `ClickKey` (the reader only in a `perReader` link).
public enum ClickToken {
    /// Bytes of each MAC kept in the token.
    static let macLength = 12

    /// The shared part of the link: `EDITION.ITEM.MAC`.
    public static func item(editionID: Int64, itemID: Int64, signer: LinkSigner) -> String {
        "\(editionID).\(itemID).\(mac(itemText(editionID, itemID), signer))"
    }

    /// The reader's part, appended to every item link of their copy: `.READER.MAC`.
    public static func readerSuffix(editionID: Int64, subscriberID: Int64, signer: LinkSigner) -> String {
        ".\(subscriberID).\(mac(readerText(editionID, subscriberID), signer))"
    }

    /// What the token made by `item` (and `readerSuffix`) names, or nil for anything else: a MAC that does not
    /// match, a cut or changed token. The comparisons are constant-time.
    public static func verify(_ token: some StringProtocol, signer: LinkSigner) -> ClickKey? {
        let parts = String(token).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 5, let edition = Int64(parts[0]), let item = Int64(parts[1]),
            matches(parts[2], itemText(edition, item), signer)
        else { return nil }
        var reader: Int64?
        if parts.count == 5 {
            guard let id = Int64(parts[3]), matches(parts[4], readerText(edition, id), signer) else { return nil }
            reader = id
        }
        return ClickKey(editionID: edition, itemID: item, subscriberID: reader)
    }

    // Distinct prefixes: no other signed value of the site can pass for a click token, nor one part for the other.
    private static func itemText(_ edition: Int64, _ item: Int64) -> String { "click-item\n\(edition)\n\(item)" }
    private static func readerText(_ edition: Int64, _ reader: Int64) -> String { "click-reader\n\(edition)\n\(reader)" }

    private static func mac(_ text: String, _ signer: LinkSigner) -> String {
        Base64URL.encode(signer.authenticationCode(for: text).prefix(macLength))
    }

    private static func matches(_ encoded: Substring, _ text: String, _ signer: LinkSigner) -> Bool {
        guard let given = Base64URL.decode(String(encoded)), given.count == macLength else { return false }
        let expected = signer.authenticationCode(for: text).prefix(macLength)
        // Constant-time: every byte is looked at whatever the first difference.
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }
}
