import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The dialect a feed was written in.
public enum FeedFormat: String, Sendable, Equatable {
    case rss2 = "RSS 2.0"
    case rss1 = "RSS 1.0"
    case atom = "Atom 1.0"
    /// Microsoft's Channel Definition Format (1997): `<CHANNEL HREF="…"><TITLE>…</TITLE><ITEM HREF="…">`.
    case cdf = "CDF"
}

/// A feed read into item drafts, with what was skipped on the way.
public struct ParsedFeed: Sendable {
    public var format: FeedFormat
    public var title: String?
    /// Valid entries in feed order; a link that appears twice keeps its first entry.
    public var drafts: [ItemDraft]
    /// Entries skipped (no title, no usable link, repeated link) and warnings (no date).
    public var problems: [FeedEntryProblem]
    /// Links of the drafts whose entry gave no usable date (see `FeedParser`); a later fetch keeps
    /// the date they were first stored with.
    public var undated: Set<String>
    /// About the document as a whole: a guessed encoding, bytes that could not be decoded.
    public var warnings: [String] = []
    /// The encoding the document was read in (a WHATWG name such as `windows-1252`).
    public var encoding = "utf-8"
}

/// Reads RSS 2.0, RSS 1.0 (RDF), Atom 1.0 (and 0.3) and CDF documents into `ItemDraft`s.
///
/// Element names are matched without regard to case (`<TiTlE>`, CDF's `<ITEM>`), as feedparser and
/// iTunes read them. Titles and summaries become plain text (HTML stripped, entities decoded); relative
/// links are resolved against `xml:base`, then the document's URL (or, for a local file, the site link
/// the feed names). The fallbacks every feed reader has: an Atom `<id>` that is an http(s) URL (or an
/// absolute path on the feed's site, `/2004/05/post`) serves as the link; `dc:title` or `media:title` as
/// the title; the summary comes from the first of `description`/`summary`/`abstract`,
/// `content:encoded`/`content`, `xhtml:body`, `media:description`, `itunes:summary`, `dc:description`
/// that has text.
///
/// Dates are read in every form `FeedDate` knows. An entry whose date is missing or cannot be read
/// is imported with a warning and dated like the oldest dated entry of the same feed, so it is never
/// newer than the feed's other entries and an old item cannot pass for tonight's news; only in a feed
/// where no entry has a readable date do entries get the fetch time (`now`).
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

    /// Parses a feed document fetched from (or read at) `url`; `charset` is the one its HTTP server named.
    public func parse(_ data: Data, url: String, charset: String? = nil) throws(FeedError) -> ParsedFeed {
        let decoded = try FeedEncoding.decode(data, transportCharset: charset)
        let document = Data(try XMLRepair.repair(decoded.utf8))
        if document.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw FeedError.notXML(line: 1, column: 1, "the document is empty")
        }
        let reader = FeedReader(votesElement: votesElement, documentURL: URL(string: url))
        let parser = XMLParser(data: document)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        let ok = parser.parse()
        if let root = reader.unknownRoot {
            let column = Self.column(of: Array("<\(root)".utf8), onLine: reader.rootLine, in: document)
            throw FeedError.notAFeed(root: root, line: reader.rootLine, column: column)
        }
        // FoundationXML may return true after a fatal error; an element left open also means a cut document.
        // It returns false after a namespace error alone, which libxml2 reads past (see `namespaceError`).
        if (!ok && reader.namespaceError == nil) || reader.parseError != nil || !reader.isComplete {
            let error = reader.parseError ?? (reader.namespaceError == nil ? parser.parserError : nil)
            let code = error.map { ($0 as NSError).code } ?? 5
            // Only comments and white space: no element was ever opened, nothing was cut off.
            var reason =
                code == 5 && !reader.started
                ? "the document has no element (nothing but comments and white space)" : XMLErrorText.reason(code: code)
            // At the end of a cut document the open elements are still those of the text; after other
            // errors libxml2 may already have closed them.
            if code == 5, let open = reader.innermostOpenElement {
                reason += " (inside <\(open.name)> from line \(open.line))"
            }
            let place = reader.errorPlace ?? (parser.lineNumber, parser.columnNumber)
            throw FeedError.notXML(line: max(place.line, 1), column: max(place.column, 1), reason)
        }
        guard let format = reader.format else { throw FeedError.notAFeed(root: "nothing", line: 1, column: 1) }
        var feed = build(format: format, reader: reader)
        feed.warnings = decoded.warnings
        if let (code, line, column) = reader.namespaceError {
            feed.warnings.append(
                "line \(line), column \(column): \(XMLErrorText.reason(code: code)); read as if it were declared")
        }
        feed.encoding = decoded.encoding
        return feed
    }

    private func build(format: FeedFormat, reader: FeedReader) -> ParsedFeed {
        var drafts: [ItemDraft] = []
        var problems: [FeedEntryProblem] = []
        var seen: [String: Int] = [:]
        var undated: Set<String> = []
        var oldest: Date?
        var undatedProblems: [(draft: Int, problem: Int, why: String?)] = []
        let siteBase = reader.siteLink.flatMap { URL(string: $0, relativeTo: reader.documentURL)?.absoluteURL }
        let documentBase: URL? =
            if let url = reader.documentURL, url.scheme == "http" || url.scheme == "https" { url } else {
                siteBase ?? reader.documentURL
            }
        for (offset, entry) in reader.entries.enumerated() {
            let number = offset + 1
            var title = entry.title.map { text in
                entry.titleIsHTML ? HTMLText.plainText(text) : text.collapsingWhitespace
            }
            if title?.isEmpty != false, let fallback = entry.fallbackTitle.map(HTMLText.plainText), !fallback.isEmpty {
                title = fallback
            }
            let idLink = entry.idLink.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap(Self.idAsLink)
            let rawLink = (entry.link ?? entry.guidLink ?? idLink)?.trimmingCharacters(in: .whitespacesAndNewlines)
            let link = rawLink.flatMap { Self.resolve($0, base: entry.linkBase ?? documentBase) }
            let label = title?.isEmpty == false ? title : rawLink
            guard let title, !title.isEmpty else {
                problems.append(.init(entry: number, label: label, message: "has no title", skipped: true, link: link))
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
                        message: "link \"\((link ?? rawLink).debugEscaped)\" is not an http(s) URL", skipped: true,
                        link: link ?? rawLink))
                continue
            }
            if let first = seen[link] {
                problems.append(
                    .init(
                        entry: number, label: label, message: "same link as entry \(first)", skipped: true, link: link))
                continue
            }
            seen[link] = number
            var publishedAt = now
            if let dateText = entry.published ?? entry.updated, let date = FeedDate.parse(dateText) {
                publishedAt = date
                oldest = min(oldest ?? date, date)
            } else {
                undated.insert(link)
                let why = (entry.published ?? entry.updated).map { "date \"\($0.debugEscaped)\" is not understood" }
                undatedProblems.append((drafts.count, problems.count, why))
                problems.append(.init(entry: number, label: label, message: "", skipped: false))
            }
            var summary = ""
            for candidate in entry.summaries {
                summary = candidate.isHTML ? HTMLText.plainText(candidate.text) : candidate.text.collapsingWhitespace
                if !summary.isEmpty { break }
            }
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
        // Undated entries are never newer than the feed's dated ones.
        for (draft, problem, why) in undatedProblems {
            if let oldest { drafts[draft].publishedAt = min(oldest, now) }
            let fallback = oldest == nil ? "using the fetch time" : "dated like the feed's oldest entry"
            problems[problem].message = "\(why ?? "has no date"); \(fallback)"
        }
        return ParsedFeed(
            format: format,
            title: (reader.feedTitle ?? reader.feedFallbackTitle).map {
                reader.feedTitleIsHTML ? HTMLText.plainText($0) : $0.collapsingWhitespace
            },
            drafts: drafts, problems: problems, undated: undated)
    }

    /// The column (in characters, one-based) where `needle` starts on line `line` of `document`; 1 when it
    /// is not there. libxml2 tells where a start tag ends, not where it starts.
    static func column(of needle: [UInt8], onLine line: Int, in document: Data) -> Int {
        let bytes = [UInt8](document)
        var start = 0
        var current = 1
        while current < line, let newline = bytes[start...].firstIndex(of: 0x0A) {
            start = newline + 1
            current += 1
        }
        guard let found = XMLRepair.firstIndex(of: needle, in: bytes, from: start),
            !bytes[start..<found].contains(0x0A)
        else { return 1 }
        return bytes[start..<found].count(where: { $0 & 0xC0 != 0x80 }) + 1
    }

    /// An Atom `<id>` that can stand for the entry's link: an http(s) URL, or an absolute path that names a
    /// page of the feed's own site. Not an id that is a URN or a tag (`tag:…`, `urn:uuid:…`), nor a bare
    /// word ("1", "post-12"), which resolved against the feed's URL would make up an address.
    static func idAsLink(_ id: String) -> String? {
        let lowered = id.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") { return id }
        return id.hasPrefix("/") && !id.hasPrefix("//") ? id : nil
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
    /// Atom `<id>`, used as the link when there is none and it is an http(s) URL.
    var idLink: String?
    /// `dc:title` or `media:title`, for an entry without a `title`.
    var fallbackTitle: String?
    /// The nearest `xml:base` in scope of the link, already absolute.
    var linkBase: URL?
    var summary: String?
    var summaryIsHTML = true
    var content: String?
    var contentIsHTML = true
    var xhtmlBody: String?
    var mediaDescription: String?
    var itunesSummary: String?
    var dcDescription: String?
    var author: String?
    var published: String?
    var updated: String?
    var votes: String?
    var imageURL: String?

    /// Where a summary may come from, in the order feed readers look.
    var summaries: [(text: String, isHTML: Bool)] {
        [
            summary.map { ($0, summaryIsHTML) }, content.map { ($0, contentIsHTML) }, xhtmlBody.map { ($0, false) },
            mediaDescription.map { ($0, true) }, itunesSummary.map { ($0, true) }, dcDescription.map { ($0, true) },
        ].compactMap { $0 }
    }
}

/// The namespaces whose elements feeds fall back on, told apart by URI (any prefix), or by the
/// usual prefix when a careless feed never declares it.
enum FeedNamespace {
    /// `rss`: the namespaces of RSS 1.0 (and 0.90) and of the namespaced RSS 2.0 drafts, whose elements are
    /// the core ones even with a prefix (`<rss:item><rss:title>`, no default namespace).
    case rss, atom, dublinCore, media, content, itunes, xhtml, other

    init(uri: String?, prefix: String) {
        switch uri?.lowercased() {
        case "http://purl.org/rss/1.0/", "http://backend.userland.com/rss2", "http://backend.userland.com/rss",
            "http://my.netscape.com/rdf/simple/0.9/", "http://channel.netscape.com/rdf/simple/0.9/":
            self = .rss
        case "http://www.w3.org/2005/atom": self = .atom
        case "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/": self = .dublinCore
        case "http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss": self = .media
        case "http://purl.org/rss/1.0/modules/content/": self = .content
        case "http://www.itunes.com/dtds/podcast-1.0.dtd": self = .itunes
        case "http://www.w3.org/1999/xhtml": self = .xhtml
        case .some: self = .other
        case nil:
            switch prefix {
            case "atom": self = .atom
            case "dc", "dcterms": self = .dublinCore
            case "media": self = .media
            case "content": self = .content
            case "itunes": self = .itunes
            case "xhtml": self = .xhtml
            default: self = .other
            }
        }
    }
}

/// The XMLParser delegate: walks the document and collects raw entries.
final class FeedReader: NSObject, XMLParserDelegate {
    private struct Frame {
        var name: String
        var local: String
        var namespace: FeedNamespace?
        var line: Int
        var attributes: [String: String]
        /// The `xml:base` in scope, when one was declared on this element or an ancestor.
        var base: URL?
        var text = ""
    }

    let votesElement: String?
    /// `votesElement` without a prefix, in lower case as element names are matched; nil when it has one.
    private let votesLocal: String?
    let documentURL: URL?
    private(set) var format: FeedFormat?
    private(set) var unknownRoot: String?
    private(set) var entries: [RawEntry] = []
    private(set) var feedTitle: String?
    /// False for an Atom title whose type is not HTML (`text`, the default): its `<` and `&` are text, not markup.
    private(set) var feedTitleIsHTML = true
    /// The site the feed belongs to (RSS channel link, Atom alternate link).
    private(set) var siteLink: String?

    private var stack: [Frame] = []
    /// Prefix → namespace URI, from every `xmlns:` seen so far (feeds declare them on the root).
    private var prefixes: [String: String] = [:]
    /// The line of the root element.
    private(set) var rootLine = 1
    /// Where the first error was reported.
    private(set) var errorPlace: (line: Int, column: Int)?

    /// The deepest element still open, to say where a broken document broke.
    var innermostOpenElement: (name: String, line: Int)? { stack.last.map { ($0.name, $0.line) } }
    private var entry: RawEntry?
    private var entryDepth = 0
    /// The depth of the feed's own title while it is open (its xhtml children's text joins it).
    private var feedTitleDepth: Int?
    /// The channel's `dc:title`, for a channel without a `<title>`.
    private(set) var feedFallbackTitle: String?

    init(votesElement: String?, documentURL: URL?) {
        self.votesElement = votesElement
        self.votesLocal = votesElement.flatMap { $0.contains(":") ? nil : $0.lowercased() }
        self.documentURL = documentURL
    }

    /// The name without its prefix, in lower case: feed readers match element names without regard to
    /// case (`<TiTlE>`, CDF's `<CHANNEL>`). Most names have no capital letter and are not copied twice.
    private static func localName(_ name: String) -> String {
        let local = name.split(separator: ":", maxSplits: 1).last.map(String.init) ?? name
        return local.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? local.lowercased() : local
    }

    /// A CDF attribute (`HREF`, `LASTMOD`, `BASE`), written in capitals or not.
    private static func cdfAttribute(_ name: String, in attributes: [String: String]) -> String? {
        attributes[name.uppercased()] ?? attributes[name] ?? attributes.first { $0.key.lowercased() == name }?.value
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let local = Self.localName(elementName)
        var base = stack.last?.base
        // CDF's BASE attribute is its xml:base (the root is <CHANNEL>, read before the format is set).
        let isCDF = format == .cdf || (stack.isEmpty && local == "channel")
        if let declared = attributes["xml:base"] ?? (isCDF ? Self.cdfAttribute("base", in: attributes) : nil) {
            base =
                URL(string: declared.trimmingCharacters(in: .whitespaces), relativeTo: base ?? documentURL)?.absoluteURL
        }
        if stack.isEmpty {
            started = true
            rootLine = parser.lineNumber
            switch local {
            case "rss": format = .rss2
            case "rdf": format = .rss1
            case "feed": format = .atom
            case "channel":
                format = .cdf
                siteLink = Self.cdfAttribute("href", in: attributes)
            default:
                unknownRoot = elementName
                parser.abortParsing()
                return
            }
        }
        for (key, value) in attributes where key.hasPrefix("xmlns:") { prefixes[String(key.dropFirst(6))] = value }
        let prefix = elementName.contains(":") ? String(elementName.prefix(while: { $0 != ":" })) : nil
        let namespace = prefix.map { FeedNamespace(uri: prefixes[$0], prefix: $0) }
            ?? attributes["xmlns"].map { FeedNamespace(uri: $0, prefix: "") }
        stack.append(
            Frame(
                name: elementName, local: local, namespace: namespace, line: parser.lineNumber,
                attributes: attributes, base: base))
        let depth = stack.count
        if entry == nil, local == "title", depth == (format == .atom || format == .cdf ? 2 : 3), feedTitleDepth == nil {
            feedTitleDepth = depth
        }
        // An Atom feed written with RSS's habit, <item> for <entry>, reads as feedparser reads it.
        if entry == nil, local == "item" ? format != .atom || namespace == nil || namespace == .atom
            : format == .atom && local == "entry"
        {
            entry = RawEntry()
            entryDepth = depth
            // CDF: <ITEM HREF="…" LASTMOD="…">, the link and date as attributes.
            if format == .cdf {
                entry?.link = Self.cdfAttribute("href", in: attributes)
                entry?.linkBase = base
                entry?.updated = Self.cdfAttribute("lastmod", in: attributes)
            }
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
    /// True once the root element was opened.
    private(set) var started = false

    /// True when the root element was opened and closed.
    var isComplete: Bool { started && stack.isEmpty }

    /// The first namespace error (a prefix used without its `xmlns:` declaration, `<dc:creator>` in a feed
    /// that never declares `dc`) and where it was: XML itself is still well-formed, libxml2 reads on, and
    /// the element keeps its usual meaning (`FeedNamespace`), so it is a warning, not a refusal.
    private(set) var namespaceError: (code: Int, line: Int, column: Int)?

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        // libxml2's XML_NS_ERR_* (200…204): errors of Namespaces in XML, not of XML 1.0.
        let code = (parseError as NSError).code
        if (200...204).contains(code) {
            if namespaceError == nil { namespaceError = (code, parser.lineNumber, parser.columnNumber) }
            return
        }
        if self.parseError == nil {
            self.parseError = parseError
            errorPlace = (parser.lineNumber, parser.columnNumber)
        }
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
        // Children's text joins the parent's, so Atom xhtml content (and an xhtml feed title) reads as one text.
        // Not the code of inline <script> or <style>, which HTMLText drops from escaped HTML too.
        if !stack.isEmpty, entry != nil ? depth > entryDepth + 1 : depth > feedTitleDepth ?? .max,
            frame.local != "script", frame.local != "style"
        {
            stack[stack.count - 1].text += " " + frame.text + " "
        }
        if depth == feedTitleDepth { feedTitleDepth = nil }
        if entry != nil, depth == entryDepth {
            entries.append(entry!)
            entry = nil
            return
        }
        guard entry != nil else {
            endFeedLevel(frame, depth: depth)
            return
        }
        if let votesElement, frame.name == votesElement || frame.local == votesLocal,
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
        var text = frame.text
        // Any byte other than ASCII space, tab or line break: cheaper than trimming every element's text.
        let hasText = text.utf8.contains { $0 > 0x20 }
        // Media RSS puts title and description on the item, in <media:group> or in <media:content>.
        if frame.namespace == .media, hasText {
            if frame.local == "title", entry?.fallbackTitle == nil { entry?.fallbackTitle = text }
            if frame.local == "description", entry?.mediaDescription == nil { entry?.mediaDescription = text }
            return
        }
        guard depth == entryDepth + 1 else { return }
        // The core elements are unprefixed, RSS's or Atom's own; `atom:link` or `dc:title` in an RSS item are not.
        let plain =
            frame.namespace == nil || (format == .atom ? frame.namespace == .atom : frame.namespace == .rss)
        let isHTML = format != .atom || frame.attributes["type"] == "html" || frame.attributes["type"] == "text/html"
        if format == .atom, Self.isBase64(frame.attributes) {
            text = Self.base64Decoded(text)
        }
        switch (frame.namespace, frame.local) {
        case (.dublinCore, "title"):
            if entry?.fallbackTitle == nil, hasText { entry?.fallbackTitle = text }
            return
        case (.dublinCore, "description"):
            if entry?.dcDescription == nil, hasText { entry?.dcDescription = text }
            return
        case (.itunes, "summary"):
            if entry?.itunesSummary == nil, hasText { entry?.itunesSummary = text }
            return
        case (.xhtml, "body"), (nil, "body"):
            if entry?.xhtmlBody == nil, hasText { entry?.xhtmlBody = text }
            return
        case (.atom, "id"), (nil, "id"):
            if format == .atom { entry?.idLink = text }
            return
        default: break
        }
        switch frame.local {
        case "title" where plain:
            entry?.title = text
            entry?.titleIsHTML = isHTML
        case "link" where format != .atom && plain:
            // RSS written with Atom's habit, <link href="…"/>, by podcast tools among others.
            let rel = frame.attributes["rel"] ?? "alternate"
            let address = hasText ? text : rel == "alternate" ? frame.attributes["href"] : nil
            if entry?.link == nil, let address, !address.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                entry?.link = address
                entry?.linkBase = frame.base
            }
        case "guid" where plain:
            if frame.attributes["isPermaLink"] != "false" {
                entry?.guidLink = text
                if entry?.linkBase == nil { entry?.linkBase = frame.base }
            }
        case "description" where plain, "summary" where plain, "abstract" where plain:
            if entry?.summary == nil, hasText {
                entry?.summary = text
                entry?.summaryIsHTML = isHTML
            }
        case "link" where format == .atom && plain && frame.attributes["href"] == nil:
            // Atom 0.3 feeds written by hand: <link>https://…</link>, with the address as text.
            let rel = frame.attributes["rel"] ?? "alternate"
            if entry?.link == nil || (rel == "alternate" && entry?.linkIsAlternate != true), hasText {
                entry?.link = text
                entry?.linkIsAlternate = rel == "alternate"
                entry?.linkBase = frame.base
            }
        // `fullitem` (an early RSS extension) holds the whole item as escaped HTML, as `content:encoded` does.
        case "encoded" where frame.namespace == .content, "content" where plain, "fullitem" where plain:
            if entry?.content == nil, hasText {
                entry?.content = text
                entry?.contentIsHTML = isHTML
            }
        case "author", "creator":
            if entry?.author == nil, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                entry?.author = text
            }
        case "pubdate", "published", "issued":
            if entry?.published == nil { entry?.published = text }
        case "date", "updated", "modified":
            if entry?.updated == nil { entry?.updated = text }
        default: break
        }
    }

    /// Atom 0.3 `mode="base64"`; in Atom 1.0 a `type` that is a media type neither text nor XML, whose
    /// content "MUST be a Base64 encoding" (RFC 4287, 4.1.3.3).
    static func isBase64(_ attributes: [String: String]) -> Bool {
        if attributes["mode"] == "base64" { return true }
        // "text", "html", "xhtml" (most elements) have no slash: no need to look further.
        guard let written = attributes["type"], written.utf8.contains(UInt8(ascii: "/")) else { return false }
        let type = written.lowercased()
        return !type.hasPrefix("text/") && !type.hasSuffix("+xml") && !type.hasSuffix("/xml")
    }

    /// Base64 text as UTF-8 (line breaks and spaces ignored); text that is not Base64 stays as it is.
    static func base64Decoded(_ text: String) -> String {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact, options: .ignoreUnknownCharacters) else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    private func endFeedLevel(_ frame: Frame, depth: Int) {
        let parent = stack.last?.local
        // Channel elements of RSS are unprefixed or RSS's own, not `atom:link` or `dc:title`.
        let core = frame.namespace == nil || frame.namespace == .rss
        switch (format, frame.local) {
        case (.atom, "title") where depth == 2:
            let base64 = Self.isBase64(frame.attributes)
            feedTitle = base64 ? Self.base64Decoded(frame.text) : frame.text
            let type = frame.attributes["type"]?.lowercased()
            feedTitleIsHTML = type == "html" || type == "text/html"
        case (.rss2, "title") where parent == "channel" && core, (.rss1, "title") where parent == "channel" && core,
            (.cdf, "title") where depth == 2:
            if feedTitle == nil { feedTitle = frame.text }
        case (_, "title") where parent == "channel" && frame.namespace == .dublinCore:
            if feedFallbackTitle == nil { feedFallbackTitle = frame.text }
        case (.rss2, "link") where parent == "channel" && core, (.rss1, "link") where parent == "channel" && core:
            // Not an `atom:link rel="self"` that many RSS channels carry before their own link.
            let text = frame.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if siteLink == nil, !text.isEmpty { siteLink = text }
        default: break
        }
    }
}
