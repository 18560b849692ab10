import Foundation

/// A feed document that cannot be read at all. Single bad entries are `FeedEntryProblem`s instead.
public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case notXML
        case notAFeed
        case unsupportedEncoding
        case notDecodable
    }

    let code: Code
    public let message: String

    public var description: String { message }

    /// The document is not well-formed XML.
    public var isNotXML: Bool { code == .notXML }
    /// Well-formed XML, but neither RSS nor Atom.
    public var isNotAFeed: Bool { code == .notAFeed }

    static func notXML(_ detail: String) -> FeedError {
        FeedError(code: .notXML, message: "not well-formed XML: \(detail)")
    }

    static func notAFeed(root: String) -> FeedError {
        FeedError(code: .notAFeed, message: "not an RSS or Atom feed: the root element is <\(root)>")
    }

    static func unsupportedEncoding(_ name: String) -> FeedError {
        FeedError(
            code: .unsupportedEncoding, message: "declares the encoding \"\(name)\", which this program cannot read")
    }

    static func notDecodable(_ name: String) -> FeedError {
        FeedError(code: .notDecodable, message: "is not valid \(name) text")
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

    public var description: String {
        let label = label.map { " (\($0.count > 60 ? String($0.prefix(57)) + "…" : $0))" } ?? ""
        return "entry \(entry)\(label): \(message)\(skipped ? "; skipped" : "")"
    }
}
