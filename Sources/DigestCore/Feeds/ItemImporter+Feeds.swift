import Foundation
import Logging

/// What importing one source did.
public struct ImportReport: Sendable {
    public enum Format: Sendable, Equatable {
        case json
        case feed(FeedFormat)
        /// The server said the feed has not changed since the last fetch.
        case notModified
    }

    /// The file path or URL as given.
    public var source: String
    public var format: Format
    public var counts: UpsertCounts
    /// Feed entries skipped, and warnings about imported ones.
    public var problems: [FeedEntryProblem]
    /// Warnings about the document as a whole, such as an encoding that had to be guessed.
    public var warnings: [String] = []

    /// One line for a person: "feed.xml (RSS 2.0): 3 new, 1 updated, 1 skipped".
    public var summary: String {
        let skipped = problems.filter(\.skipped).count
        switch format {
        case .notModified: return "\(source): not modified since the last fetch"
        case .json: return "\(source): \(counts.inserted) new, \(counts.updated) updated"
        case .feed(let feed):
            return "\(source) (\(feed.rawValue)): \(counts.inserted) new, \(counts.updated) updated"
                + (skipped > 0 ? ", \(skipped) skipped" : "")
        }
    }
}

/// A source that could not be imported at all; `source` names it.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var message: String
    public var description: String { "\(source): \(message)" }
}

extension ItemImporter {
    /// Imports a JSON item file, a feed file, or a feed URL (http, https, file).
    ///
    /// The content decides: a document starting with `[` or `{` is a JSON item file (refused whole
    /// when any record is bad), anything else is read as RSS or Atom (bad entries skipped and reported).
    /// - Parameters:
    ///   - kind: the kind for feed entries and for JSON records that name none; feeds default to `story`.
    ///   - votesElement: the element of each feed entry holding its votes.
    @discardableResult
    public func importSource(
        _ source: String, kind: ItemKind? = nil, votesElement: String? = nil, fetcher: FeedFetcher? = nil,
        now: Date = Date()
    ) async throws -> ImportReport {
        let data: Data
        let documentURL: String
        var document: FeedDocument?
        if source.contains("://") {
            let fetcher = fetcher ?? FeedFetcher(store: store)
            switch try await fetcher.fetch(source, now: now) {
            case .notModified:
                logger.info("feed not modified", metadata: ["feed.url": "\(source)"])
                return ImportReport(source: source, format: .notModified, counts: UpsertCounts(), problems: [])
            case .fetched(let fetched):
                data = fetched.data
                documentURL = fetched.effectiveURL
                document = fetched
            }
        } else {
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: source))
            } catch {
                throw ImportError(source: source, message: "cannot be read: the file does not exist or is not readable")
            }
            documentURL = URL(fileURLWithPath: source).absoluteURL.absoluteString
        }
        let report: ImportReport
        if Self.looksLikeJSON(data) {
            let drafts = try ItemRecordParser.parse(data, source: source, defaultKind: kind)
            let counts = try store.upsert(drafts, now: now)
            report = ImportReport(source: source, format: .json, counts: counts, problems: [])
        } else {
            let parser = FeedParser(kind: kind ?? .story, votesElement: votesElement, now: now)
            let feed: ParsedFeed
            do {
                feed = try parser.parse(data, url: documentURL, charset: document?.charset)
            } catch {
                throw ImportError(source: source, message: error.message)
            }
            let counts = try store.upsert(
                feed.drafts, keepVotes: votesElement == nil, undated: feed.undated, now: now)
            report = ImportReport(
                source: source, format: .feed(feed.format), counts: counts, problems: feed.problems,
                warnings: feed.warnings)
            for warning in feed.warnings {
                logger.info("feed \(source): \(warning)", metadata: ["feed.source": "\(source)"])
            }
        }
        // Only now that the items are stored may the next fetch be conditional.
        if let document { try (fetcher ?? FeedFetcher(store: store)).remember(document) }
        logger.info(
            "imported \(source)",
            metadata: [
                "inserted": "\(report.counts.inserted)", "updated": "\(report.counts.updated)",
                "skipped": "\(report.problems.filter(\.skipped).count)",
            ])
        return report
    }

    /// Imports one configured feed; `kind` overrides the configured kind.
    @discardableResult
    public func importFeed(
        _ feed: Configuration.Feed, kind: ItemKind? = nil, fetcher: FeedFetcher? = nil, now: Date = Date()
    ) async throws -> ImportReport {
        try await importSource(
            feed.url, kind: kind ?? feed.kind, votesElement: feed.votesElement, fetcher: fetcher, now: now)
    }

    /// JSON item files start with `[` or `{` (after an optional BOM and whitespace); feeds with `<`.
    /// Any other document that is valid JSON (`42`, `"text"`, `null`) is JSON too, so that it is
    /// refused as the wrong kind of JSON rather than as broken XML.
    static func looksLikeJSON(_ data: Data) -> Bool {
        var bytes = data.prefix(4096)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            return false
        }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") { return true }
        if first == UInt8(ascii: "<") || data.count > 1_000_000 { return false }
        return (try? JSONValue.parse(data)) != nil
    }
}
