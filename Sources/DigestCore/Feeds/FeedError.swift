import Foundation

/// A feed document that cannot be read at all. Single bad entries are `FeedEntryProblem`s instead.
public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case notXML
        case notAFeed
        case unsupportedEncoding
        case unknownEntity
    }

    let code: Code
    public let message: String
    /// Where the document stops being readable (one-based).
    public let line: Int
    public let column: Int?

    public var description: String { message }

    /// The document is not well-formed XML (an unknown entity included).
    public var isNotXML: Bool { code == .notXML || code == .unknownEntity }
    /// Well-formed XML, but neither RSS nor Atom.
    public var isNotAFeed: Bool { code == .notAFeed }

    static func notXML(line: Int, column: Int, _ reason: String) -> FeedError {
        FeedError(
            code: .notXML, message: "not well-formed XML at line \(line), column \(column): \(reason)", line: line,
            column: column)
    }

    static func unknownEntity(_ name: String, line: Int, column: Int) -> FeedError {
        FeedError(
            code: .unknownEntity,
            message: "unknown entity &\(name); at line \(line), column \(column) (neither XML nor HTML defines it)",
            line: line, column: column)
    }

    static func notAFeed(root: String, line: Int, column: Int) -> FeedError {
        FeedError(
            code: .notAFeed,
            message: "not an RSS or Atom feed: the root element at line \(line), column \(column) is <\(root)>",
            line: line, column: column)
    }

    /// `place`: where the declaration names the encoding (line 1, column 1 for one told by a byte order mark).
    static func unsupportedEncoding(_ name: String, at place: (line: Int, column: Int), detail: String? = nil)
        -> FeedError
    {
        let why = detail ?? "which the Encoding Standard reads as nothing but U+FFFD (it is unsafe on the web)"
        return FeedError(
            code: .unsupportedEncoding,
            message: "line \(place.line), column \(place.column): declares the encoding \"\(name)\", \(why)",
            line: place.line, column: place.column)
    }
}

/// An entry of a feed that was skipped (or imported with a fallback), and why.
public struct FeedEntryProblem: Sendable, Equatable, CustomStringConvertible {
    /// One-based position of the entry in the feed.
    public var entry: Int
    /// The entry's title or link, when it has one, to find it in the feed.
    public var label: String?
    public var message: String
    /// True when the entry was not imported; false for a warning about an imported entry.
    public var skipped: Bool
    /// The entry's link made absolute, when it has one (an entry skipped for its title still has it).
    public var link: String? = nil

    public var description: String {
        let label = label.map { " (\($0.count > 60 ? String($0.prefix(57)) + "…" : $0))" } ?? ""
        return "entry \(entry)\(label): \(message)\(skipped ? "; skipped" : "")"
    }
}
