import Crypto
import Foundation
import _CryptoExtras

/// Signs finished messages with DKIM (RFC 6376), one `DKIM-Signature` field per configured key:
/// RSA-SHA256, or Ed25519-SHA256 (RFC 8463), both with relaxed/relaxed canonicalization.
///
/// The signature covers every field of `signedFields` the message has (among them From, Subject,
/// Message-ID, `List-Unsubscribe` and `List-Unsubscribe-Post`, which Gmail and Yahoo want signed
/// for one-click unsubscribe) and the whole body. The body hash is computed once per message and
/// shared by all keys; the same message and time always give the same bytes (RSA PKCS #1 v1.5 and
/// Ed25519 signatures are deterministic).
public struct DKIMSigner: Sendable {
    /// The header fields signed, when present, in this order (lower case, as written in `h=`).
    public static let signedFields = [
        "from", "reply-to", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
        "list-unsubscribe-post", "mime-version", "content-type", "content-transfer-encoding",
    ]

    public let keys: [DKIMKey]

    public init(keys: [DKIMKey]) { self.keys = keys }

    /// Reads and checks every key of `mail.dkim`; nil when none is configured.
    public init?(configuration entries: [Configuration.DKIM]) throws(DKIMError) {
        guard !entries.isEmpty else { return nil }
        var keys: [DKIMKey] = []
        for entry in entries {
            keys.append(try DKIMKey(domain: entry.domain, selector: entry.selector, privateKeyFile: entry.privateKeyFile))
        }
        self.keys = keys
    }

    /// `message` (header fields, blank line, body; CRLF line ends) with a `DKIM-Signature` field per
    /// key put in front; `time` becomes `t=`. `bodyHash`: the message's `bodyHash(of:)` when it is known.
    public func sign(_ message: [UInt8], time: Date, bodyHash: BodyHash? = nil) -> [UInt8] {
        let fields = signatureFields(for: message, time: time, bodyHash: bodyHash)
        var signed: [UInt8] = []
        signed.reserveCapacity(fields.count + message.count)
        signed += fields
        signed += message
        return signed
    }

    /// The `bh=` of a message: the SHA-256 of its body in relaxed form (RFC 6376 §3.7), the same for every
    /// key. Worked out where the message was just built, while its bytes are in that core's cache, it costs
    /// about half what it costs a signing thread that reads the message afresh.
    public struct BodyHash: Sendable, Equatable {
        let base64: String
    }

    public func bodyHash(of message: [UInt8]) -> BodyHash {
        let bodyStart = DKIMCanonicalization.bodyStart(of: message)
        return BodyHash(
            base64: Data(SHA256.hash(data: DKIMCanonicalization.relaxedBody(message[bodyStart...]))).base64EncodedString())
    }

    /// Just the `DKIM-Signature` fields for `message`, CRLF-terminated, to be put in front of it.
    public func signatureFields(for message: [UInt8], time: Date, bodyHash known: BodyHash? = nil) -> [UInt8] {
        guard !keys.isEmpty else { return [] }
        let (fields, bodyStart) = DKIMCanonicalization.headerFields(of: message)
        let bodyHash =
            known?.base64
            ?? Data(SHA256.hash(data: DKIMCanonicalization.relaxedBody(message[bodyStart...]))).base64EncodedString()

        // The signed fields, in `signedFields` order; a field that appears twice is signed at its
        // last (bottom) occurrence, as a verifier pairs them (RFC 6376 §5.4.2).
        var names: [String] = []
        var canonicalFields: [UInt8] = []
        canonicalFields.reserveCapacity(bodyStart + 512)
        for name in Self.signedFields {
            guard let field = fields.last(where: { $0.name == name }) else { continue }
            names.append(name)
            DKIMCanonicalization.appendRelaxedHeader(message[field.range], to: &canonicalFields)
            canonicalFields.append(0x0D)
            canonicalFields.append(0x0A)
        }

        var result: [UInt8] = []
        for key in keys {
            // b= last, so everything after "b=" is its value, folding included.
            var header = "DKIM-Signature: v=1; a=\(key.algorithm.tag); c=relaxed/relaxed; d=\(key.domain);\r\n"
            header += "\ts=\(key.selector); t=\(Int64(time.timeIntervalSince1970.rounded(.down)));\r\n"
            header += "\th=" + Self.folded(names, separator: ":", indent: 3) + ";\r\n"
            header += "\tbh=\(bodyHash);\r\n\tb="
            let headerBytes = Array(header.utf8)
            var signedData = canonicalFields
            DKIMCanonicalization.appendRelaxedHeader(headerBytes[...], to: &signedData)
            let signature = key.signature(for: signedData)
            result += headerBytes
            result += Self.folded(signature.base64EncodedString(), firstLine: 72 - 3)
            result += [0x0D, 0x0A]
        }
        return result
    }

    /// `values` joined by `separator`, folded before a value that would pass 76 columns.
    private static func folded(_ values: [String], separator: String, indent: Int) -> String {
        var text = ""
        var column = indent + 8
        for (index, value) in values.enumerated() {
            let piece = (index > 0 ? separator : "") + value
            if column + piece.count > 76 && index > 0 {
                text += "\r\n\t "
                column = 9
            }
            text += piece
            column += piece.count
        }
        return text
    }

    /// Base64 text cut into lines (FWS is allowed anywhere in `b=`, RFC 6376 §3.5).
    private static func folded(_ base64: String, firstLine: Int) -> [UInt8] {
        let bytes = Array(base64.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + bytes.count / 24)
        var start = 0
        var width = firstLine
        while start < bytes.count {
            if start > 0 { result += [0x0D, 0x0A, 0x09, 0x20] }
            let end = min(bytes.count, start + width)
            result += bytes[start..<end]
            start = end
            width = 72
        }
        return result
    }

    /// The DNS TXT records that publish the public keys: `selector._domainkey.domain`.
    public func dnsRecords() -> [(name: String, value: String)] {
        keys.map { ("\($0.selector)._domainkey.\($0.domain)", $0.dnsRecord) }
    }

    /// The records as zone-file lines, each value cut into quoted strings of at most 255 octets
    /// (the limit of one character-string in a TXT record, RFC 1035 §3.3).
    public func zoneFileRecords() -> [String] {
        dnsRecords().map { name, value in
            var strings: [String] = []
            var rest = value[...]
            while !rest.isEmpty {
                strings.append("\"\(rest.prefix(255))\"")
                rest = rest.dropFirst(255)
            }
            return "\(name). IN TXT ( \(strings.joined(separator: " ")) )"
        }
    }
}

/// One signing key: where it signs (`d=`, `s=`) and the private key read from its PEM file.
public struct DKIMKey: Sendable {
    public enum Algorithm: Sendable, Equatable {
        case rsaSHA256
        case ed25519SHA256

        /// The `a=` tag.
        public var tag: String {
            switch self {
            case .rsaSHA256: "rsa-sha256"
            case .ed25519SHA256: "ed25519-sha256"
            }
        }
    }

    enum PrivateKey: Sendable {
        /// Signed by the system's OpenSSL libcrypto (`Support/OpenSSL.swift`): about twice BoringSSL's speed
        /// on CPUs with AVX-512 IFMA, the same elsewhere.
        case rsa(OpenSSLRSAKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let domain: String
    public let selector: String
    /// Where the key came from, for messages.
    public let file: String
    let privateKey: PrivateKey

    public var algorithm: Algorithm {
        switch privateKey {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// Reads a PEM private key as `openssl genrsa 2048` or `openssl genpkey -algorithm ed25519`
    /// write it (PKCS #8 or PKCS #1); the algorithm comes from the key.
    public init(domain: String, selector: String, privateKeyFile: String) throws(DKIMError) {
        let pem: String
        do {
            pem = try String(contentsOfFile: privateKeyFile, encoding: .utf8)
        } catch {
            throw DKIMError(file: privateKeyFile, "cannot be read: \(error.localizedDescription)")
        }
        try self.init(domain: domain, selector: selector, pem: pem, file: privateKeyFile)
    }

    /// A key from PEM text; `file` names it in errors.
    public init(domain: String, selector: String, pem: String, file: String = "PEM") throws(DKIMError) {
        self.domain = domain
        self.selector = selector
        self.file = file
        if let key = try? OpenSSLRSAKey(pem: pem) {
            guard key.bits >= 2048 else {
                throw DKIMError(
                    file: file, "is a \(key.bits)-bit RSA key; DKIM keys need at least 2048 bits (openssl genrsa 2048)")
            }
            privateKey = .rsa(key)
        } else if let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            privateKey = .ed25519(key)
        } else {
            throw DKIMError(
                file: file,
                "is not an RSA or Ed25519 private key in PEM form (make one with `openssl genrsa 2048` or "
                    + "`openssl genpkey -algorithm ed25519`)")
        }
    }

    /// The `b=` value: RSASSA-PKCS1-v1_5 over SHA-256, or Ed25519 over the SHA-256 hash (RFC 8463 §3).
    func signature(for data: [UInt8]) -> Data {
        let digest = SHA256.hash(data: data)
        switch privateKey {
        case .rsa(let key):
            return Data(key.signature(forSHA256: Array(digest)))
        case .ed25519(let key):
            // Signing with a key that loaded cannot fail short of memory exhaustion.
            return try! key.signature(for: Data(digest))
        }
    }

    /// The TXT record: `v=DKIM1; k=rsa; p=…` (SubjectPublicKeyInfo) or `k=ed25519` (the raw 32 bytes).
    public var dnsRecord: String {
        switch privateKey {
        case .rsa(let key): "v=DKIM1; k=rsa; p=\(Data(key.publicKeyDER).base64EncodedString())"
        case .ed25519(let key): "v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())"
        }
    }
}

/// A DKIM key that cannot be used, naming its file.
public struct DKIMError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "DKIM key \(file) (mail.dkim): \(message)" }
}

/// RFC 6376 §3.4.2 and §3.4.4: the "relaxed" canonicalizations.
enum DKIMCanonicalization {
    struct Field {
        /// Lower case.
        var name: String
        /// The whole field, folding included, without its final CRLF.
        var range: Range<Int>
    }

    /// The header fields of `message` and where its body starts (after the blank line).
    static func headerFields(of message: [UInt8]) -> (fields: [Field], bodyStart: Int) {
        var fields: [Field] = []
        var index = 0
        var fieldStart = 0
        let count = message.count
        func close(_ end: Int) {
            guard end > fieldStart else { return }
            let slice = message[fieldStart..<end]
            let colon = slice.firstIndex(of: UInt8(ascii: ":")) ?? end
            // The name without WSP around it, in lower case: ASCII by RFC 5322 §2.2, so byte by byte.
            var name = message[fieldStart..<colon].filter { $0 != 0x20 && $0 != 0x09 }
            for index in name.indices where name[index] >= 0x41 && name[index] <= 0x5A { name[index] |= 0x20 }
            fields.append(Field(name: String(decoding: name, as: UTF8.self), range: fieldStart..<end))
        }
        while index < count {
            // At the start of a line.
            if message[index] == 0x0D, index + 1 < count, message[index + 1] == 0x0A { return (fields, index + 2) }
            var end = index
            while end < count, !(message[end] == 0x0D && end + 1 < count && message[end + 1] == 0x0A) { end += 1 }
            let next = min(end + 2, count)
            let continues = next < count && (message[next] == 0x20 || message[next] == 0x09)
            if !continues {
                close(end)
                fieldStart = next
            }
            index = next
        }
        return (fields, count)
    }

    /// Where the body of `message` starts, as `headerFields(of:)` finds it without reading the fields: after
    /// the first empty line (CRLF CRLF, or a CRLF at the very start), else at the end.
    static func bodyStart(of message: [UInt8]) -> Int {
        if message.starts(with: [0x0D, 0x0A]) { return 2 }
        var index = 0
        while let cr = message[index...].firstIndex(of: 0x0D) {
            guard cr + 3 < message.count else { break }
            if message[cr + 1] == 0x0A && message[cr + 2] == 0x0D && message[cr + 3] == 0x0A { return cr + 4 }
            index = cr + 1
        }
        return message.count
    }

    /// Appends `field` to `result` as `name:value` with the name in lower case, unfolded, runs of WSP as one
    /// space, no WSP around the colon or at the end; no CRLF.
    static func appendRelaxedHeader(_ field: ArraySlice<UInt8>, to result: inout [UInt8]) {
        guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else {
            result += field
            return
        }
        for byte in field[..<colon] where byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
            result.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
        result.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for byte in field[(colon + 1)...] {
            switch byte {
            case 0x0D, 0x0A: continue
            case 0x20, 0x09: pendingSpace = started
            default:
                if pendingSpace { result.append(0x20) }
                pendingSpace = false
                started = true
                result.append(byte)
            }
        }
    }

    /// The body with runs of WSP as one space, no WSP at line ends, no empty lines at the end, and
    /// a final CRLF unless it is empty.
    ///
    /// This runs over every byte of every message of a signed send, so it goes sixteen bytes at a time (one
    /// SSE register): a word with no tab, no WSP after WSP and no CR after WSP is copied as it is (a lone
    /// space between two other bytes stays what it was); only the words around a change go byte by byte.
    /// Written straight into memory sized once (the result is never longer than the body plus a final CRLF).
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        body.withUnsafeBufferPointer { bytes in
            [UInt8](unsafeUninitializedCapacity: bytes.count + 2) { output, written in
                written = relaxedBody(UnsafeRawBufferPointer(bytes), into: output.baseAddress!)
            }
        }
    }

    /// Writes the relaxed form of `bytes` to `output` (room for `bytes.count + 2`); returns its length.
    private static func relaxedBody(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>) -> Int {
        let count = bytes.count
        var out = 0
        // The last input byte was WSP (and one space stands for its run in the output).
        var inRun = false
        var index = 0
        /// One byte by the rules: a run of WSP becomes one space, dropped again when CRLF follows.
        @inline(__always) func step() {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 {
                if !inRun {
                    output[out] = 0x20
                    out += 1
                    inRun = true
                }
            } else {
                if inRun && byte == 0x0D && index + 1 < count && bytes[index + 1] == 0x0A { out -= 1 }
                output[out] = byte
                out += 1
                inRun = false
            }
            index += 1
        }
        // The first byte by the rules, so that every byte of the wide loop below has one before it.
        if count > 0 { step() }
        if let base = bytes.baseAddress {
            let tab = SIMD16<UInt8>(repeating: 0x09)
            let space = SIMD16<UInt8>(repeating: 0x20)
            let carriageReturn = SIMD16<UInt8>(repeating: 0x0D)
            while index + 16 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
                // The input's byte before each one (the previous word's last byte before the first).
                let before = base.loadUnaligned(fromByteOffset: index - 1, as: SIMD16<UInt8>.self)
                let afterWSP = (before .== space) .| (before .== tab)
                let changes = (word .== tab) .| (afterWSP .& ((word .== space) .| (word .== carriageReturn)))
                // `any(changes)` without the standard library's generic reduction (a call per word): its two halves.
                let halves = unsafeBitCast(changes, to: (UInt64, UInt64).self)
                if halves.0 | halves.1 == 0 {
                    // Copied as it is: any space in it stands alone.
                    UnsafeMutableRawPointer(output + out).storeBytes(of: word, as: SIMD16<UInt8>.self)
                    out += 16
                    index += 16
                    inRun = word[15] == 0x20
                } else {
                    for _ in 0..<16 { step() }
                }
            }
        }
        while index < count { step() }
        // WSP at the very end is at the end of a line too.
        if inRun { out -= 1 }
        // No empty lines at the end; a body of nothing but empty lines is empty.
        func endsWithCRLF(_ length: Int) -> Bool { length >= 2 && output[length - 2] == 0x0D && output[length - 1] == 0x0A }
        while out >= 4 && endsWithCRLF(out) && endsWithCRLF(out - 2) { out -= 2 }
        if out == 2 && endsWithCRLF(2) { out = 0 }
        if out > 0 && !endsWithCRLF(out) {
            output[out] = 0x0D
            output[out + 1] = 0x0A
            out += 2
        }
        return out
    }
}
