import Foundation

/// Just enough MIME (RFC 2045/2046) to read reports that come back: header fields, content types,
/// multipart bodies and their transfer encodings. Line ends are normalized to LF first, so a
/// message from the wire (CRLF), a Maildir or an mbox (LF) reads the same.
struct MIMEEntity {
    /// Unfolded fields in order; names as written.
    var fields: [(name: String, value: String)]
    /// The body as it stands (still transfer-encoded), LF line ends.
    var body: [UInt8]

    init(_ raw: [UInt8]) {
        let bytes = Self.lineFeedsOnly(raw)
        var fields: [(name: String, value: String)] = []
        var index = 0
        var current: [UInt8] = []
        func flush() {
            guard !current.isEmpty else { return }
            let line = String(decoding: current, as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                fields.append((
                    String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
            }
            current = []
        }
        var bodyStart = bytes.count
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let line = bytes[index..<end]
            if line.isEmpty {
                bodyStart = min(end + 1, bytes.count)
                break
            }
            if line.first == 0x20 || line.first == 0x09 {
                current.append(0x20)
                current += line.drop(while: { $0 == 0x20 || $0 == 0x09 })
            } else {
                flush()
                current = Array(line)
            }
            index = end + 1
        }
        flush()
        self.fields = fields
        body = Array(bytes[bodyStart...])
    }

    /// The first field named `name` (any case), unfolded.
    func field(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// `type/subtype` in lower case (`text/plain` when absent, RFC 2045 §5.2).
    var contentType: String {
        Self.value(of: field("Content-Type") ?? "text/plain").lowercased()
    }

    func contentTypeParameter(_ name: String) -> String? {
        Self.parameters(of: field("Content-Type") ?? "")[name.lowercased()]
    }

    /// The parts of a multipart body; empty for anything else.
    var parts: [MIMEEntity] {
        guard contentType.hasPrefix("multipart/"), let boundary = contentTypeParameter("boundary"), !boundary.isEmpty
        else { return [] }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [MIMEEntity] = []
        var partStart: Int?
        var index = 0
        let body = decodedBody
        while index <= body.count {
            var end = index
            while end < body.count && body[end] != 0x0A { end += 1 }
            let line = body[index..<end]
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                if closing || rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    if let start = partStart {
                        // The LF before a delimiter belongs to the delimiter.
                        parts.append(MIMEEntity(Array(body[start..<max(start, index - 1)])))
                    }
                    if closing { return parts }
                    partStart = end + 1
                }
            }
            index = end + 1
        }
        if let start = partStart, start < body.count { parts.append(MIMEEntity(Array(body[start...]))) }
        return parts
    }

    /// The body with its transfer encoding (base64 or quoted-printable) undone.
    var decodedBody: [UInt8] {
        switch (field("Content-Transfer-Encoding") ?? "").lowercased() {
        case "base64":
            let text = body.filter { !($0 == 0x0A || $0 == 0x0D || $0 == 0x20 || $0 == 0x09) }
            return Data(base64Encoded: Data(text), options: .ignoreUnknownCharacters).map { Self.lineFeedsOnly(Array($0)) } ?? body
        case "quoted-printable":
            return Self.decodeQuotedPrintable(body)
        default:
            return body
        }
    }

    /// The decoded body as text (UTF-8, invalid bytes replaced).
    var text: String { String(decoding: decodedBody, as: UTF8.self) }

    /// Every entity in this one, depth first, this one included.
    var allEntities: [MIMEEntity] { [self] + parts.flatMap(\.allEntities) }

    /// Groups of header-like fields separated by blank lines, as in message/delivery-status
    /// (RFC 3464 §2.1) and message/feedback-report (RFC 5965 §3.1).
    static func fieldGroups(_ text: String) -> [[(name: String, value: String)]] {
        var groups: [[(name: String, value: String)]] = []
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !lines.isEmpty { groups.append(MIMEEntity(Array((lines.joined(separator: "\n") + "\n\n").utf8)).fields) }
                lines = []
            } else {
                lines.append(String(line))
            }
        }
        if !lines.isEmpty { groups.append(MIMEEntity(Array((lines.joined(separator: "\n") + "\n\n").utf8)).fields) }
        return groups
    }

    /// `type/subtype` of a `Content-Type` value, before any parameter.
    static func value(of field: String) -> String {
        String(field.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// `name=value` parameters after the first `;`, names in lower case, quotes removed.
    static func parameters(of field: String) -> [String: String] {
        var result: [String: String] = [:]
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for character in field {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            result[name] = value
        }
        return result
    }

    static func lineFeedsOnly(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A { continue }
            result.append(byte)
        }
        return result
    }

    static func decodeQuotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                if index + 1 < bytes.count && bytes[index + 1] == 0x0A {
                    index += 2
                    continue
                }
                if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    result.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            result.append(byte)
            index += 1
        }
        return result
    }
}
