import DigestCore
import Foundation

/// `digest-bench feeds-corpus --base URL FILE…`: parses each feed file the way `digest import` does
/// (`FeedParser`, nothing stored) and prints one JSON object a line, flushed after each file, so a
/// driver (scripts/feed-corpus) can compare what was read with a reference parser and tell which file
/// a crash stopped at. Each document is read as if fetched from `base` + its path, so relative links
/// resolve the same way for both parsers.
func benchFeedsCorpus(files: [String], base: String, root: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let parser = FeedParser(kind: .story, now: Date(timeIntervalSince1970: 0))
    for file in files {
        let relative = file.hasPrefix(root + "/") ? String(file.dropFirst(root.count + 1)) : file
        var result = CorpusFile(file: relative)
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let feed = try parser.parse(data, url: base + relative)
            result.format = feed.format.rawValue
            result.encoding = feed.encoding
            result.title = feed.title
            result.warnings = feed.warnings
            let skipped = feed.problems.filter(\.skipped)
            let skippedNumbers = Set(skipped.map(\.entry))
            var number = 0
            for draft in feed.drafts {
                number += 1
                while skippedNumbers.contains(number) { number += 1 }
                result.entries.append(
                    CorpusEntry(
                        entry: number, title: draft.title, link: draft.url,
                        date: feed.undated.contains(draft.url) ? nil : Int(draft.publishedAt.timeIntervalSince1970),
                        summary: String(draft.summary.prefix(200))))
            }
            result.skipped = skipped.map {
                CorpusSkip(entry: $0.entry, label: $0.label, link: $0.link, message: $0.message)
            }
        } catch let error as FeedError {
            result.refused = CorpusRefusal(message: error.message, line: error.line, column: error.column)
        } catch {
            result.refused = CorpusRefusal(message: "\(error)", line: nil, column: nil)
        }
        var line = try encoder.encode(result)
        line.append(0x0A)
        FileHandle.standardOutput.write(line)
    }
}

/// `digest-bench feeds-corpus --dates FILE`: each line of FILE read by `FeedDate`, one JSON line each
/// (`{"text": …, "date": seconds since 1970 or null}`).
func benchFeedDates(file: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
    for text in lines {
        let date = FeedDate.parse(String(text)).map { Int($0.timeIntervalSince1970.rounded(.down)) }
        var line = try encoder.encode(CorpusDate(text: String(text), date: date))
        line.append(0x0A)
        FileHandle.standardOutput.write(line)
    }
}

private struct CorpusDate: Encodable {
    var text: String
    var date: Int?
}

private struct CorpusFile: Encodable {
    var file: String
    var title: String?
    var format: String?
    var encoding: String?
    var warnings: [String] = []
    var entries: [CorpusEntry] = []
    var skipped: [CorpusSkip] = []
    var refused: CorpusRefusal?
}

private struct CorpusEntry: Encodable {
    /// One-based position among the document's entries, skipped ones included.
    var entry: Int
    var title: String
    var link: String
    /// Seconds since 1970; nil when the entry's date was missing or not understood.
    var date: Int?
    var summary: String
}

private struct CorpusSkip: Encodable {
    var entry: Int
    var label: String?
    var link: String?
    var message: String
}

private struct CorpusRefusal: Encodable {
    var message: String
    var line: Int?
    var column: Int?
}
