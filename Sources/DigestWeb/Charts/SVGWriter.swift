/// Builds SVG markup: elements with attributes, text and attribute values escaped, nothing else.
struct SVGWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        line("<\(name)\(Self.attributes(attributes))>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    /// An element with no children (`<line … />`) or with only text (`<title>…</title>`).
    mutating func element(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        if let text {
            line("<\(name)\(Self.attributes(attributes))>\(Self.escape(text))</\(name)>")
        } else {
            line("<\(name)\(Self.attributes(attributes))/>")
        }
    }

    private mutating func line(_ markup: String) {
        text += String(repeating: " ", count: depth) + markup + "\n"
    }

    private static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    static func escape(_ text: String) -> String { XMLText.escaped(text) }
}
