import Foundation

/// Turns the HTML that feeds put in summaries and titles into plain text.
///
/// Not an HTML parser: it drops tags, comments and the content of `script`/`style`, turns block
/// boundaries into spaces, and decodes character references. That is all a digest summary needs.
public enum HTMLText {
    /// Plain text of an HTML fragment, whitespace collapsed.
    public static func plainText(_ html: String) -> String {
        guard html.contains("<") || html.contains("&") else { return html.collapsingWhitespace }
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            guard character == "<" else {
                output.append(character)
                index = html.index(after: index)
                continue
            }
            let rest = html[index...]
            if rest.hasPrefix("<!--") {
                index = rest.range(of: "-->")?.upperBound ?? html.endIndex
                continue
            }
            // A "<" not followed by a tag name, "/" or "!" is text ("a < b").
            let next = html.index(after: index)
            guard next < html.endIndex,
                html[next].isLetter || html[next] == "/" || html[next] == "!" || html[next] == "?"
            else {
                output.append(character)
                index = next
                continue
            }
            guard let close = rest.firstIndex(of: ">") else { break }
            let tag = rest[rest.index(after: rest.startIndex)..<close]
            let name = tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber }).lowercased()
            index = html.index(after: close)
            if (name == "script" || name == "style") && !tag.hasPrefix("/") {
                // Skip to the matching end tag: its content is code, not text.
                if let end = html[index...].range(of: "</\(name)", options: .caseInsensitive) {
                    index = html[end.upperBound...].firstIndex(of: ">").map { html.index(after: $0) } ?? html.endIndex
                } else {
                    index = html.endIndex
                }
            }
            if !inlineTags.contains(name) { output.append(" ") }
        }
        return decodeEntities(output).collapsingWhitespace
    }

    /// Tags that do not separate words; every other tag becomes a space.
    private static let inlineTags: Set<String> = [
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q", "s", "samp",
        "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr", "del", "ins", "font",
    ]

    /// Decodes `&name;`, `&#NNN;` and `&#xHHHH;`. Unknown names stay as written.
    public static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "&" else {
                output.append(character)
                index = text.index(after: index)
                continue
            }
            let rest = text[text.index(after: index)...]
            let body = rest.prefix(while: { $0 != ";" && $0 != "&" && !$0.isWhitespace }).prefix(33)
            let end = body.endIndex
            if end < text.endIndex, text[end] == ";", let decoded = decodeReference(body) {
                output.append(decoded)
                index = text.index(after: end)
            } else {
                output.append("&")
                index = text.index(after: index)
            }
        }
        return output
    }

    private static func decodeReference(_ body: Substring) -> String? {
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32?
            if digits.first == "x" || digits.first == "X" {
                value = UInt32(digits.dropFirst(), radix: 16)
            } else {
                value = UInt32(digits, radix: 10)
            }
            guard let value else { return nil }
            // Browsers read C1 references as windows-1252, as HTML requires; NUL and surrogates become U+FFFD.
            if (0x80...0x9F).contains(value), let mapped = Windows1252.c1[Int(value - 0x80)] {
                return String(Character(mapped))
            }
            guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
            return String(Character(scalar))
        }
        return namedEntities[String(body)].map { String(Character($0)) }
    }

    /// The HTML named references that feeds actually use (Latin-1, punctuation, a few symbols).
    static let namedEntities: [String: Unicode.Scalar] = {
        var table: [String: UInt32] = [
            "amp": 38, "lt": 60, "gt": 62, "quot": 34, "apos": 39, "nbsp": 160,
            "ndash": 0x2013, "mdash": 0x2014, "lsquo": 0x2018, "rsquo": 0x2019, "sbquo": 0x201A,
            "ldquo": 0x201C, "rdquo": 0x201D, "bdquo": 0x201E, "hellip": 0x2026, "bull": 0x2022,
            "dagger": 0x2020, "Dagger": 0x2021, "permil": 0x2030, "lsaquo": 0x2039, "rsaquo": 0x203A,
            "euro": 0x20AC, "trade": 0x2122, "larr": 0x2190, "rarr": 0x2192, "uarr": 0x2191, "darr": 0x2193,
            "harr": 0x2194, "minus": 0x2212, "times": 215, "divide": 247, "thinsp": 0x2009, "ensp": 0x2002,
            "emsp": 0x2003, "zwnj": 0x200C, "zwj": 0x200D, "lrm": 0x200E, "rlm": 0x200F, "prime": 0x2032,
            "Prime": 0x2033, "oelig": 0x153, "OElig": 0x152, "scaron": 0x161, "Scaron": 0x160, "Yuml": 0x178,
            "fnof": 0x192, "circ": 0x2C6, "tilde": 0x2DC, "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3,
            "delta": 0x3B4, "pi": 0x3C0, "mu": 0x3BC, "Omega": 0x3A9, "le": 0x2264, "ge": 0x2265, "ne": 0x2260,
            "infin": 0x221E, "asymp": 0x2248, "hearts": 0x2665, "check": 0x2713,
        ]
        // ISO-8859-1 160–255, in code point order, as named by HTML 4.
        let latin1 = """
            nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 \
            acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde \
            Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute \
            Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde \
            auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute \
            ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml
            """.split(separator: " ")
        for (offset, name) in latin1.enumerated() { table[String(name)] = UInt32(160 + offset) }
        return table.compactMapValues(Unicode.Scalar.init)
    }()
}
