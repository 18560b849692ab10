/// The base64 content transfer encoding of RFC 2045 §6.8 written incrementally: bytes arrive in
/// runs of any length, and the output is one unbroken encoding in lines of 76 characters, each
/// ended by CRLF, exactly as if the runs had been joined and encoded at once.
///
/// Runs whose characters are already known (`append(characters:to:)`) are copied, not encoded: a
/// digest's text is the same for every reader of an edition except a few values, so its base64 is
/// prepared once (`PersonalizedText.Base64Form`) and each reader's copy is spliced from it.
struct Base64Lines {
    static let lineLength = 76
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The bytes (0 to 2) waiting for the rest of their group of three.
    private var carry: (UInt8, UInt8) = (0, 0)
    private(set) var carried = 0
    /// Characters on the current line; its CRLF is written before the next character, so the last
    /// line is ended only by `finish`.
    private var column = 0
    private var wroteAny = false

    /// The characters of `bytes`, whose count is a multiple of 3, without line breaks.
    static func characters(of bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        precondition(bytes.count % 3 == 0, "base64 characters of whole groups only")
        return [UInt8](unsafeUninitializedCapacity: bytes.count / 3 * 4) { buffer, count in
            alphabet.withUnsafeBufferPointer { alphabet in
                var output = 0
                var input = 0
                while input < bytes.count {
                    let group = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                    buffer[output] = alphabet[Int(group >> 18)]
                    buffer[output + 1] = alphabet[Int(group >> 12 & 63)]
                    buffer[output + 2] = alphabet[Int(group >> 6 & 63)]
                    buffer[output + 3] = alphabet[Int(group & 63)]
                    input += 3
                    output += 4
                }
            }
            count = bytes.count / 3 * 4
        }
    }

    /// Encodes `bytes` after what came before.
    mutating func append(bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var rest = bytes[...]
        while carried > 0, let byte = rest.first {
            rest = rest.dropFirst()
            if carried == 1 {
                carry.1 = byte
                carried = 2
            } else {
                write(group: (carry.0, carry.1, byte), padding: 0, to: &output)
                carried = 0
            }
        }
        let whole = rest.count / 3 * 3
        if whole > 0 {
            let characters = Self.characters(of: UnsafeBufferPointer(rebasing: rest.prefix(whole)))
            characters.withUnsafeBufferPointer { append(characters: $0, to: &output) }
            rest = rest.dropFirst(whole)
        }
        for byte in rest {
            if carried == 0 { carry.0 = byte } else { carry.1 = byte }
            carried += 1
        }
    }

    /// Copies `characters`, the base64 of whole groups, into the lines; nothing may be carried.
    mutating func append(characters: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        precondition(carried == 0, "characters follow whole groups only")
        var start = 0
        while start < characters.count {
            breakFullLine(&output)
            let end = min(characters.count, start + Self.lineLength - column)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: characters[start..<end]))
            column += end - start
            start = end
        }
        wroteAny = wroteAny || !characters.isEmpty
    }

    /// Writes the bytes still carried with `=` padding, and the last line's CRLF.
    mutating func finish(to output: inout [UInt8]) {
        switch carried {
        case 1: write(group: (carry.0, 0, 0), padding: 2, to: &output)
        case 2: write(group: (carry.0, carry.1, 0), padding: 1, to: &output)
        default: break
        }
        carried = 0
        if wroteAny { output.append(0x0D); output.append(0x0A) }
        column = 0
        wroteAny = false
    }

    private mutating func write(group bytes: (UInt8, UInt8, UInt8), padding: Int, to output: inout [UInt8]) {
        let group = UInt32(bytes.0) << 16 | UInt32(bytes.1) << 8 | UInt32(bytes.2)
        for index in 0..<4 {
            breakFullLine(&output)
            output.append(index < 4 - padding ? Self.alphabet[Int(group >> (18 - 6 * index) & 63)] : UInt8(ascii: "="))
            column += 1
        }
        wroteAny = true
    }

    private mutating func breakFullLine(_ output: inout [UInt8]) {
        guard column == Self.lineLength else { return }
        output.append(0x0D)
        output.append(0x0A)
        column = 0
    }
}
