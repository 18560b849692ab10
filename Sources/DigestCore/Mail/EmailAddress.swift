import Foundation

/// A validated, normalized email address: `local@domain`, domain lower-cased.
///
/// Accepts what a subscription form should: an ASCII local part (RFC 5322 dot-atom) and a domain
/// with at least one dot (internationalized labels allowed, `xn--` labels read as the Unicode they
/// stand for), within the RFC 5321 limits (64 octets local part, 255 domain, 254 in all). IP
/// literals (`me@[127.0.0.1]`) are refused.
public struct EmailAddress: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let localPart: String
    /// Lower-cased; may contain non-ASCII labels (see `asciiDomain` for the wire form).
    public let domain: String

    public var description: String { "\(localPart)@\(domain)" }

    /// The address with the domain in its ASCII (IDNA "xn--") form, as SMTP and headers need it.
    public var ascii: String { "\(localPart)@\(asciiDomain)" }

    public var asciiDomain: String {
        if domain.hasPrefix("[") { return domain }
        // Every label ASCII (the common case, asked for several times per message): nothing to encode.
        if domain.utf8.allSatisfy({ $0 < 0x80 }) { return domain }
        return domain.split(separator: ".", omittingEmptySubsequences: false)
            .map { label in label.allSatisfy(\.isASCII) ? String(label) : "xn--" + Punycode.encode(String(label)) }
            .joined(separator: ".")
    }

    public init(_ text: String) throws(EmailAddressError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { throw .init(address: text, reason: "is empty") }
        if let bad = trimmed.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            let name = bad == "\r" || bad == "\n" ? "a line break" : bad == " " ? "a space" : "a control character"
            throw .init(address: text, reason: "contains \(name)")
        }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .init(address: text, reason: parts.count < 2 ? "has no @" : "has more than one @")
        }
        let local = String(parts[0])
        let domain = Self.unicodeDomain(String(parts[1]))
        if local.isEmpty { throw .init(address: text, reason: "has nothing before the @") }
        if local.utf8.count > 64 { throw .init(address: text, reason: "local part is longer than 64 octets") }
        if !local.allSatisfy(\.isASCII) {
            throw .init(address: text, reason: "local part must be ASCII")
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") {
            throw .init(address: text, reason: "local part has a misplaced dot")
        }
        if let bad = local.first(where: { !Self.atext.contains($0) && $0 != "." }) {
            throw .init(address: text, reason: "local part contains \"\(bad)\"")
        }
        try Self.validateDomain(domain, address: text)
        self.localPart = local
        self.domain = domain
        if ascii.utf8.count > 254 { throw .init(address: text, reason: "is longer than 254 octets") }
    }

    /// An address read back from the database, where only validated, normalized addresses are
    /// written: split at its @, not validated again (this runs for every reader of a send). Text that
    /// does not look normalized (no single @, an upper-case or non-ASCII domain letter) is validated.
    init(stored text: String) throws(EmailAddressError) {
        let utf8 = text.utf8
        guard let at = utf8.firstIndex(of: UInt8(ascii: "@")), at != utf8.startIndex,
            utf8[utf8.index(after: at)...].allSatisfy({ $0 != UInt8(ascii: "@") && !(0x41...0x5A).contains($0) }),
            utf8.index(after: at) != utf8.endIndex
        else {
            try self.init(text)
            return
        }
        self.init(localPart: String(text[..<at]), domain: String(text[text.index(after: at)...]))
    }

    private init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The domain as stored and compared: lower-cased, Unicode NFC, and every `xn--` label decoded,
    /// so `bücher.example` and `xn--bcher-kva.example` are the same domain (one reader, not two).
    static func unicodeDomain(_ text: String) -> String {
        let lowered = text.precomposedStringWithCanonicalMapping.lowercased()
        guard lowered.contains("xn--") else { return lowered }
        return lowered.split(separator: ".", omittingEmptySubsequences: false).map { label in
            // Only a label that decodes to letters and digits and encodes back to itself is read as
            // Unicode; anything else stays as written (and is checked as ASCII).
            guard label.hasPrefix("xn--"), let decoded = Punycode.decode(String(label.dropFirst(4))), !decoded.isEmpty,
                decoded.contains(where: { !$0.isASCII }),
                decoded.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }),
                "xn--" + Punycode.encode(decoded) == label
            else { return String(label) }
            return decoded.precomposedStringWithCanonicalMapping.lowercased()
        }.joined(separator: ".")
    }

    private static let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")

    private static func validateDomain(_ domain: String, address: String) throws(EmailAddressError) {
        if domain.isEmpty { throw .init(address: address, reason: "has no domain after the @") }
        if domain.hasPrefix("[") {
            // A reader's address names a mail domain; an IP literal (`me@[127.0.0.1]`) would let the
            // form aim confirmation mails at any host, internal ones included.
            throw .init(address: address, reason: "is an IP address literal (use an address with a domain name)")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw .init(address: address, reason: "domain has no dot") }
        for label in labels {
            if label.isEmpty { throw .init(address: address, reason: "domain has an empty label") }
            let ascii = label.allSatisfy(\.isASCII) ? String(label) : "xn--" + Punycode.encode(String(label))
            if ascii.utf8.count > 63 { throw .init(address: address, reason: "domain label is longer than 63 octets") }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                throw .init(address: address, reason: "domain label starts or ends with a hyphen")
            }
            if let bad = label.first(where: { !($0.isLetter || $0.isNumber || $0 == "-") }) {
                throw .init(address: address, reason: "domain contains \"\(bad)\"")
            }
        }
        if labels.last!.allSatisfy(\.isNumber) {
            throw .init(address: address, reason: "domain ends in a number (use [1.2.3.4] for an IP address)")
        }
        if domain.utf8.count > 255 { throw .init(address: address, reason: "domain is longer than 255 octets") }
    }
}

/// Why an address was refused, with the address as given.
public struct EmailAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var address: String
    public var reason: String
    public var description: String { "invalid email address \"\(address.debugEscaped)\": \(reason)" }
}

/// A display name and an address, as in `"The Courier" <digest@courier.example>`.
public struct Mailbox: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var address: EmailAddress

    public init(name: String?, address: EmailAddress) {
        self.name = name
        self.address = address
    }

    /// Parses `addr`, `<addr>`, `Name <addr>` or `"Name" <addr>`.
    public init(parsing text: String) throws(EmailAddressError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            if name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
                throw EmailAddressError(address: text, reason: "display name contains a line break")
            }
            self.init(name: name.isEmpty ? nil : name, address: try EmailAddress(address))
        } else {
            self.init(name: nil, address: try EmailAddress(trimmed))
        }
    }

    public var description: String { name.map { "\($0) <\(address)>" } ?? address.description }
}

extension String {
    /// The text with CR, LF and other controls shown as escapes, for error messages.
    var debugEscaped: String {
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\r": result += "\\r"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default:
                if scalar.properties.generalCategory == .control {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
