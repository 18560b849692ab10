/// RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?UTF-8?Q?...?=`) for non-ASCII header text.
///
/// Text is cut into words only between grapheme clusters (or, for a cluster too long for one
/// word, between Unicode scalars), so every word holds whole UTF-8 sequences and decodes on its
/// own (RFC 2047 §5: "each 'encoded-word' MUST represent an integral number of characters").
/// Decoders join adjacent encoded words and drop the whitespace between them (§6.2), so spaces
/// of the text are carried inside the words.
public enum EncodedWord {
    /// The two encodings of RFC 2047 §4.
    public enum Encoding: Sendable {
        /// Base64 (`B`): compact for scripts outside Latin (Arabic, emoji).
        case base64
        /// Q (`Q`): readable for mostly-ASCII text; uses only the characters allowed in a
        /// phrase (§5 rule 3), so the same words work in `Subject` and in display names.
        case q
    }

    /// The longest encoded word, delimiters included (RFC 2047 §2).
    public static let maximumLength = 75

    /// `=?UTF-8?B?` plus `?=`.
    static let overhead = 12

    /// Whether `text` must be encoded in a header: anything outside printable ASCII and space,
    /// or something a decoder would mistake for an encoded word.
    public static func isNeeded(for text: some StringProtocol) -> Bool {
        // One pass over the bytes: `contains("=?")` went through Foundation's string search, and this
        // runs for every word of every subject and name of a send.
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 || byte > 0x7E || (previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?")) {
                return true
            }
            previous = byte
        }
        return false
    }

    /// Q when it is at most a quarter longer than base64 (it stays readable in raw sources and
    /// spam filters like it for Latin text), base64 otherwise.
    public static func preferredEncoding(for text: String) -> Encoding {
        let base64Length = (text.utf8.count + 2) / 3 * 4
        return qLength(text.utf8) * 4 <= base64Length * 5 ? .q : .base64
    }

    /// Encodes `text` as one or more encoded words.
    ///
    /// - Parameters:
    ///   - firstMaximumLength: the room for the first word (the rest of the current header
    ///     line); when it is too small for a useful word, the first word gets the full length
    ///     and the caller is expected to fold before it.
    ///   - maximumLength: the limit for every other word, at most 75.
    public static func encode(
        _ text: String, encoding: Encoding? = nil, firstMaximumLength: Int = maximumLength,
        maximumLength: Int = maximumLength
    ) -> [String] {
        let encoding = encoding ?? preferredEncoding(for: text)
        let fullPayload = min(maximumLength, Self.maximumLength) - overhead
        var payloadBudget = min(firstMaximumLength, Self.maximumLength) - overhead
        if payloadBudget < 8 { payloadBudget = fullPayload }

        var words: [String] = []
        var chunk: [UInt8] = []
        var chunkQLength = 0

        func encodedLength(adding unit: [UInt8]) -> Int {
            switch encoding {
            case .base64: (chunk.count + unit.count + 2) / 3 * 4
            case .q: chunkQLength + qLength(unit)
            }
        }
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append(word(chunk, encoding: encoding))
            chunk.removeAll(keepingCapacity: true)
            chunkQLength = 0
            payloadBudget = fullPayload
        }
        func add(_ unit: [UInt8]) {
            chunk += unit
            chunkQLength += qLength(unit)
        }

        for character in text {
            let unit = Array(character.utf8)
            if encodedLength(adding: unit) <= payloadBudget {
                add(unit)
                continue
            }
            if !chunk.isEmpty {
                flush()
            } else if encodedLength(adding: unit) <= fullPayload {
                // Too little room for it on the current line: start the first word on the next.
                payloadBudget = fullPayload
            }
            if encodedLength(adding: unit) <= payloadBudget {
                add(unit)
                continue
            }
            // A grapheme cluster longer than a whole word (long combining sequences): cut it
            // between scalars, which still never splits a UTF-8 sequence.
            for scalar in character.unicodeScalars {
                let scalarUnit = Array(String(scalar).utf8)
                if encodedLength(adding: scalarUnit) > payloadBudget { flush() }
                add(scalarUnit)
            }
        }
        flush()
        return words
    }

    /// One encoded word for `bytes`.
    static func word(_ bytes: [UInt8], encoding: Encoding) -> String {
        var result: [UInt8] = Array("=?UTF-8?".utf8)
        switch encoding {
        case .base64:
            result += Array("B?".utf8)
            result += base64(bytes)
        case .q:
            result += Array("Q?".utf8)
            for byte in bytes {
                if byte == 0x20 {
                    result.append(0x5F)  // "_"
                } else if isQSafe(byte) {
                    result.append(byte)
                } else {
                    result.append(0x3D)
                    result.append(hexDigits[Int(byte >> 4)])
                    result.append(hexDigits[Int(byte & 0x0F)])
                }
            }
        }
        result += Array("?=".utf8)
        return String(decoding: result, as: UTF8.self)
    }

    /// Letters, digits and `! * + - /`: the Q characters allowed everywhere (RFC 2047 §5 rule 3).
    static func isQSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x21, 0x2A, 0x2B, 0x2D, 0x2F: true
        default: false
        }
    }

    static func qLength(_ bytes: some Sequence<UInt8>) -> Int {
        bytes.reduce(0) { $0 + (isQSafe($1) || $1 == 0x20 ? 1 : 3) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let base64Alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding (RFC 4648 §4), as RFC 2047 §4.1 requires.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(base64Alphabet[Int(value >> 18 & 63)])
            output.append(base64Alphabet[Int(value >> 12 & 63)])
            output.append(base64Alphabet[Int(value >> 6 & 63)])
            output.append(base64Alphabet[Int(value & 63)])
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            let value = UInt32(bytes[index]) << 16 | (remaining == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(base64Alphabet[Int(value >> 18 & 63)])
            output.append(base64Alphabet[Int(value >> 12 & 63)])
            output.append(remaining == 2 ? base64Alphabet[Int(value >> 6 & 63)] : 0x3D)
            output.append(0x3D)
        }
        return output
    }
}
