import Foundation

/// What a signed link lets its holder do. Part of the signed text, so a token for one purpose
/// never works for another.
public enum TokenPurpose: String, Sendable, CaseIterable {
    case confirm
    case unsubscribe
    case preferences
}

/// Signs and checks the tokens in confirm, unsubscribe and preferences links:
/// `ID.EXPIRY.MAC`, where MAC is HMAC-SHA256 over purpose, subscriber id, email and expiry with
/// a secret from the environment. No server-side state; changing the secret revokes every link.
public struct LinkSigner: Sendable {
    /// HMAC-SHA256 under the secret, through the system's libcrypto (`OpenSSLHMAC`: a send makes about twenty
    /// MACs a message).
    private let hmac: OpenSSLHMAC
    /// The start of every fingerprint, absorbed with each (`fingerprint`).
    private let fingerprinting: FingerprintPrefix

    /// The secret must be long enough to resist guessing.
    public static let minimumSecretLength = 16

    public init(secret: String) throws(LinkSignerError) {
        guard secret.utf8.count >= Self.minimumSecretLength else {
            throw LinkSignerError.secretTooShort(Self.minimumSecretLength)
        }
        hmac = OpenSSLHMAC(key: Array(secret.utf8))
        fingerprinting = FingerprintPrefix(hmac: hmac, prefix: Array("fingerprint\n".utf8))
    }

    private func mac(_ bytes: [UInt8]) -> [UInt8] { hmac.code(bytes) }

    /// Reads the secret from the environment variable `name` (from `web.secretEnv`).
    public init(environmentVariable name: String, environment: [String: String]) throws(LinkSignerError) {
        guard let secret = environment[name], !secret.isEmpty else { throw LinkSignerError.missingSecret(name) }
        do {
            try self.init(secret: secret)
        } catch {
            throw LinkSignerError.secretTooShortIn(name, Self.minimumSecretLength)
        }
    }

    /// A token for `purpose`; `expires` nil means it never expires (unsubscribe must always work).
    public func token(_ purpose: TokenPurpose, subscriberID: Int64, email: EmailAddress, expires: Date? = nil) -> String {
        let expiry = expires.map { Int64($0.timeIntervalSince1970) } ?? 0
        let mac = mac(signed(purpose, subscriberID, email, expiry))
        return "\(subscriberID).\(expiry).\(Base64URL.encode(Data(mac)))"
    }

    /// The subscriber id a token names, before it is checked (to look the subscriber up).
    public static func subscriberID(in token: String) -> Int64? {
        token.split(separator: ".", maxSplits: 1).first.flatMap { Int64($0) }
    }

    /// Whether `token` was made by this secret for this purpose, subscriber and address, and has
    /// not expired. The MAC comparison is constant-time.
    public func verify(_ token: String, purpose: TokenPurpose, subscriberID: Int64, email: EmailAddress, now: Date) -> TokenCheck {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let id = Int64(parts[0]), let expiry = Int64(parts[1]), id == subscriberID,
            let mac = Base64URL.decode(String(parts[2])), mac.count == OpenSSLHMAC.size,
            Self.constantTimeEqual(mac, self.mac(signed(purpose, id, email, expiry)))
        else { return .invalid }
        if expiry != 0 && Double(expiry) < now.timeIntervalSince1970 { return .expired }
        return .valid
    }

    /// A short keyed hash for values that must be stable but unguessable (Message-IDs).
    public func fingerprint(_ text: String, length: Int = 12) -> String {
        var hex: [UInt8] = []
        fingerprinting.append(text.utf8, length: length, to: &hex)
        return String(decoding: hex, as: UTF8.self)
    }

    /// `fingerprint` of many texts that start alike: `prefix` is written once, and each text's rest is fed after
    /// it (the fifteen vote links of a message share their edition's start).
    func fingerprints(sharing prefix: String) -> FingerprintPrefix {
        FingerprintPrefix(hmac: hmac, prefix: fingerprinting.prefix + prefix.utf8)
    }

    /// Fingerprints of texts that share a start (`fingerprints(sharing:)`).
    struct FingerprintPrefix: Sendable {
        fileprivate let hmac: OpenSSLHMAC
        fileprivate let prefix: [UInt8]

        /// Appends the first `length` hex digits of the fingerprint of the prefix followed by `rest`.
        func append(_ rest: some Sequence<UInt8>, length: Int, to output: inout [UInt8]) {
            let digits = min(max(0, length), 2 * OpenSSLHMAC.size)
            // Hex by table: `String(format:)` per byte was a fifth of the time of composing a message.
            for byte in hmac.code(prefix, Array(rest)).prefix((digits + 1) / 2) {
                output.append(LinkSigner.hexDigits[Int(byte >> 4)])
                output.append(LinkSigner.hexDigits[Int(byte & 0x0F)])
            }
            if digits % 2 == 1 { output.removeLast() }
        }
    }

    /// Whether `given` is `fingerprint(text, length:)`; the comparison is constant-time, so how much of a
    /// guess is right does not show in the time taken (VERP addresses, vote links).
    func isValidFingerprint(_ given: some StringProtocol, of text: String, length: Int) -> Bool {
        Self.constantTimeEqual(given.utf8, Array(fingerprint(text, length: length).utf8))
    }

    /// Whether `given` is `expected`, in a time that depends only on their lengths.
    private static func constantTimeEqual(_ given: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }

    /// HMAC-SHA256 of `text` under the link secret, for other signed values (math challenges).
    /// Callers put a distinct prefix in `text` so no two kinds of signed value can be confused.
    func authenticationCode(for text: String) -> Data {
        Data(mac(Array(text.utf8)))
    }

    /// Whether `code` is the MAC of `text`; the comparison is constant-time.
    func isValidAuthenticationCode(_ code: Data, for text: String) -> Bool {
        Self.constantTimeEqual(code, mac(Array(text.utf8)))
    }
    fileprivate static let hexDigits = Array("0123456789abcdef".utf8)

    private func signed(_ purpose: TokenPurpose, _ id: Int64, _ email: EmailAddress, _ expiry: Int64) -> [UInt8] {
        var address = email.description
        if address.utf8.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) { address = address.lowercased() }
        return Array("dailydigest\n\(purpose.rawValue)\n\(id)\n\(address)\n\(expiry)".utf8)
    }
}

/// The result of checking a token.
public enum TokenCheck: Sendable, Equatable {
    case valid
    case expired
    case invalid
}

public enum LinkSignerError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingSecret(String)
    case secretTooShort(Int)
    case secretTooShortIn(String, Int)

    public var description: String {
        switch self {
        case .missingSecret(let name):
            "the environment variable \(name) (web.secretEnv) is not set: it holds the secret that signs "
                + "unsubscribe, confirm and preferences links (e.g. export \(name)=$(openssl rand -hex 32))"
        case .secretTooShort(let length): "the link-signing secret must be at least \(length) characters"
        case .secretTooShortIn(let name, let length):
            "the secret in \(name) (web.secretEnv) must be at least \(length) characters"
        }
    }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), for tokens in links.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Written out rather than `base64EncodedString()` plus three `replacingOccurrences`: two tokens
    /// go into every message of a send, and the Foundation route cost more than the HMACs.
    static func encode(_ data: Data) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((data.count + 2) / 3 * 4)
        var index = data.startIndex
        while index < data.endIndex {
            let remaining = data.endIndex - index
            let first = data[index]
            let second = remaining > 1 ? data[index + 1] : 0
            let third = remaining > 2 ? data[index + 2] : 0
            output.append(alphabet[Int(first >> 2)])
            output.append(alphabet[Int((first & 0x03) << 4 | second >> 4)])
            if remaining > 1 { output.append(alphabet[Int((second & 0x0F) << 2 | third >> 6)]) }
            if remaining > 2 { output.append(alphabet[Int(third & 0x3F)]) }
            index += min(3, remaining)
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        // Only the canonical spelling: the last character's unused bits must be zero, so one
        // token has exactly one form (a changed character is always a different token).
        guard let data = Data(base64Encoded: base64), encode(data) == text else { return nil }
        return data
    }
}
