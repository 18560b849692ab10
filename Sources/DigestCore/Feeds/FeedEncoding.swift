import Foundation

/// A feed document brought to UTF-8, and what was guessed or replaced on the way.
struct DecodedDocument {
    /// The document as UTF-8, its XML declaration rewritten to say so.
    var utf8: [UInt8]
    /// The WHATWG name of the encoding it was read as (`windows-1252`, `big5`…).
    var encoding: String
    /// Sentences for the person importing: a guessed encoding, replaced bytes.
    var warnings: [String]
}

/// Brings a feed document to UTF-8 before it reaches the XML parser, the way browsers and feed
/// readers decode text (the WHATWG Encoding Standard, https://encoding.spec.whatwg.org/):
///
/// - a byte order mark wins; then the `encoding` of the XML declaration, looked up among the
///   standard's labels, so `ISO-8859-1`, `latin1` and `US-ASCII` read as windows-1252 (curly quotes
///   and dashes in 0x80–0x9F stay quotes and dashes);
/// - every legacy single- and multi-byte encoding of the standard (big5, euc-kr, gb18030, shift_jis,
///   iso-8859-x, windows-125x, koi8…) is decoded with the C library's iconv; windows-1252 and
///   x-user-defined are simple enough to decode here;
/// - UTF-8, declared or not, is checked: bytes that are not UTF-8 are read as windows-1252, with a
///   warning (the usual case: a CMS writing Latin-1 without saying so), and C1 control characters
///   (U+0080–U+009F, never meant as controls in a feed) are mapped as windows-1252;
/// - an unknown label is read as UTF-8 (or windows-1252 where it is not UTF-8) with a warning;
///   only the standard's "replacement" labels (iso-2022-kr, hz-gb-2312…) refuse the document;
/// - a document with neither a byte order mark nor a declaration is read in the `charset` its HTTP
///   server named, when there is one (the document's own word wins: servers often name a default).
enum FeedEncoding {
    static func decode(_ data: Data, transportCharset: String? = nil) throws(FeedError) -> DecodedDocument {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return utf8(Array(bytes.dropFirst(3)), declared: "utf-8")
        }
        // UTF-32 before UTF-16: its little-endian byte order mark starts like UTF-16's. Without a mark,
        // `<` as four bytes (XML 1.0 Appendix F).
        if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return utf32(bytes.dropFirst(4), bigEndian: true) }
        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return utf32(bytes.dropFirst(4), bigEndian: false) }
        if bytes.starts(with: [0x00, 0x00, 0x00, 0x3C]) { return utf32(bytes[...], bigEndian: true) }
        if bytes.starts(with: [0x3C, 0x00, 0x00, 0x00]) { return utf32(bytes[...], bigEndian: false) }
        if bytes.starts(with: [0xFE, 0xFF]) { return try legacy(Array(bytes.dropFirst(2)), name: "utf-16be") }
        if bytes.starts(with: [0xFF, 0xFE]) { return try legacy(Array(bytes.dropFirst(2)), name: "utf-16le") }
        // XML 1.0 Appendix F: `<?` in UTF-16 without a byte order mark.
        if bytes.starts(with: [0x3C, 0x00, 0x3F, 0x00]) { return try legacy(bytes, name: "utf-16le") }
        if bytes.starts(with: [0x00, 0x3C, 0x00, 0x3F]) { return try legacy(bytes, name: "utf-16be") }
        // `<?xm` in EBCDIC (XML 1.0 Appendix F): the declaration, read in IBM037, names the code page.
        if bytes.starts(with: [0x4C, 0x6F, 0xA7, 0x94]), let ebcdic = IconvDecoder(from: "IBM037") {
            let head = ebcdic.decode(Array(bytes.prefix(200))).utf8
            let label = declaredEncoding(head) ?? "IBM037"
            if let document = outsideTheStandard(bytes, label: label) { return document }
        }
        var declared = declaredEncoding(bytes)
        if declared == nil, let misplaced = blankingMisplacedDeclaration(&bytes) { declared = misplaced }
        let transport = transportCharset.flatMap { EncodingLabels.table[$0.lowercased()] != nil ? $0 : nil }
        if declared == nil, transport != nil {
            // XML without a declaration is UTF-8, and servers add a default charset (ISO-8859-1) to
            // everything: text that is valid UTF-8 is UTF-8, whatever the header says.
            let asUTF8 = utf8(bytes, declared: nil)
            if asUTF8.warnings.isEmpty { return asUTF8 }
        }
        guard let label = declared ?? transport else {
            let document = utf8(bytes, declared: nil)
            if document.encoding == "utf-8" { return document }
            return try detected(bytes) ?? document
        }
        // Python's and Java's spellings with underscores (`windows_1251`, `ebcdic_cp_us`) name the same encodings.
        let key = label.trimmingCharacters(in: .whitespaces).lowercased()
        guard let name = EncodingLabels.table[key] ?? EncodingLabels.table[key.replacingOccurrences(of: "_", with: "-")]
        else {
            if let document = outsideTheStandard(bytes, label: label) { return document }
            var document = utf8(bytes, declared: nil)
            document.warnings.insert(
                "line 1: declares the encoding \"\(label)\", which is not a known name; read as \(document.encoding)",
                at: 0)
            return document
        }
        switch name {
        case "utf-8":
            return utf8(bytes, declared: label)
        case "utf-16le", "utf-16be":
            // The declaration was readable as ASCII, so the document is not UTF-16 whatever it says.
            return utf8(bytes, declared: label)
        case "windows-1252":
            return DecodedDocument(utf8: rewritingDeclaration(windows1252(bytes)), encoding: name, warnings: [])
        case "x-user-defined":
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            for byte in bytes {
                if byte < 0x80 {
                    output.append(byte)
                } else {
                    appendUTF8(0xF780 + UInt32(byte - 0x80), to: &output)
                }
            }
            return DecodedDocument(utf8: rewritingDeclaration(output), encoding: name, warnings: [])
        case "replacement":
            throw FeedError.unsupportedEncoding(label, at: declarationPlace(bytes))
        default:
            return try legacy(bytes, name: name, label: label)
        }
    }

    /// A label the Encoding Standard does not have (`cp437`, `ibm855`, `cp037`: DOS, Mac and EBCDIC code
    /// pages browsers never learnt) read with the C library's iconv when it knows the name (or with
    /// `SingleByteCodePage`, for the two Mac code pages it lacks), as feed readers built on other codec
    /// tables do. Nil when iconv does not know it, or when its reading loses the
    /// declaration (the label names an encoding the document is not in): then the caller's fallback.
    private static func outsideTheStandard(_ bytes: [UInt8], label: String) -> DecodedDocument? {
        let name = label.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        let utf8: [UInt8]
        var replaced = 0
        if let decoder = codecAliases[name.lowercased()].flatMap(IconvDecoder.init(from:))
            ?? IconvDecoder(from: name.uppercased())
            ?? IconvDecoder(from: name.uppercased().replacingOccurrences(of: "_", with: "-"))
        {
            (utf8, replaced) = decoder.decode(bytes)
        } else if let page = SingleByteCodePage(label: name) {
            utf8 = page.decode(bytes)
        } else {
            return nil
        }
        guard utf8.starts(with: Array("<?xml".utf8)) else { return nil }
        var warnings: [String] = []
        if replaced > 0 {
            warnings.append("\(replaced) byte\(replaced == 1 ? " is" : "s are") not valid \(name); shown as �")
        }
        return DecodedDocument(utf8: rewritingDeclaration(utf8), encoding: name.lowercased(), warnings: warnings)
    }

    /// Names feeds declare that neither the Encoding Standard nor glibc's iconv knows, as Python's codecs (and
    /// so feedparser) read them, with the iconv name of the same code page. (Mac Greek and Mac Turkish have no
    /// iconv table here: `SingleByteCodePage` has them.)
    private static let codecAliases: [String: String] = [
        "cp_is": "IBM861", "csibm861": "IBM861", "ibm039": "IBM037", "macroman": "MACINTOSH",
        "mac_roman": "MACINTOSH", "maccentraleurope": "MAC-CENTRALEUROPE", "maclatin2": "MAC-CENTRALEUROPE",
        "mac_latin2": "MAC-CENTRALEUROPE", "maciceland": "MAC-IS", "mac_iceland": "MAC-IS",
    ]

    /// Undeclared bytes that are not UTF-8, read in the encoding uchardet detects when it names one whose
    /// guess can be trusted: a multi-byte encoding (big5, shift_jis, euc-kr, gb18030…) or a single-byte one
    /// of a non-Latin script (koi8-r, windows-1251, iso-8859-7…). Between Latin code pages it guesses
    /// from a few accented letters and often wrongly ("Tom’s blog" as MAC-CENTRALEUROPE), so those stay
    /// windows-1252, as browsers read Western text; so does an ISO-8859 guess for a document with bytes
    /// 0x80–0x9F, which those encodings would make control characters (windows-1252 makes them quotes).
    /// Nil when nothing better than windows-1252 was found.
    private static func detected(_ bytes: [UInt8]) throws(FeedError) -> DecodedDocument? {
        guard let name = EncodingDetector.detect(bytes), trustedDetections.contains(name) else { return nil }
        if name.hasPrefix("iso-8859-"), bytes.contains(where: { (0x80...0x9F).contains($0) }) { return nil }
        var document = try legacy(bytes, name: name)
        document.warnings.insert(
            "declares no encoding and is not UTF-8; read as \(name), which uchardet detected", at: 0)
        return document
    }

    private static let trustedDetections: Set<String> = [
        "big5", "euc-jp", "euc-kr", "gbk", "gb18030", "iso-2022-jp", "shift_jis", "ibm866", "iso-8859-5",
        "iso-8859-6", "iso-8859-7", "iso-8859-8", "koi8-r", "koi8-u", "windows-1251", "windows-1253", "windows-1255",
        "windows-1256", "windows-874", "x-mac-cyrillic",
    ]

    /// UTF-32 (which the Encoding Standard leaves out; XML 1.0 Appendix F names it), decoded here.
    private static func utf32(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> DecodedDocument {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 4 + 16)
        var replaced = 0
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            let (b0, b1, b2, b3) = (UInt32(bytes[index]), UInt32(bytes[index + 1]), UInt32(bytes[index + 2]),
                                    UInt32(bytes[index + 3]))
            let value = bigEndian ? b0 << 24 | b1 << 16 | b2 << 8 | b3 : b3 << 24 | b2 << 16 | b1 << 8 | b0
            if let scalar = Unicode.Scalar(value) {
                output.append(contentsOf: UTF8.encode(scalar)!)
            } else {
                replaced += 1
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
            index += 4
        }
        if index < bytes.endIndex { replaced += 1 }
        var warnings: [String] = []
        if replaced > 0 {
            warnings.append("\(replaced) code unit\(replaced == 1 ? " is" : "s are") not valid UTF-32; shown as �")
        }
        let name = bigEndian ? "utf-32be" : "utf-32le"
        return DecodedDocument(utf8: rewritingDeclaration(output), encoding: name, warnings: warnings)
    }

    /// The iconv names of the standard's encodings, where they differ from the standard's name.
    /// The standard's big5, euc-kr, shift_jis and gbk are the Microsoft/HKSCS supersets browsers use.
    private static let iconvNames: [String: String] = [
        "big5": "BIG5-HKSCS", "euc-kr": "CP949", "shift_jis": "CP932", "gbk": "GB18030", "iso-8859-8-i": "ISO-8859-8",
        "x-mac-cyrillic": "MAC-CYRILLIC", "windows-874": "CP874",
    ]

    private static func legacy(_ bytes: [UInt8], name: String, label: String? = nil) throws(FeedError)
        -> DecodedDocument
    {
        let iconvName =
            iconvNames[name] ?? (name.hasPrefix("windows-") ? "CP" + name.dropFirst(8) : name.uppercased())
        guard let decoder = IconvDecoder(from: iconvName) else {
            throw FeedError.unsupportedEncoding(
                label ?? name, at: label == nil ? (1, 1) : declarationPlace(bytes),
                detail: "this machine's iconv has no \(iconvName)")
        }
        let (utf8, replaced) = decoder.decode(bytes)
        var warnings: [String] = []
        if replaced > 0 {
            warnings.append("\(replaced) byte\(replaced == 1 ? " is" : "s are") not valid \(name); shown as �")
        }
        return DecodedDocument(utf8: rewritingDeclaration(utf8), encoding: name, warnings: warnings)
    }

    /// UTF-8 checked byte by byte: a byte that does not start or continue a valid sequence is read
    /// as windows-1252, and so are the C1 controls U+0080–U+009F.
    private static func utf8(_ bytes: [UInt8], declared: String?) -> DecodedDocument {
        var output: [UInt8] = []
        var foreign = 0
        var firstForeignLine = 0
        var line = 1
        var index = 0
        var copied = 0
        // Most documents are clean: copy runs of ASCII and valid sequences without touching them.
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0x0A { line += 1 }
                index += 1
                continue
            }
            let length = validSequenceLength(bytes, at: index)
            if length == 2, byte == 0xC2, bytes[index + 1] <= 0x9F {
                // U+0080–U+009F: a C1 control, which in feeds is windows-1252 text that went through Latin-1.
                if output.isEmpty { output.reserveCapacity(bytes.count + 64) }
                output.append(contentsOf: bytes[copied..<index])
                appendWindows1252(bytes[index + 1], to: &output)
                index += 2
                copied = index
            } else if length > 0 {
                index += length
            } else {
                if output.isEmpty { output.reserveCapacity(bytes.count + 64) }
                output.append(contentsOf: bytes[copied..<index])
                appendWindows1252(byte, to: &output)
                if foreign == 0 { firstForeignLine = line }
                foreign += 1
                index += 1
                copied = index
            }
        }
        var warnings: [String] = []
        let name: String
        if foreign > 0 {
            name = "windows-1252"
            let said = declared.map { "declares \"\($0)\" but" } ?? "declares no encoding and"
            warnings.append(
                "\(said) is not UTF-8 (\(foreign) byte\(foreign == 1 ? "" : "s"), the first on line "
                    + "\(firstForeignLine)); read those as windows-1252")
        } else {
            name = "utf-8"
        }
        if copied == 0 { return DecodedDocument(utf8: rewritingDeclaration(bytes), encoding: name, warnings: warnings) }
        output.append(contentsOf: bytes[copied...])
        return DecodedDocument(utf8: rewritingDeclaration(output), encoding: name, warnings: warnings)
    }

    /// Length of the well-formed UTF-8 sequence at `index` (Unicode Table 3-7), 0 when there is none.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < bytes.count && range.contains(bytes[index + offset])
        }
        switch first {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    static func windows1252(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 { output.append(byte) } else { appendWindows1252(byte, to: &output) }
        }
        return output
    }

    private static func appendWindows1252(_ byte: UInt8, to output: inout [UInt8]) {
        let scalar =
            (0x80...0x9F).contains(byte) ? Windows1252.c1[Int(byte - 0x80)]?.value ?? UInt32(byte) : UInt32(byte)
        appendUTF8(scalar, to: &output)
    }

    private static func appendUTF8(_ value: UInt32, to output: inout [UInt8]) {
        guard let scalar = Unicode.Scalar(value) else { return }
        output.append(contentsOf: UTF8.encode(scalar)!)
    }

    /// A declaration after white space (scripts often print a line break first) or after a comment (a
    /// generator's banner, a template's licence), which XML forbids: its `encoding`, with the declaration
    /// itself turned into spaces so lines and columns stay as written.
    private static func blankingMisplacedDeclaration(_ bytes: inout [UInt8]) -> String? {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var first = 0
        while first < min(bytes.count, 8192) {
            if isSpace(bytes[first]) {
                first += 1
            } else if XMLRepair.starts(bytes, at: first, with: "<!--"),
                let close = XMLRepair.firstIndex(of: Array("-->".utf8), in: bytes, from: first + 4)
            {
                first = close + 3
            } else {
                break
            }
        }
        guard first > 0, XMLRepair.starts(bytes, at: first, with: "<?xml"),
            first + 5 < bytes.count, isSpace(bytes[first + 5]) || bytes[first + 5] == UInt8(ascii: "?"),
            let end = XMLRepair.firstIndex(of: Array("?>".utf8), in: bytes, from: first)
        else { return nil }
        let label = declaredEncoding(Array(bytes[first..<(end + 2)]))
        for index in first..<(end + 2) { bytes[index] = 0x20 }
        return label ?? "utf-8"
    }

    /// Where the declaration at the start of `bytes` names its `encoding` (line 1, column 1 without one).
    private static func declarationPlace(_ bytes: [UInt8]) -> (line: Int, column: Int) {
        let head = Array(bytes.prefix(1024))
        guard let key = XMLRepair.firstIndex(of: Array("encoding".utf8), in: head, from: 0) else { return (1, 1) }
        let lineStart = head[..<key].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return (head[..<key].count(where: { $0 == 0x0A }) + 1, key - lineStart + 1)
    }

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

    /// The document with its declaration's encoding replaced by UTF-8, so the parser does not decode it twice.
    private static func rewritingDeclaration(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.starts(with: Array("<?xml".utf8)) else { return bytes }
        let head = Array(bytes.prefix(300))
        guard let end = XMLRepair.firstIndex(of: Array("?>".utf8), in: head, from: 0) else { return bytes }
        let declaration = String(decoding: head[..<end], as: UTF8.self)
        guard let key = declaration.range(of: "encoding") else { return bytes }
        let afterKey = declaration[key.upperBound...]
        guard let open = afterKey.firstIndex(where: { $0 == "\"" || $0 == "'" }) else { return bytes }
        let quote = afterKey[open]
        guard let close = afterKey[afterKey.index(after: open)...].firstIndex(of: quote) else { return bytes }
        let rewritten = String(declaration[..<afterKey.index(after: open)]) + "UTF-8" + String(declaration[close...])
        return Array(rewritten.utf8) + bytes[end...]
    }
}

/// windows-1252's printable characters in 0x80–0x9F (nil where the code page leaves a byte undefined;
/// the WHATWG decoder then keeps the byte's own code point).
enum Windows1252 {
    static let c1: [Unicode.Scalar?] = codePoints.map { $0.flatMap(Unicode.Scalar.init) }

    private static let codePoints: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil,
        0x017D, nil, nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, nil, 0x017E, 0x0178,
    ]
}
