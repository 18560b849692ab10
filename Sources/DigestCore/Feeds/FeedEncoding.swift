import Foundation

/// Brings a feed document to UTF-8 before it reaches the XML parser, following its BOM or the
/// `encoding` of its XML declaration, and rewrites that declaration to say UTF-8.
enum FeedEncoding {
    /// The document as UTF-8; throws when it declares an encoding this program cannot read.
    static func utf8Document(_ data: Data) throws(FeedError) -> Data {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Data(bytes.dropFirst(3)) }
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            let encoding: String.Encoding = bytes[0] == 0xFE ? .utf16BigEndian : .utf16LittleEndian
            guard let text = String(data: Data(bytes.dropFirst(2)), encoding: encoding) else {
                throw FeedError.notDecodable("UTF-16")
            }
            return Data(rewritingDeclaration(text).utf8)
        }
        guard let declared = declaredEncoding(bytes) else { return data }
        let name = declared.lowercased()
        switch name {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return data
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
            // Every byte is the code point of the same number.
            var text = ""
            text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            return Data(rewritingDeclaration(text).utf8)
        case "windows-1252", "cp1252", "x-cp1252":
            var text = ""
            text.unicodeScalars.append(
                contentsOf: bytes.map { byte in
                    (0x80...0x9F).contains(byte) ? Windows1252.c1[Int(byte - 0x80)] ?? "\u{FFFD}" : Unicode.Scalar(byte)
                })
            return Data(rewritingDeclaration(text).utf8)
        default:
            guard let encoding = foundationEncodings[name] else { throw FeedError.unsupportedEncoding(declared) }
            guard let text = String(data: data, encoding: encoding) else { throw FeedError.notDecodable(declared) }
            return Data(rewritingDeclaration(text).utf8)
        }
    }

    /// HTML named references that XML does not know (`&nbsp;`, `&eacute;`, `&mdash;`…) as numeric ones.
    ///
    /// Many feeds use them unescaped; to an XML parser an undeclared entity is a fatal error, which
    /// would refuse a whole feed over one `&nbsp;`. CDATA sections and documents that declare their
    /// own entities are left alone.
    static func numericHTMLEntities(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.contains(UInt8(ascii: "&")), !containsSequence(bytes, "<!ENTITY") else { return data }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        let cdataOpen = Array("<![CDATA[".utf8)
        let cdataClose = Array("]]>".utf8)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<"), bytes[index...].starts(with: cdataOpen) {
                let end =
                    firstIndex(of: cdataClose, in: bytes, from: index + cdataOpen.count).map { $0 + 3 } ?? bytes.count
                output.append(contentsOf: bytes[index..<end])
                index = end
                continue
            }
            if byte == UInt8(ascii: "&") {
                var end = index + 1
                while end < bytes.count, end - index <= 32,
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[end] | 0x20)
                        || (end > index + 1 && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]))
                {
                    end += 1
                }
                if end > index + 1, end < bytes.count, bytes[end] == UInt8(ascii: ";") {
                    let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                    if !xmlEntities.contains(name), let scalar = HTMLText.namedEntities[name] {
                        output.append(contentsOf: Array("&#\(scalar.value);".utf8))
                        index = end + 1
                        continue
                    }
                }
            }
            output.append(byte)
            index += 1
        }
        return Data(output)
    }

    private static let xmlEntities: Set<String> = ["amp", "lt", "gt", "quot", "apos"]

    private static func containsSequence(_ bytes: [UInt8], _ text: String) -> Bool {
        firstIndex(of: Array(text.utf8), in: bytes, from: 0) != nil
    }

    private static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static let foundationEncodings: [String: String.Encoding] = [
        "iso-8859-2": .isoLatin2, "windows-1250": .windowsCP1250, "cp1250": .windowsCP1250,
        "windows-1251": .windowsCP1251, "cp1251": .windowsCP1251, "windows-1253": .windowsCP1253,
        "windows-1254": .windowsCP1254, "shift_jis": .shiftJIS, "euc-jp": .japaneseEUC,
        "iso-2022-jp": .iso2022JP, "utf-16": .utf16, "utf-16be": .utf16BigEndian, "utf-16le": .utf16LittleEndian,
        "macintosh": .macOSRoman, "x-mac-roman": .macOSRoman,
    ]

    /// The `encoding` pseudo-attribute of a leading `<?xml …?>` declaration.
    static func declaredEncoding(_ bytes: [UInt8]) -> String? {
        guard bytes.starts(with: Array("<?xml".utf8)) else { return nil }
        let head = bytes.prefix(300)
        guard let end = head.firstIndex(of: UInt8(ascii: ">")) else { return nil }
        let declaration = String(decoding: head[..<end], as: UTF8.self)
        guard let key = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop(while: { $0 == " " || $0 == "=" || $0 == "\t" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        let value = rest.dropFirst().prefix(while: { $0 != quote })
        return value.isEmpty ? nil : String(value)
    }

    /// The text with its declaration's encoding replaced by UTF-8, so the parser does not decode it twice.
    private static func rewritingDeclaration(_ text: String) -> String {
        guard text.hasPrefix("<?xml"), let end = text.range(of: "?>") else { return text }
        let declaration = text[..<end.lowerBound]
        guard let key = declaration.range(of: "encoding") else { return text }
        let afterKey = declaration[key.upperBound...]
        guard let open = afterKey.firstIndex(where: { $0 == "\"" || $0 == "'" }) else { return text }
        let quote = afterKey[open]
        guard let close = afterKey[afterKey.index(after: open)...].firstIndex(of: quote) else { return text }
        return String(text[..<afterKey.index(after: open)]) + "UTF-8" + String(text[close...])
    }
}

/// windows-1252's printable characters in 0x80–0x9F (nil where the code page leaves a byte undefined).
enum Windows1252 {
    static let c1: [Unicode.Scalar?] = codePoints.map { $0.flatMap(Unicode.Scalar.init) }

    private static let codePoints: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil,
        0x017D, nil, nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, nil, 0x017E, 0x0178,
    ]
}
