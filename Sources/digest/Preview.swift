import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show tonight's digest exactly as `send` would build it, without sending or recording anything.",
            discussion: """
                --format eml writes the whole message (headers, text and HTML parts) byte for byte; \
                html and text write the personalized bodies. Without --subscriber a sample reader is used. \
                Warns on standard error when the message is over 100 KB (Gmail clips at about 102 KB).
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case html, text, eml
        }

        @OptionGroup var options: ConfigOptions
        @Option(help: "Edition date YYYY-MM-DD (default: the next edition to close).", transform: Day.argument)
        var date: Day?
        @Option(
            help: """
                Preview the digest of this subscriber: without --date, the edition they would get tonight (daily, \
                weekly, catch-up) or why they get none; already-received items left out.
                """)
        var subscriber: String?
        @Option(help: "html, text or eml.") var format: Format = .html
        @Option(help: "Act as if it were this instant (ISO 8601): which edition is tonight's, and the reader's.")
        var now: String?
        @Option(help: "Write to this file instead of standard output.") var out: String?

        func validate() throws {
            if let now, DateParsing.iso8601(now) == nil {
                throw ValidationError("--now must be an ISO 8601 instant such as 2026-11-24T06:00:00Z, not \"\(now)\"")
            }
        }

        func run() async throws {
            let (configuration, store) = try options.open()
            let composer = try await DigestComposer.make(configuration: configuration)
            let preview = DigestPreview(composer: composer, store: store)
            let email = try subscriber.map { try EmailAddress($0) }
            let (edition, digest) = try preview.digest(
                date: date, subscriber: email, now: now.flatMap(DateParsing.iso8601) ?? Date())
            let bytes: [UInt8] =
                switch format {
                case .eml: digest.message.data
                case .text: Array(digest.text.utf8)
                case .html: Array((digest.html ?? "").utf8)
                }
            if format == .html && digest.html == nil { printError("note: this reader gets plain text only; showing nothing for html (try --format text)") }
            if let out {
                try Data(bytes).write(to: URL(fileURLWithPath: out))
                printError("wrote \(out) (\(bytes.count) bytes; \(edition.kind.rawValue) edition \(edition.date), \(digest.itemIDs.count) items, message \(digest.message.data.count) bytes)")
            } else {
                FileHandle.standardOutput.write(Data(bytes))
                if let subscriber { printError("\(subscriber): the \(edition.kind.rawValue) edition of \(edition.date)") }
            }
            for warning in digest.warnings { printError("warning: \(warning)") }
        }
    }
}

extension Day {
    /// `--date`: a calendar day as YYYY-MM-DD, or an error that says what is expected.
    static func argument(_ text: String) throws -> Day {
        guard let day = Day(text) else {
            throw ValidationError("expected a calendar date as YYYY-MM-DD, such as 2026-11-24, not \"\(text)\"")
        }
        return day
    }
}
