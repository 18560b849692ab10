import Foundation

/// One item as read from an import file, a feed or the items API, validated but not yet stored.
/// Title, summary and author pass through `ImportedText.normalized`, whatever the source.
public struct ItemDraft: Sendable, Equatable, ItemContent {
    public var kind: ItemKind
    public var title: String
    public var url: String
    public var summary: String
    public var author: String?
    public var imageURL: String?
    public var publishedAt: Date
    public var votes: Int

    public init(
        kind: ItemKind, title: String, url: String, summary: String = "", author: String? = nil,
        imageURL: String? = nil, publishedAt: Date, votes: Int = 0
    ) {
        self.kind = kind
        self.title = ImportedText.normalized(title)
        self.url = url
        self.summary = ImportedText.normalized(summary)
        self.author = author.map(ImportedText.normalized)
        self.imageURL = imageURL
        self.publishedAt = publishedAt
        self.votes = votes
    }

    /// Fields read back from the store, already normalized when they were imported.
    init(
        stored kind: ItemKind, title: String, url: String, summary: String, author: String?, imageURL: String?,
        publishedAt: Date, votes: Int
    ) {
        self.kind = kind
        self.title = title
        self.url = url
        self.summary = summary
        self.author = author
        self.imageURL = imageURL
        self.publishedAt = publishedAt
        self.votes = votes
    }
}

/// A record of an item file that cannot be imported: which one, where, and why.
public struct ItemRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    /// Zero-based position in the top-level array.
    public var index: Int?
    /// One-based line where the record starts, when known.
    public var line: Int?
    public var field: String?
    public var message: String

    public var description: String {
        var place = source
        if let index { place += ": record \(index)" }
        if let line { place += " (line \(line))" }
        if let field { place += ": \(field)" }
        return "\(place): \(message)"
    }
}

/// Reads the JSON item format: an array of
/// `{kind, title, url, summary, author, publishedAt, votes, imageURL}` objects.
///
/// Strict, as a ledger: `publishedAt` must be a real instant (`2021-02-30T10:00:00Z` and `T25:00`
/// are refused, not moved to another day); `votes: null` is refused (leave the key out for 0);
/// summaries are plain text, HTML in them stripped as in feeds.
public enum ItemRecordParser {
    /// Parses a whole file. Every bad record is reported; any bad record refuses the file.
    public static func parse(_ data: Data, source: String, defaultKind: ItemKind? = nil) throws(ItemFileError) -> [ItemDraft] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw ItemFileError(source: source, errors: [
                ItemRecordError(source: source, message: "not valid JSON: \(error.message)")
            ])
        }
        let records: [JSONValue]
        switch json {
        case .array(let array): records = array
        case .object: records = [json]
        default:
            throw ItemFileError(source: source, errors: [
                ItemRecordError(source: source, message: "expected an array of item objects, found \(json.typeName)")
            ])
        }
        let lines = recordLines(data)
        var drafts: [ItemDraft] = []
        var errors: [ItemRecordError] = []
        var seen: [String: Int] = [:]
        for (index, record) in records.enumerated() {
            let line = index < lines.count ? lines[index] : nil
            do throws(ItemRecordError) {
                let draft = try parse(record, defaultKind: defaultKind)
                if let first = seen[draft.url] {
                    throw ItemRecordError(source: source, field: "url", message: "same url as record \(first)")
                }
                seen[draft.url] = index
                drafts.append(draft)
            } catch var error {
                error.source = source
                error.index = index
                error.line = line
                errors.append(error)
            }
        }
        if !errors.isEmpty { throw ItemFileError(source: source, errors: errors) }
        return drafts
    }

    /// Parses one record; `source`, `index` and `line` of a thrown error are left for the caller.
    public static func parse(_ value: JSONValue, defaultKind: ItemKind? = nil) throws(ItemRecordError) -> ItemDraft {
        do {
            var reader = try JSONObjectReader(value, path: "") { key, message in
                ItemRecordError(source: "", field: key.isEmpty ? nil : key, message: message)
            }
            let kind = try reader.choice("kind", as: ItemKind.self) ?? defaultKind
            guard let kind else { throw reader.error("kind", "is required (\"story\" or \"post\")") }
            let title = try reader.requiredString("title")
            let url = try reader.requiredString("url")
            guard isWebURL(url) else { throw reader.error("url", "expected an http(s) URL, found \"\(url.debugEscaped)\"") }
            let summary = HTMLText.plainText(try reader.string("summary") ?? "")
            let author = try reader.string("author")
            let imageURL = try reader.string("imageURL")
            if let imageURL, !isWebURL(imageURL) {
                throw reader.error("imageURL", "expected an http(s) URL, found \"\(imageURL.debugEscaped)\"")
            }
            let published = try reader.requiredString("publishedAt")
            let publishedAt: Date
            switch DateParsing.checkedISO8601(published) {
            case .success(let date): publishedAt = date
            case .failure(let problem):
                throw reader.error(
                    "publishedAt",
                    "\(problem.reason) (expected an ISO 8601 date such as 2026-11-24T07:30:00Z), "
                        + "found \"\(published.debugEscaped)\"")
            }
            if case .null? = reader.object["votes"] {
                throw reader.error("votes", "expected a whole number, found null (leave the key out for 0 votes)")
            }
            let votes = try reader.integer("votes", in: 0...Int(Int32.max)) ?? 0
            // `items list --json` writes the votes from digests; they are this server's count, not the item's
            // data, so reading a list back leaves them as they are.
            _ = try reader.integer("digestVotes", in: 0...Int(Int32.max))
            try reader.finish()
            return ItemDraft(
                kind: kind, title: title, url: url, summary: summary, author: author, imageURL: imageURL,
                publishedAt: publishedAt, votes: votes)
        } catch let error as ItemRecordError {
            throw error
        } catch {
            throw ItemRecordError(source: "", message: "\(error)")
        }
    }

    static func isWebURL(_ text: String) -> Bool {
        guard text.hasPrefix("https://") || text.hasPrefix("http://"),
            !text.contains(where: { $0.isWhitespace || $0.isNewline }),
            let host = URL(string: text)?.host, !host.isEmpty
        else { return false }
        return true
    }

    /// The one-based line on which each top-level array element starts.
    static func recordLines(_ data: Data) -> [Int] {
        var lines: [Int] = []
        var line = 1, depth = 0
        var inString = false, escaped = false, expectingValue = false
        for byte in data {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            let isSpace = byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
            if depth == 1 && expectingValue && !isSpace && byte != UInt8(ascii: "]") {
                lines.append(line)
                expectingValue = false
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectingValue = true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingValue = true }
            default: break
            }
        }
        return lines
    }
}

/// An item file refused whole, with every bad record.
public struct ItemFileError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var errors: [ItemRecordError]
    public var description: String {
        let shown = errors.prefix(20).map(\.description)
        let more = errors.count > 20 ? ["… and \(errors.count - 20) more"] : []
        return (["\(source): refused, nothing imported (\(errors.count) bad record\(errors.count == 1 ? "" : "s")):"]
            + (shown + more).map { "  " + $0 }).joined(separator: "\n")
    }
}

extension String {
    /// Runs of whitespace, line breaks included, as one space; no leading or trailing space.
    /// Titles and names pass through this so a CR/LF can never reach a header or break a line.
    var collapsingWhitespace: String {
        // Most text is printable ASCII with single spaces: then there is nothing to do.
        var previousIsSpace = true
        var plain = true
        for byte in utf8 {
            if byte == 0x20 {
                if previousIsSpace {
                    plain = false
                    break
                }
                previousIsSpace = true
            } else if byte > 0x20 && byte < 0x7F {
                previousIsSpace = false
            } else {
                plain = false
                break
            }
        }
        if plain && !previousIsSpace { return self }
        var result = ""
        result.reserveCapacity(utf8.count)
        var pendingSpace = false
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.unicodeScalars.append(" ") }
                pendingSpace = false
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
