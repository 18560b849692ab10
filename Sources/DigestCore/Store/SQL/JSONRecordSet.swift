import Foundation

/// Rows for PostgreSQL's `json_to_recordset`, as the text of one JSON array of objects: a statement can
/// then take a whole group of rows as one parameter, and its text stays the same whatever their number
/// (one translation, one plan). Values are integers, booleans, text or null; the statement names each
/// field's type (`AS o(id bigint, reply text, …)`).
struct JSONRecordSet {
    enum Value {
        case null
        case integer(Int64)
        case bool(Bool)
        case text(String)
    }

    private(set) var count = 0
    private var body = ""

    /// The JSON text, `[{…},{…}]`.
    var text: String { "[" + body + "]" }

    mutating func append(_ fields: KeyValuePairs<String, Value>) {
        if count > 0 { body += "," }
        count += 1
        body += "{"
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { body += "," }
            Self.quote(name, into: &body)
            body += ":"
            switch value {
            case .null: body += "null"
            case .integer(let number): body += String(number)
            case .bool(let flag): body += flag ? "true" : "false"
            case .text(let text): Self.quote(text, into: &body)
            }
        }
        body += "}"
    }

    /// A JSON string (RFC 8259 §7): `"` and `\` escaped, control characters as `\u00XX`, the rest as is.
    static func quote(_ text: String, into output: inout String) {
        output += "\""
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output += text
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": output += "\\\""
                case "\\": output += "\\\\"
                case "\n": output += "\\n"
                case "\r": output += "\\r"
                case "\t": output += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
