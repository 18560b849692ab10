import Foundation

/// Whether a command reply may act for the reader its token names. It acts only when
///
/// - its reply token (`ReplyAddress`) is ours, and not older than `ReplyAddress.validDays`;
/// - its From is the address of the token's reader (anyone may have the token: a forwarded digest carries it);
/// - when a receiving server named in `mail.trustedAuthservIds` added `Authentication-Results` (RFC 8601), DKIM
///   passed for the From domain (`header.d`) or SPF passed for it (`smtp.mailfrom`). Results from any other
///   authserv-id are ignored: anyone can write that header, only our own server's copy means something.
///
/// A pure function of the message's fields and the reader: no I/O, every refusal a value with its reason.
public struct ReplyTrust: Sendable {
    public var trustedAuthservIds: Set<String>

    public init(trustedAuthservIds: [String]) {
        self.trustedAuthservIds = Set(trustedAuthservIds.map { $0.lowercased() })
    }

    /// Why a reply may not act; its text says which check failed, for the import's listing.
    public enum Refusal: Sendable, Equatable, CustomStringConvertible {
        case noToken
        case expired(Day)
        case unknownReader
        case notActive(SubscriberStatus)
        case fromMismatch(from: String)
        case authenticationFailed(String)

        public var description: String {
            switch self {
            case .noToken: "no reply token of ours in To, Cc or Delivered-To"
            case .expired(let date): "the reply token of the edition of \(date) has expired"
            case .unknownReader: "the reply token names a reader who is no longer on the list"
            case .notActive(let status): "the reader is \(status.rawValue), not active"
            case .fromMismatch(let from): "From \(from) is not the address of the reader the token names"
            case .authenticationFailed(let why): "Authentication-Results: \(why)"
            }
        }
    }

    /// Nil when the reply of `from` may act for `reader` (the reader its token names) on `today`.
    public func refusal(
        reference: ReplyAddress.Reference?, reader: Subscriber?, from: EmailAddress?,
        authenticationResults: [String], today: Day
    ) -> Refusal? {
        guard let reference else { return .noToken }
        if reference.isExpired(today: today) { return .expired(reference.date) }
        guard let reader else { return .unknownReader }
        guard let from, from.isSameMailbox(as: reader.email) else {
            return .fromMismatch(from: from?.description ?? "(none)")
        }
        guard reader.status == .active else { return .notActive(reader.status) }
        return authenticationRefusal(authenticationResults, fromDomain: from.asciiDomain.lowercased())
    }

    /// Nil when no trusted server left results, or one says DKIM or SPF passed for `fromDomain`.
    func authenticationRefusal(_ fields: [String], fromDomain: String) -> Refusal? {
        let trusted = fields.compactMap(AuthenticationResults.init).filter { trustedAuthservIds.contains($0.authservID) }
        guard !trusted.isEmpty else { return nil }
        for results in trusted where results.passes(for: fromDomain) { return nil }
        let said = trusted.flatMap(\.results).map { "\($0.method)=\($0.result)" }.joined(separator: " ")
        return .authenticationFailed(
            "\(trusted[0].authservID) reports no DKIM or SPF pass for \(fromDomain) (\(said.isEmpty ? "no results" : said))")
    }
}

/// One `Authentication-Results` field (RFC 8601 §2.2): `authserv-id [version]; method=result ptype.property=value …; …`.
struct AuthenticationResults: Equatable {
    struct Result: Equatable {
        var method: String
        var result: String
        /// `header.d`, `header.i`, `smtp.mailfrom`, … lower-cased.
        var properties: [String: String]
    }

    var authservID: String
    var results: [Result]

    init?(_ field: String) {
        let statements = Self.withoutComments(field).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = statements.first?.split(separator: " ").first, !first.isEmpty else { return nil }
        authservID = first.lowercased()
        results = statements.dropFirst().compactMap { statement in
            let words = statement.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let head = words.first, let equals = head.firstIndex(of: "=") else { return nil }
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                guard let sign = word.firstIndex(of: "=") else { continue }
                var value = String(word[word.index(after: sign)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if let at = value.lastIndex(of: "@") { value = String(value[value.index(after: at)...]) }
                properties[word[..<sign].lowercased()] = value.lowercased()
            }
            return Result(
                method: head[..<equals].lowercased(), result: head[head.index(after: equals)...].lowercased(),
                properties: properties)
        }
    }

    /// Whether DKIM passed with a signing domain that is `domain`, or SPF passed for a MAIL FROM in `domain`.
    func passes(for domain: String) -> Bool {
        results.contains { result in
            guard result.result == "pass" else { return false }
            switch result.method {
            case "dkim": return [result.properties["header.d"], result.properties["header.i"]].contains(domain)
            case "spf": return result.properties["smtp.mailfrom"] == domain
            default: return false
            }
        }
    }

    /// RFC 8601 allows comments in parentheses anywhere (`dkim=pass (2048-bit key)`): they say nothing here.
    static func withoutComments(_ text: String) -> String {
        var result = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 } else if character == ")" { depth = max(0, depth - 1) } else if depth == 0 {
                result.append(character)
            }
        }
        return result
    }
}

extension EmailAddress {
    /// Whether both name one mailbox: mailbox providers treat local parts without case (the list stores them as
    /// typed), and domains are stored lower-cased.
    func isSameMailbox(as other: EmailAddress) -> Bool {
        localPart.lowercased() == other.localPart.lowercased() && asciiDomain == other.asciiDomain
    }
}
