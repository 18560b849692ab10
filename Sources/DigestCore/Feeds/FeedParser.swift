import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The dialect a feed was written in.
public enum FeedFormat: String, Sendable, Equatable {
    case rss2 = "RSS 2.0"
    case rss1 = "RSS 1.0"
    case atom = "Atom 1.0"
}

/// A feed read into item drafts, with what was skipped on the way.
public struct ParsedFeed: Sendable {
    public var format: FeedFormat
    public var title: String?
    /// Valid entries in feed order; a link that appears twice keeps its first entry.
    public var drafts: [ItemDraft]
    /// Entries skipped (no title, no usable link, repeated link) and warnings (no date).
    public var problems: [FeedEntryProblem]
    /// Links of the drafts that carry the fetch time because the entry gave no usable date.
    public var undated: Set<String>
}

/// Reads RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 documents into `ItemDraft`s.
///
/// Titles and summaries become plain text (HTML stripped, entities decoded); relative links are
/// resolved against `xml:base`, then the document's URL (or, for a local file, the site link the
/// feed names); dates in RFC 822 or ISO 8601 form are read, and an entry without one gets `now`.
public struct FeedParser: Sendable {
    public var kind: ItemKind
    /// Qualified name of the element holding an entry's vote count (`slash:comments`); nil means 0.
    public var votesElement: String?
    /// The fetch time, given to entries without a date.
    public var now: Date
    /// Longest summary kept, in characters; the digest shortens further when it renders.
    public var summaryLimit = 4000

    public init(kind: ItemKind, votesElement: String? = nil, now: Date = Date()) {
        self.kind = kind
        self.votesElement = votesElement?.isEmpty == true ? nil : votesElement
        self.now = now
    }

    /// Parses a feed document fetched from (or read at) `url`.
    public func parse(_ data: Data, url: String) throws(FeedError) -> ParsedFeed {
        let document = FeedEncoding.numericHTMLEntities(try FeedEncoding.utf8Document(data))
        let reader = FeedReader(votesElement: votesElement, documentURL: URL(string: url))
        let parser = XMLParser(data: document)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        let ok = parser.parse()
        if let root = reader.unknownRoot { throw FeedError.notAFeed(root: root) }
        // FoundationXML may return true after a fatal error; an element left open also means a cut document.
        if !ok || reader.parseError != nil || !reader.isComplete {
            let error = reader.parseError ?? parser.parserError
            let detail =
                error.map { ($0 as NSError).localizedDescription } ?? "the document ends before its elements close"
            throw FeedError.notXML("line \(parser.lineNumber), column \(parser.columnNumber): \(detail)")
        }
        guard let format = reader.format else { throw FeedError.notAFeed(root: "nothing") }
        return build(format: format, reader: reader)
    }

    private func build(format: FeedFormat, reader: FeedReader) -> ParsedFeed {
        var drafts: [ItemDraft] = []
        var problems: [FeedEntryProblem] = []
        var seen: [String: Int] = [:]
        var undated: Set<String> = []
        let siteBase = reader.siteLink.flatMap { URL(string: $0, relativeTo: reader.documentURL)?.absoluteURL }
        let documentBase: URL? =
            if let url = reader.documentURL, url.scheme == "http" || url.scheme == "https" { url } else {
                siteBase ?? reader.documentURL
            }
        for (offset, entry) in reader.entries.enumerated() {
            let number = offset + 1
            let title = entry.title.map { text in
                entry.titleIsHTML ? HTMLText.plainText(text) : text.collapsingWhitespace
            }
            let rawLink = (entry.link ?? entry.guidLink)?.trimmingCharacters(in: .whitespacesAndNewlines)
            let link = rawLink.flatMap { Self.resolve($0, base: entry.linkBase ?? documentBase) }
            let label = title?.isEmpty == false ? title : rawLink
            guard let title, !title.isEmpty else {
                problems.append(.init(entry: number, label: label, message: "has no title", skipped: true))
                continue
            }
            guard let rawLink, !rawLink.isEmpty else {
                problems.append(.init(entry: number, label: label, message: "has no link", skipped: true))
                continue
            }
            guard let link, ItemRecordParser.isWebURL(link) else {
                problems.append(
                    .init(
                        entry: number, label: label,
                        message: "link \"\((link ?? rawLink).debugEscaped)\" is not an http(s) URL", skipped: true))
                continue
            }
            if let first = seen[link] {
                problems.append(
                    .init(entry: number, label: label, message: "same link as entry \(first)", skipped: true))
                continue
            }
            seen[link] = number
            var publishedAt = now
            if let dateText = entry.published ?? entry.updated, let date = FeedDate.parse(dateText) {
                publishedAt = date
            } else {
                undated.insert(link)
                let why = (entry.published ?? entry.updated).map { "date \"\($0)\" is not understood" } ?? "has no date"
                problems.append(
                    .init(entry: number, label: label, message: "\(why); using the fetch time", skipped: false))
            }
            let summarySource = entry.summary ?? entry.content
            var summary =
                summarySource.map { text in entry.summaryIsHTML ? HTMLText.plainText(text) : text.collapsingWhitespace }
                ?? ""
            if summary.count > summaryLimit { summary = String(summary.prefix(summaryLimit - 1)) + "…" }
            let author = entry.author.map(Self.authorName).flatMap { $0.isEmpty ? nil : $0 }
            let imageURL = entry.imageURL.flatMap { Self.resolve($0, base: entry.linkBase ?? documentBase) }
                .flatMap { ItemRecordParser.isWebURL($0) ? $0 : nil }
            let votes =
                entry.votes.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                .map { min(max($0, 0), Int(Int32.max)) } ?? 0
            drafts.append(
                ItemDraft(
                    kind: kind, title: title, url: link, summary: summary, author: author, imageURL: imageURL,
                    publishedAt: publishedAt, votes: votes))
        }
        return ParsedFeed(
            format: format, title: reader.feedTitle.map(HTMLText.plainText), drafts: drafts, problems: problems,
            undated: undated)
    }

    /// `link` made absolute against `base`; nil when it cannot be a URL at all.
    static func resolve(_ link: String, base: URL?) -> String? {
        let text = link.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return nil }
        let url =
            URL(string: text, relativeTo: base)
            ?? text.addingPercentEncoding(withAllowedCharacters: .urlFragmentAllowed.union(["#", "%"])).flatMap {
                URL(string: $0, relativeTo: base)
            }
        return url?.absoluteURL.absoluteString
    }

    /// RSS 2.0 `author` is an address, often with the name in parentheses: "jo@example.com (Jo Doe)".
    static func authorName(_ text: String) -> String {
        let trimmed = HTMLText.plainText(text)
        if let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")"), trimmed[..<open].contains("@") {
            return String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
                .collapsingWhitespace
        }
        return trimmed
    }
}

/// One entry as written in the document, before validation.
struct RawEntry {
    var title: String?
    var titleIsHTML = true
    var link: String?
    var linkIsAlternate = false
    var guidLink: String?
    /// The nearest `xml:base` in scope of the link, already absolute.
    var linkBase: URL?
    var summary: String?
    var content: String?
    var summaryIsHTML = true
    var author: String?
    var published: String?
    var updated: String?
    var votes: String?
    var imageURL: String?
}

/// The XMLParser delegate: walks the document and collects raw entries.
final class FeedReader: NSObject, XMLParserDelegate {
    private struct Frame {
        var name: String
        var local: String
        var attributes: [String: String]
        /// The `xml:base` in scope, when one was declared on this element or an ancestor.
        var base: URL?
        var text = ""
    }

    let votesElement: String?
    let documentURL: URL?
    private(set) var format: FeedFormat?
    private(set) var unknownRoot: String?
    private(set) var entries: [RawEntry] = []
    private(set) var feedTitle: String?
    /// The site the feed belongs to (RSS channel link, Atom alternate link).
    private(set) var siteLink: String?

    private var stack: [Frame] = []
    private var entry: RawEntry?
    private var entryDepth = 0

    init(votesElement: String?, documentURL: URL?) {
        self.votesElement = votesElement
        self.documentURL = documentURL
    }

    private static func localName(_ name: String) -> String {
        name.split(separator: ":", maxSplits: 1).last.map(String.init) ?? name
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let local = Self.localName(elementName)
        var base = stack.last?.base
        if let declared = attributes["xml:base"] {
            base =
                URL(string: declared.trimmingCharacters(in: .whitespaces), relativeTo: base ?? documentURL)?.absoluteURL
        }
        if stack.isEmpty {
            started = true
            switch local {
            case "rss": format = .rss2
            case "RDF": format = .rss1
            case "feed": format = .atom
            default:
                unknownRoot = elementName
                parser.abortParsing()
                return
            }
        }
        stack.append(Frame(name: elementName, local: local, attributes: attributes, base: base))
        let depth = stack.count
        if entry == nil, (format == .atom && local == "entry") || (format != .atom && local == "item") {
            entry = RawEntry()
            entryDepth = depth
            return
        }
        guard entry != nil, depth == entryDepth + 1 else {
            if entry == nil { startFeedLevel(local: local, attributes: attributes, depth: depth) }
            return
        }
        // Attribute-only children of an entry.
        switch local {
        case "link" where format == .atom:
            let rel = attributes["rel"] ?? "alternate"
            guard let href = attributes["href"] else { break }
            if rel == "alternate", entry?.linkIsAlternate != true {
                entry?.link = href
                entry?.linkIsAlternate = true
                entry?.linkBase = base
            } else if entry?.link == nil, rel != "self", rel != "edit", rel != "replies" {
                entry?.link = href
                entry?.linkBase = base
            }
            if rel == "enclosure", attributes["type"]?.hasPrefix("image/") == true, entry?.imageURL == nil {
                entry?.imageURL = href
            }
        case "enclosure":
            if attributes["type"]?.hasPrefix("image/") == true, let url = attributes["url"], entry?.imageURL == nil {
                entry?.imageURL = url
            }
        case "thumbnail" where elementName.hasPrefix("media:"), "content" where elementName.hasPrefix("media:"):
            if let url = attributes["url"], entry?.imageURL == nil,
                local == "thumbnail" || attributes["medium"] == "image"
                    || attributes["type"]?.hasPrefix("image/") == true
            {
                entry?.imageURL = url
            }
        default: break
        }
    }

    private func startFeedLevel(local: String, attributes: [String: String], depth: Int) {
        // The Atom feed's own alternate link names the site: <feed><link rel="alternate" href="…"/>.
        if format == .atom, depth == 2, local == "link", (attributes["rel"] ?? "alternate") == "alternate",
            siteLink == nil
        {
            siteLink = attributes["href"]
        }
    }

    private(set) var parseError: (any Error)?
    private var started = false

    /// True when the root element was opened and closed.
    var isComplete: Bool { started && stack.isEmpty }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if self.parseError == nil { self.parseError = parseError }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
    ) {
        guard let frame = stack.popLast() else { return }
        let depth = stack.count + 1
        // Children's text joins the parent's, so Atom xhtml content reads as one text.
        if !stack.isEmpty, entry != nil, depth > entryDepth + 1 {
            stack[stack.count - 1].text += " " + frame.text + " "
        }
        if entry != nil, depth == entryDepth {
            entries.append(entry!)
            entry = nil
            return
        }
        guard entry != nil else {
            endFeedLevel(frame, depth: depth)
            return
        }
        if let votesElement, frame.name == votesElement || (!votesElement.contains(":") && frame.local == votesElement),
            depth == entryDepth + 1
        {
            entry?.votes = frame.text
            return
        }
        // Atom: <author><name>…</name></author>
        if format == .atom, frame.local == "name", depth == entryDepth + 2, stack.last?.local == "author" {
            if entry?.author == nil { entry?.author = frame.text }
            return
        }
        guard depth == entryDepth + 1 else { return }
        // In RSS, the core elements are unprefixed; `atom:link` or `media:title` inside an item are not them.
        let plain = format == .atom || frame.name == frame.local
        let text = frame.text
        let isHTML = format != .atom || frame.attributes["type"] == "html" || frame.attributes["type"] == "text/html"
        switch frame.local {
        case "title" where plain:
            entry?.title = text
            entry?.titleIsHTML = isHTML
        case "link" where format != .atom && plain:
            if entry?.link == nil, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                entry?.link = text
                entry?.linkBase = frame.base
            }
        case "guid" where plain:
            if frame.attributes["isPermaLink"] != "false" {
                entry?.guidLink = text
                if entry?.linkBase == nil { entry?.linkBase = frame.base }
            }
        case "description" where plain, "summary" where plain:
            if entry?.summary == nil {
                entry?.summary = text
                entry?.summaryIsHTML = isHTML
            }
        case "encoded", "content":
            if frame.name.hasPrefix("media:") { break }
            if entry?.content == nil {
                entry?.content = text
                if entry?.summary == nil { entry?.summaryIsHTML = isHTML }
            }
        case "author", "creator":
            if entry?.author == nil, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                entry?.author = text
            }
        case "pubDate", "published", "issued":
            if entry?.published == nil { entry?.published = text }
        case "date", "updated", "modified":
            if entry?.updated == nil { entry?.updated = text }
        default: break
        }
    }

    private func endFeedLevel(_ frame: Frame, depth: Int) {
        let parent = stack.last?.local
        switch (format, frame.local) {
        case (.atom, "title") where depth == 2:
            feedTitle = frame.text
        case (.rss2, "title") where parent == "channel", (.rss1, "title") where parent == "channel":
            if feedTitle == nil { feedTitle = frame.text }
        case (.rss2, "link") where parent == "channel", (.rss1, "link") where parent == "channel":
            // Not an `atom:link rel="self"` that many RSS channels carry before their own link.
            let text = frame.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if siteLink == nil, frame.name == "link", !text.isEmpty { siteLink = text }
        default: break
        }
    }
}
