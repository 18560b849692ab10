/// The content transfer encoding of one body part (RFC 2045 §6), chosen by size: quoted-printable
/// keeps Latin text readable and nearly as small as it is, but triples every byte outside ASCII,
/// so Arabic, Greek or Cyrillic text is a third smaller in base64. A part goes out in base64 only
/// when that is shorter.
public enum TransferEncoding: String, Sendable, Equatable {
    case quotedPrintable = "quoted-printable"
    case base64

    /// The shorter encoding for a body whose quoted-printable form is `quotedPrintableLength`
    /// bytes and whose canonical (CRLF) form is `canonicalLength` bytes.
    static func shorter(quotedPrintableLength: Int, canonicalLength: Int) -> TransferEncoding {
        base64Length(canonicalLength) < quotedPrintableLength ? .base64 : .quotedPrintable
    }

    /// Base64 of `count` bytes in lines of 76 characters, each ended by CRLF.
    static func base64Length(_ count: Int) -> Int {
        let characters = (count + 2) / 3 * 4
        return characters + (characters + 75) / 76 * 2
    }

    /// Bytes `text` has once every line end is CRLF (as `canonicalLineEnds` writes it).
    static func canonicalLength(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var count = text.count
        for index in text.indices where text[index] == 0x0A && (index == 0 || text[index - 1] != 0x0D) { count += 1 }
        for index in text.indices where text[index] == 0x0D && (index + 1 == text.count || text[index + 1] != 0x0A) {
            count += 1
        }
        return count
    }
}

extension TransferEncoding {
    /// `text` with each line end (LF, CR or CRLF) turned into CRLF, the canonical form of text that
    /// base64 carries (RFC 2045 §6.8).
    static func canonicalLineEnds(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: canonicalLength(text)) { buffer, count in
            var output = 0
            var index = 0
            while index < text.count {
                let byte = text[index]
                if byte == 0x0D || byte == 0x0A {
                    buffer[output] = 0x0D
                    buffer[output + 1] = 0x0A
                    output += 2
                    if byte == 0x0D && index + 1 < text.count && text[index + 1] == 0x0A { index += 1 }
                } else {
                    buffer[output] = byte
                    output += 1
                }
                index += 1
            }
            count = output
        }
    }
}

extension [UInt8] {
    /// Appends `text` in base64 (RFC 2045 §6.8) after turning each line end (LF, CR or CRLF)
    /// into CRLF, the canonical form of text: 76 characters per line, every line ended by CRLF.
    mutating func appendBase64(canonicalizing text: [UInt8]) {
        let canonical = text.withUnsafeBufferPointer(TransferEncoding.canonicalLineEnds)
        var lines = Base64Lines()
        canonical.withUnsafeBufferPointer { lines.append(bytes: $0, to: &self) }
        lines.finish(to: &self)
    }
}
