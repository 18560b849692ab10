import Foundation

/// Mends what feed authors get wrong in XML before the parser sees it, the way a forgiving feed
/// reader reads it, and nothing more: the parser still checks that every element closes.
///
/// - HTML named references (`&eacute;`, `&rArr;`, `&NotEqualTilde;`: the whole HTML5 table) become
///   numeric ones; to XML they are undeclared entities, a fatal error.
/// - An `&` that starts no reference ("AT&T", `?a=1&b=2`) becomes `&amp;`; a `<` that starts no
///   tag ("a < b") becomes `&lt;`, as does a `<` inside an attribute value.
/// - Numeric references to C1 code points (`&#150;`) mean windows-1252 characters, as in HTML;
///   references to characters XML forbids become U+FFFD; raw control characters XML forbids are dropped.
///
/// - A `--` inside a comment (`<!-- generated -- do not edit -->`), which XML forbids, becomes ` -`: comments
///   carry nothing a feed reader shows.
/// - A parameter entity reference between the declarations of the internal subset (`%HTMLlat1;`) is removed:
///   such entities are never loaded, and the parser refuses a reference to one it has not read.
/// - A document cut off inside its very last end tag (`…</channel></rss` and nothing after) gets the `>`: the
///   last byte of a file lost by an editor or an upload, which every forgiving reader shrugs off.
///
/// A name that is neither XML's, declared in the document, nor HTML's is refused with its place:
/// "unknown entity &foo; at line 12, column 40". CDATA sections and processing instructions are copied
/// as they are, and comments but for their `--`.
enum XMLRepair {
    static func repair(_ bytes: [UInt8]) throws(FeedError) -> [UInt8] {
        var repairer = Repairer(bytes: bytes)
        try repairer.run()
        closeTruncatedEndTag(&repairer.output)
        return repairer.output
    }

    /// `</name` (and white space) at the very end, with no `>`: the `>` is added. Anything else at the end
    /// is left for the parser to judge.
    static func closeTruncatedEndTag(_ output: inout [UInt8]) {
        var end = output.count
        while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(output[end - 1]) { end -= 1 }
        var start = end
        while start > 0, isNameCharacter(output[start - 1]) { start -= 1 }
        guard start < end, isNameStart(output[start]), start >= 2, output[start - 2] == 0x3C, output[start - 1] == 0x2F
        else { return }
        output.removeSubrange(end...)
        output.append(0x3E)
    }

    /// The scan's state as stored properties of one struct: nested functions capturing local
    /// variables would box them, and every access to a box is checked at run time (a third slower).
    private struct Repairer {
        let bytes: [UInt8]
        var output: [UInt8] = []
        var declared: [String: [UInt8]?] = [:]
        var line = 1
        var lineStart = 0
        var index = 0
        var inTag = false
        var quote: UInt8 = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            output.reserveCapacity(bytes.count + bytes.count / 16)
        }

        func column(_ at: Int) -> Int {
            var count = 1
            for byte in bytes[lineStart..<at] where byte & 0xC0 != 0x80 { count += 1 }
            return count
        }

        /// Copies bytes[index..<end] (markup copied verbatim), dropping forbidden controls, counting lines.
        mutating func copy(to end: Int) {
            while index < end {
                let byte = bytes[index]
                if byte == 0x0A {
                    line += 1
                    lineStart = index + 1
                }
                if byte >= 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { output.append(byte) }
                index += 1
            }
        }

        /// The comment copied to output[start...]: a `-` that another `-` follows inside it (`<!-- a -- b -->`,
        /// `<!-- x --->`), which XML forbids, becomes a space; lines and columns stay as written.
        mutating func mendComment(from start: Int) {
            let end = output.count - 3
            guard end >= start + 4, output[end] == UInt8(ascii: "-"), output[end + 1] == UInt8(ascii: "-"),
                output[end + 2] == UInt8(ascii: ">")
            else { return }
            for at in (start + 4)..<end where output[at] == UInt8(ascii: "-") {
                if at + 1 == end || output[at + 1] == UInt8(ascii: "-") { output[at] = UInt8(ascii: " ") }
            }
        }

        func skipPast(_ terminator: String, from start: Int) -> Int {
            firstIndex(of: Array(terminator.utf8), in: bytes, from: start).map { $0 + terminator.utf8.count }
                ?? bytes.count
        }

        mutating func run() throws(FeedError) {
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "<") where quote != 0:
                    output.append(contentsOf: Array("&lt;".utf8))
                    index += 1
                case UInt8(ascii: "<"):
                    let next = index + 1 < bytes.count ? bytes[index + 1] : 0
                    if starts(bytes, at: index, with: "<![CDATA[") {
                        copy(to: skipPast("]]>", from: index + 9))
                    } else if starts(bytes, at: index, with: "<!--") {
                        let start = output.count
                        copy(to: skipPast("-->", from: index + 4))
                        mendComment(from: start)
                    } else if next == UInt8(ascii: "?") {
                        copy(to: skipPast("?>", from: index + 2))
                    } else if starts(bytes, at: index, with: "<!DOCTYPE") {
                        let (end, references) = doctype(bytes, from: index)
                        declared.merge(declaredEntities(bytes[index..<end])) { first, _ in first }
                        // Parameter entities are never loaded (external entities are off), and libxml2 refuses
                        // a reference to one it has not read ("an entity that is not declared"): the XHTML
                        // entity sets old feeds pull in (`%HTMLlat1;`), whose characters are HTML's anyway.
                        for reference in references {
                            copy(to: reference.lowerBound)
                            output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: reference.count))
                            index = reference.upperBound
                        }
                        copy(to: end)
                    } else if isNameStart(next) || next == UInt8(ascii: "/") || next == UInt8(ascii: "!") {
                        inTag = true
                        output.append(byte)
                        index += 1
                    } else {
                        output.append(contentsOf: Array("&lt;".utf8))
                        index += 1
                    }
                case UInt8(ascii: ">") where quote == 0:
                    inTag = false
                    output.append(byte)
                    index += 1
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if inTag {
                        if quote == 0 { quote = byte } else if quote == byte { quote = 0 }
                    }
                    output.append(byte)
                    index += 1
                case UInt8(ascii: "&"):
                    let reference = readReference(bytes, at: index)
                    switch reference {
                    case .none:
                        output.append(contentsOf: Array("&amp;".utf8))
                        index += 1
                    case .numeric(let value, let end):
                        output.append(contentsOf: Array("&#\(xmlCharacter(value));".utf8))
                        index = end
                    case .named(let name, let end):
                        if xmlEntities.contains(name) {
                            output.append(contentsOf: bytes[index..<end])
                        } else if let value = declared[name] {
                            // FoundationXML does not hand internal entities' text to its delegate: put it in place.
                            output.append(contentsOf: value ?? Array(bytes[index..<end]))
                        } else if let text = HTMLEntities.table[name] {
                            for scalar in text.unicodeScalars {
                                output.append(contentsOf: Array("&#\(scalar.value);".utf8))
                            }
                        } else {
                            throw FeedError.unknownEntity(name, line: line, column: column(index))
                        }
                        index = end
                    }
                case 0x0A:
                    line += 1
                    lineStart = index + 1
                    output.append(byte)
                    index += 1
                case 0x00..<0x20 where byte != 0x09 && byte != 0x0D:
                    index += 1
                case 0xEF where index + 2 < bytes.count && bytes[index + 1] == 0xBF && bytes[index + 2] >= 0xBE:
                    // U+FFFE and U+FFFF are not characters.
                    index += 3
                default:
                    output.append(byte)
                    index += 1
                }
            }
        }
    }

    private enum Reference {
        case none
        case numeric(UInt32, end: Int)
        case named(String, end: Int)
    }

    private static func readReference(_ bytes: [UInt8], at start: Int) -> Reference {
        var index = start + 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "#") {
            index += 1
            let hex = index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "x")
            if hex { index += 1 }
            let digitsStart = index
            var value: UInt32 = 0
            while index < bytes.count, index - digitsStart < 8, let digit = digitValue(bytes[index], hex: hex) {
                value = value * (hex ? 16 : 10) + digit
                index += 1
            }
            guard index > digitsStart, index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return .none }
            return .numeric(value, end: index + 1)
        }
        guard index < bytes.count, isNameStart(bytes[index]) else { return .none }
        while index < bytes.count, index - start <= 64, isNameCharacter(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return .none }
        return .named(String(decoding: bytes[(start + 1)..<index], as: UTF8.self), end: index + 1)
    }

    private static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The code point a numeric reference should carry: C1 as windows-1252 (as HTML reads it), and
    /// U+FFFD for what XML 1.0 §2.2 does not allow.
    private static func xmlCharacter(_ value: UInt32) -> UInt32 {
        if (0x80...0x9F).contains(value) { return Windows1252.c1[Int(value - 0x80)]?.value ?? value }
        switch value {
        case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return value
        default: return 0xFFFD
        }
    }

    private static let xmlEntities: Set<String> = ["amp", "lt", "gt", "quot", "apos"]

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":") || byte >= 0x80
    }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }

    /// The end of a `<!DOCTYPE …>` (past its internal subset `[…]` when it has one), and the parameter entity
    /// references (`%name;`) between the declarations of the subset.
    private static func doctype(_ bytes: [UInt8], from start: Int) -> (end: Int, parameterReferences: [Range<Int>]) {
        var index = start
        var depth = 0
        var inDeclaration = false
        var quote: UInt8 = 0
        var references: [Range<Int>] = []
        while index < bytes.count {
            let byte = bytes[index]
            if quote != 0 {
                if byte == quote { quote = 0 }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: "<"), depth > 0 {
                inDeclaration = true
            } else if byte == UInt8(ascii: ">") {
                if depth <= 0 { return (index + 1, references) }
                inDeclaration = false
            } else if byte == UInt8(ascii: "%"), depth > 0, !inDeclaration {
                var end = index + 1
                while end < bytes.count, isNameCharacter(bytes[end]) { end += 1 }
                if end > index + 1, end < bytes.count, bytes[end] == UInt8(ascii: ";") {
                    references.append(index..<(end + 1))
                    index = end
                }
            }
            index += 1
        }
        return (bytes.count, references)
    }

    /// General entities declared with `<!ENTITY name "text">` (their text) or `<!ENTITY name SYSTEM …>`
    /// (nil: external, never loaded) in a document type declaration.
    private static func declaredEntities(_ doctype: ArraySlice<UInt8>) -> [String: [UInt8]?] {
        let text = String(decoding: doctype, as: UTF8.self)
        var entities: [String: [UInt8]?] = [:]
        for part in text.components(separatedBy: "<!ENTITY").dropFirst() {
            let rest = part.drop(while: { $0.isWhitespace })
            guard !rest.hasPrefix("%") else { continue }
            let name = String(rest.prefix(while: { !$0.isWhitespace }))
            let definition = rest.dropFirst(name.count).drop(while: { $0.isWhitespace })
            guard !name.isEmpty, entities[name] == nil else { continue }
            if let quote = definition.first, quote == "\"" || quote == "'",
                let close = definition.dropFirst().firstIndex(of: quote)
            {
                entities[name] = Array(definition[definition.index(after: definition.startIndex)..<close].utf8)
            } else {
                entities[name] = .some(nil)
            }
        }
        return entities
    }

    static func starts(_ bytes: [UInt8], at index: Int, with text: String) -> Bool {
        let needle = text.utf8
        guard index + needle.count <= bytes.count else { return false }
        return zip(bytes[index...], needle).allSatisfy { $0 == $1 }
    }

    static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
