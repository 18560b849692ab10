import Foundation

/// An edition as readers and links name it: its date and its kind (an edition is identified by both since
/// issue 25; a reader gets at most one a day).
public struct EditionReference: Sendable, Hashable, CustomStringConvertible {
    public var date: Day
    public var kind: EditionKind

    public init(date: Day, kind: EditionKind) {
        self.date = date
        self.kind = kind
    }

    /// `YYYYMMDDk`: the date and the kind's letter, as vote links and reply addresses name the edition.
    var token: String { date.compact + String(kind.letter) }

    /// The edition `token` names (`20261124d`); nil for anything else.
    init?(token: some StringProtocol) {
        guard let letter = token.last, let kind = EditionKind(letter: letter), let date = Day(compact: token.dropLast())
        else { return nil }
        self.init(date: date, kind: kind)
    }

    /// "the week's best of 2026-11-30", "the daily edition of 2026-11-24": as the reader pages name it.
    public var description: String { "\(kind.title.hasPrefix("the ") ? "" : "the ")\(kind.title) of \(date)" }

    /// The same in `language` (catalog `edition.of.*`), the date in its digits: the vote page and the "Done:" mail.
    public func words(_ language: Language) -> String {
        let key =
            switch kind {
            case .daily: "edition.of.daily"
            case .weekly: "edition.of.weekly"
            case .monthly: "edition.of.monthly"
            case .catchUp: "edition.of.catchUp"
            }
        return language.text(key, ["date": language.digits(in: date.description)])
    }
}

/// What a digest's vote link names: one item of one edition, for one reader. The link is the only thing that
/// lets its holder vote, so it is signed over all three.
public struct DigestVote: Sendable, Hashable {
    public var edition: EditionReference
    public var itemID: Int64
    public var subscriberID: Int64

    public init(edition: EditionReference, itemID: Int64, subscriberID: Int64) {
        self.edition = edition
        self.itemID = itemID
        self.subscriberID = subscriberID
    }
}

/// Signs and reads the tokens of vote links (`/vote?token=TOKEN`), as `BounceAddress` signs VERP addresses:
/// TOKEN is `YYYYMMDDk-ITEM-READER-MAC`, the edition's date and kind (`d`aily, `w`eekly, `m`onthly,
/// `c`atch-up), the item's id, the reader's id, and 12 hex digits of an HMAC-SHA256 under the link secret
/// (`LinkSigner.fingerprint`, as many as a VERP token's). Short enough that a plain-text digest keeps the link
/// and its label on one line; the same secret revokes it.
///
/// The token holds no expiry: a vote link lasts as long as its edition's window after the edition closed, plus
/// `gracePeriod` (`expiry(windowStart:cutoff:)`), worked out from the stored edition when the vote comes.
public struct DigestVoteLink: Sendable {
    let signer: LinkSigner

    public init(signer: LinkSigner) {
        self.signer = signer
    }

    /// What a vote link is good for beyond its edition's window: readers of a daily digest may open it days
    /// later, and readers far from the site's zone receive it up to a day after the edition closes.
    public static let gracePeriod: TimeInterval = 7 * 24 * 3600

    /// Hex digits of the MAC: 48 bits, as VERP's. Guessing one takes ~10^14 requests on average, each
    /// limited per client, for one vote.
    static let macLength = 12

    /// The last instant a vote link of an edition with this window is accepted: the cut-off, one window
    /// more (a day for a daily edition, a week for a weekly one, a month for a monthly one, the look-back of
    /// a catch-up), and `gracePeriod`.
    public static func expiry(windowStart: Date, cutoff: Date) -> Date {
        cutoff.addingTimeInterval(max(0, cutoff.timeIntervalSince(windowStart)) + gracePeriod)
    }

    /// The token of `vote`.
    public func token(for vote: DigestVote) -> String {
        String(decoding: tokens(in: vote.edition, subscriberID: vote.subscriberID).bytes(of: vote.itemID), as: UTF8.self)
    }

    /// `reader`'s links to vote for each of `itemIDs` of `edition`: `base/v/TOKEN`, in order. A message of a send
    /// holds one per item, so the edition's part of the token and of its signed text is written once per copy.
    public func urls(base: String, edition: EditionReference, itemIDs: [Int64], subscriberID: Int64) -> [String] {
        let tokens = tokens(in: edition, subscriberID: subscriberID)
        let start = Array((base + "/v/").utf8)
        return itemIDs.map { String(decoding: start + tokens.bytes(of: $0), as: UTF8.self) }
    }

    /// The tokens of one reader's copy of one edition.
    private func tokens(in edition: EditionReference, subscriberID: Int64) -> ReaderTokens {
        let edition = edition.token + "-"
        return ReaderTokens(
            edition: Array(edition.utf8), reader: Array("-\(subscriberID)".utf8),
            fingerprints: signer.fingerprints(sharing: Self.signed(edition)))
    }

    /// `YYYYMMDDk-` and `-READER` around each item's id, and the fingerprints of the signed texts, which all start
    /// `vote|YYYYMMDDk-`.
    private struct ReaderTokens {
        let edition: [UInt8]
        let reader: [UInt8]
        let fingerprints: LinkSigner.FingerprintPrefix

        /// `YYYYMMDDk-ITEM-READER-MAC`.
        func bytes(of itemID: Int64) -> [UInt8] {
            var rest = Array("\(itemID)".utf8)
            rest += reader
            var token = edition
            token.reserveCapacity(edition.count + rest.count + 1 + DigestVoteLink.macLength)
            token += rest
            token.append(0x2D)
            fingerprints.append(rest, length: DigestVoteLink.macLength, to: &token)
            return token
        }
    }

    /// The vote `token` names when its MAC checks out (in constant time); nil for anything else: a token cut
    /// short, changed in any character, or made with another secret.
    public func vote(in token: String) -> DigestVote? {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].count == 9, let edition = EditionReference(token: parts[0]),
            let itemID = Self.id(parts[1]), let subscriberID = Self.id(parts[2])
        else { return nil }
        let vote = DigestVote(edition: edition, itemID: itemID, subscriberID: subscriberID)
        // The canonical spelling only (no leading zeros, no "+"): one vote has one token.
        let head = Self.head(vote)
        guard head == parts[0...2].joined(separator: "-"),
            signer.isValidFingerprint(parts[3], of: Self.signed(head), length: Self.macLength)
        else { return nil }
        return vote
    }

    private static func head(_ vote: DigestVote) -> String {
        "\(vote.edition.token)-\(vote.itemID)-\(vote.subscriberID)"
    }

    /// The signed text: a prefix no other signed value uses, so no VERP token or Message-ID fingerprint is
    /// ever a vote.
    private static func signed(_ head: String) -> String { "vote|" + head }

    private static func id(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
        return Int64(text)
    }
}
