import Foundation

/// The texts of one language, read from `templates/lang/CODE.txt`: one `key = text` a line, `#` comments.
///
/// The format is meant for translators: no quotes to balance, no escapes, one sentence a line. Words in
/// braces (`{name}`, `{count}`) are filled in by the program and may move anywhere in the sentence. A key
/// ending in `.zero`, `.one`, `.two`, `.few`, `.many` or `.other` is one plural form of the key before it
/// (`digest.votes.one`, `digest.votes.other`); `.other` is the one every language must have.
public struct Catalog: Sendable, Equatable {
    /// The language's code, as in `site.languages` and the file's name (`ar`).
    public var code: String
    /// Every `key = text` of the file, in no order.
    public var entries: [String: String]
    /// The line each key was read from, for reports.
    var lines: [String: Int]
    /// Where it was read from.
    public var file: String

    /// The plural forms a key may carry, as CLDR names them.
    static let pluralForms = ["zero", "one", "two", "few", "many", "other"]

    public init(code: String, entries: [String: String], file: String = "") {
        self.code = code
        self.entries = entries
        self.file = file
        lines = [:]
    }

    /// Reads `text`; a line that is neither blank, a comment nor `key = text` is refused, naming its line.
    public init(code: String, text: String, file: String) throws(CatalogError) {
        self.init(code: code, entries: [:], file: file)
        // "\r\n" is one Character in Swift: split on the scalar so files saved on Windows read the same.
        let rows = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in rows.map({ String(String.UnicodeScalarView($0)) }).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r\u{FEFF}")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw CatalogError(file: file, line: index + 1, message: "expected `key = text`, found \"\(line)\"")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") })
            else {
                throw CatalogError(
                    file: file, line: index + 1,
                    message: "a key is letters, digits, dots and underscores (like `digest.greeting`), found \"\(key)\""
                )
            }
            if let first = lines[key] {
                throw CatalogError(file: file, line: index + 1, message: "`\(key)` is already on line \(first)")
            }
            entries[key] = value
            lines[key] = index + 1
        }
    }

    /// Reads `folder/CODE.txt`.
    public static func load(code: String, folder: String) throws(CatalogError) -> Catalog {
        let file = "\(folder)/\(code).txt"
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CatalogError(
                file: file, line: nil,
                message: "is missing: every language of site.languages needs a catalog (a templates folder made "
                    + "before languages: copy lang/ from DailyDigest's templates)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CatalogError(file: file, line: nil, message: "is not UTF-8 text")
        }
        return try Catalog(code: code, text: text, file: file)
    }

    /// The key a plural form belongs to (`digest.votes` for `digest.votes.one`), or the key itself.
    static func baseKey(_ key: String) -> String {
        guard let dot = key.lastIndex(of: "."), pluralForms.contains(String(key[key.index(after: dot)...])) else {
            return key
        }
        return String(key[..<dot])
    }

    /// The keys a complete catalog must have: plural forms count as the key they are forms of.
    var requiredKeys: Set<String> { Set(entries.keys.map(Self.baseKey)) }

    /// Whether the catalog has `key`: as is, or as plural forms (then `.other` is the one that must be there).
    func has(_ key: String) -> Bool { entries[key] != nil || entries[key + ".other"] != nil }

    /// `{name}` and the like in `text`.
    static func placeholders(in text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) { names.insert(String(name)) }
            rest = rest[rest.index(after: open)...]
        }
        return names
    }
}

/// A catalog that cannot be used, or a problem `digest languages check` reports: which file, which line, what is
/// wrong (the templates' error: a catalog is one more file of the templates folder).
public typealias CatalogError = TemplateError
