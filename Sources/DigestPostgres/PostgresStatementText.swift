import DigestCore
/// The two rewrites PostgreSQL needs of the store's SQL text, done by one lexical scan that knows
/// where code ends and quoted text or comments begin:
/// - `?` placeholders become `$1, $2, …` (PostgreSQL's extended protocol only knows numbered ones);
/// - a migration script is cut into single statements at its `;` (postgres-nio 1.33 sends every
///   query with the extended protocol, which takes one statement at a time).
///
/// Skipped as not code, after the PostgreSQL lexer
/// (https://www.postgresql.org/docs/15/sql-syntax-lexical.html): `'…'` strings (`''` inside;
/// backslash escapes in `E'…'`), `"…"` identifiers, `-- …` line comments, `/* … */` comments (nested),
/// and dollar-quoted `$tag$ … $tag$` bodies. A `?` in JSON operators (`?|`, `?&`) would be taken as a
/// placeholder: the store does not use them.
enum PostgresStatementText {
    /// `sql` with each `?` outside quotes and comments replaced by `$n`, and the number of them.
    static func numberingPlaceholders(_ sql: String) -> (sql: String, count: Int) {
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var count = 0
        var copied = 0
        scan(bytes) { index in
            guard bytes[index] == UInt8(ascii: "?") else { return }
            output += bytes[copied..<index]
            count += 1
            output += Array("$\(count)".utf8)
            copied = index + 1
        }
        output += bytes[copied...]
        return (String(decoding: output, as: UTF8.self), count)
    }

    /// The statements of `script`, split at each `;` outside quotes and comments, without the `;`;
    /// pieces holding only blanks and comments are left out (the server has nothing to run in them).
    static func statements(_ script: String) -> [String] {
        let bytes = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var hasCode = false
        scan(bytes) { index in
            if bytes[index] == UInt8(ascii: ";") {
                if hasCode { statements.append(String(decoding: bytes[start..<index], as: UTF8.self)) }
                start = index + 1
                hasCode = false
            } else if !isBlank(bytes[index]) {
                hasCode = true
            }
        }
        if hasCode { statements.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return statements
    }

    /// Calls `code` with the index of every byte of `bytes` that is plain SQL (not inside a string,
    /// quoted identifier, comment or dollar-quoted body). Quoted text counts as code for its opening
    /// byte only, so a statement made of one string literal still "has code".
    static func scan(_ bytes: [UInt8], code: (Int) -> Void) {
        var index = 0
        let count = bytes.count
        func at(_ offset: Int) -> UInt8? { offset < count ? bytes[offset] : nil }
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"):
                code(index)
                let escapes = index > 0 && (bytes[index - 1] | 0x20) == UInt8(ascii: "e")
                    && (index < 2 || !isIdentifier(bytes[index - 2]))
                index += 1
                while index < count {
                    if escapes && bytes[index] == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "'") {
                        if at(index + 1) == UInt8(ascii: "'") {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
                index += 1
            case UInt8(ascii: "\""):
                code(index)
                index += 1
                while index < count {
                    if bytes[index] == UInt8(ascii: "\"") {
                        if at(index + 1) == UInt8(ascii: "\"") {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
                index += 1
            case UInt8(ascii: "-") where at(index + 1) == UInt8(ascii: "-"):
                while index < count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where at(index + 1) == UInt8(ascii: "*"):
                var depth = 0
                while index < count {
                    if bytes[index] == UInt8(ascii: "/") && at(index + 1) == UInt8(ascii: "*") {
                        depth += 1
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*") && at(index + 1) == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                        if depth == 0 { break }
                    } else {
                        index += 1
                    }
                }
            case UInt8(ascii: "$") where index == 0 || !isIdentifier(bytes[index - 1]):
                // $tag$ or $$: the tag is an identifier that does not start with a digit ($1 is a parameter).
                var end = index + 1
                if let first = at(end), isTagCharacter(first), !isDigit(first) {
                    while let next = at(end), isTagCharacter(next) { end += 1 }
                }
                guard at(end) == UInt8(ascii: "$") else {
                    code(index)
                    index += 1
                    continue
                }
                code(index)
                let tag = Array(bytes[index...end])
                index = end + 1
                while index < count {
                    if bytes[index] == UInt8(ascii: "$") && index + tag.count <= count
                        && bytes[index..<(index + tag.count)].elementsEqual(tag)
                    {
                        index += tag.count
                        break
                    }
                    index += 1
                }
                if index >= count { index = count }
            default:
                code(index)
                index += 1
            }
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// What a dollar-quote tag is made of: an identifier without `$`.
    private static func isTagCharacter(_ byte: UInt8) -> Bool {
        byte != UInt8(ascii: "$") && isIdentifier(byte)
    }

    /// Letters, digits, `_`, `$`, and every non-ASCII byte (PostgreSQL allows those in identifiers).
    private static func isIdentifier(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "$") || byte >= 0x80
    }
}
