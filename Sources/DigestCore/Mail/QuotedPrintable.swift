/// The quoted-printable content transfer encoding of RFC 2045 §6.7, for message bodies.
///
/// Works on UTF-8 bytes and writes straight into preallocated memory: it runs once per part of
/// every message of a send, so it avoids `String` and per-byte allocation entirely.
///
/// - Line ends: CRLF, a lone LF and a lone CR all become one CRLF (a hard line break).
/// - Printable ASCII (33...126) other than `=` is kept; `=`, controls and every byte ≥ 128 are
///   written as `=XX` with upper-case hex digits.
/// - Space and tab are kept except right before a line end or the end of the text, where they
///   are encoded (rule 3: transports may strip trailing whitespace).
/// - No encoded line is longer than 76 characters: longer lines get soft breaks (`=` CRLF)
///   placed between encoded characters, never inside an `=XX` triplet, and never inside the
///   bytes of one UTF-8 sequence (not required by the RFC, but raw sources stay readable).
/// - No dot-stuffing: a `.` at the start of a line is kept; that is the SMTP transport's job.
public enum QuotedPrintable {
    /// The longest encoded line, without its CRLF (RFC 2045 §6.7, rule 5).
    public static let maximumLineLength = 76

    /// Encodes the UTF-8 bytes of `text`.
    public static func encode(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { encode($0) }
    }

    /// Encodes `bytes` (normally UTF-8).
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { encode($0) }
    }

    /// Encodes `input` into a new array sized once for the worst case (over-allocating beats a
    /// counting pre-pass here: measured about twice as fast for a 25 KB body).
    public static func encode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: worstCaseLength(input.count)) { buffer, count in
            count = encode(input, into: buffer.baseAddress!)
        }
    }

    /// An upper bound of the encoded length of `count` input bytes.
    ///
    /// Each byte becomes at most 3 characters (`=XX`, or CRLF for a line end). A soft break
    /// (3 characters) is only needed once a line holds at least 64 characters (75 minus the
    /// 11 that a 4-byte sequence may leave unused), which takes at least 21 input bytes.
    static func worstCaseLength(_ count: Int) -> Int { 4 * count + 4 }

    /// Writes the encoding of `input` to `output`, which must have room for
    /// `worstCaseLength(input.count)` bytes; returns the number of bytes written.
    static func encode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) -> Int {
        guard let source = input.baseAddress, !input.isEmpty else { return 0 }
        let count = input.count
        var written = 0
        var lineLength = 0
        var index = 0

        @inline(__always) func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }

        while index < count {
            // Fast path: printable characters and inner spaces well inside the line, the bulk of
            // HTML and plain text. Everything else (and the end of a line) takes the full path.
            while lineLength < maximumLineLength - 2 && index < count {
                let byte = source[index]
                if byte &- 0x21 < 0x5E && byte != 0x3D {
                    // 0x21...0x7E except "=": kept as is.
                } else if byte == 0x20 && index + 1 < count && source[index + 1] != 0x0A && source[index + 1] != 0x0D {
                    // An inner space: kept as is.
                } else {
                    break
                }
                output[written] = byte
                written += 1
                index += 1
                lineLength += 1
            }
            guard index < count else { break }

            let byte = source[index]
            if byte == 0x0A || byte == 0x0D {
                output[written] = 0x0D
                output[written + 1] = 0x0A
                written += 2
                lineLength = 0
                index += byte == 0x0D && index + 1 < count && source[index + 1] == 0x0A ? 2 : 1
                continue
            }

            // One token: the input bytes that must stay on one encoded line, and their width.
            var units = 1
            let literal: Bool
            if byte >= 0x21 && byte <= 0x7E && byte != 0x3D {
                literal = true
            } else if byte == 0x20 || byte == 0x09 {
                let next = index + 1 < count ? source[index + 1] : 0x0A
                literal = next != 0x0A && next != 0x0D
            } else {
                literal = false
                if byte >= 0xC0 {
                    let expected = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                    while units < expected && index + units < count && source[index + units] & 0xC0 == 0x80 {
                        units += 1
                    }
                }
            }
            let width = literal ? 1 : 3 * units
            let end = index + units
            // A line that goes on needs one column for the soft break's "="; only a token that
            // ends its line may use the 76th. (Checked only near the limit: the common case
            // skips the look-ahead.)
            if lineLength + width > maximumLineLength - 1 {
                let lastOnLine = end == count || source[end] == 0x0A || source[end] == 0x0D
                if !lastOnLine || lineLength + width > maximumLineLength {
                    output[written] = 0x3D
                    output[written + 1] = 0x0D
                    output[written + 2] = 0x0A
                    written += 3
                    lineLength = 0
                }
            }
            if literal {
                output[written] = byte
                written += 1
            } else {
                for offset in index..<end {
                    let value = source[offset]
                    output[written] = 0x3D
                    output[written + 1] = hexDigit(value >> 4)
                    output[written + 2] = hexDigit(value & 0x0F)
                    written += 3
                }
            }
            lineLength += width
            index = end
        }
        return written
    }
}

extension [UInt8] {
    /// Appends the quoted-printable encoding of `text`, written in place (no intermediate array).
    mutating func appendQuotedPrintable(_ text: String) {
        var text = text
        text.withUTF8 { appendQuotedPrintable($0) }
    }

    /// Appends the quoted-printable encoding of `input`, written in place.
    mutating func appendQuotedPrintable(_ input: UnsafeBufferPointer<UInt8>) {
        let start = count
        let room = QuotedPrintable.worstCaseLength(input.count)
        append(contentsOf: repeatElement(0, count: room))
        let written = withUnsafeMutableBufferPointer { buffer in
            QuotedPrintable.encode(input, into: buffer.baseAddress! + start)
        }
        removeLast(room - written)
    }
}
