import Foundation

/// Turns the HTML that feeds put in summaries and titles into plain text.
///
/// Not an HTML parser: it drops tags, comments and the content of `script`/`style`, turns block
/// boundaries into spaces, and decodes character references. That is all a digest summary needs.
public enum HTMLText {
    /// Plain text of an HTML fragment, whitespace collapsed.
    public static func plainText(_ html: String) -> String {
        guard html.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") }) else {
            return html.collapsingWhitespace
        }
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

    /// Decodes `&name;` (any HTML5 name), `&#NNN;` and `&#xHHHH;`. Unknown names stay as written.
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
        return HTMLEntities.table[String(body)]
    }
}
