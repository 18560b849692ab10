import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Subscribers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list, remove, import and export subscribers.",
            subcommands: [Add.self, List.self, Remove.self, ImportCSV.self, Export.self, Reactivate.self])
    }
}

extension DigestCommand.Subscribers {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one subscriber.",
            discussion: """
                Without --confirmed the subscriber is `pending` and receives nothing until they \
                confirm; with it they are `active` at once (use it only for addresses that asked).
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The email address.") var email: String
        @Option(help: "Display name, used in the greeting and the To header.") var name: String?
        @Option(help: "IANA time zone such as Europe/Berlin (default: the site's).") var timezone: String?
        @Option(help: "Delivery hour 0–23 in the reader's time zone (default: digest.sendHour).") var hour: Int?
        @Option(help: "html or text.") var format: String?
        @Option(help: "Sections to receive, e.g. story,post (default: all).") var sections: String?
        @Option(help: "daily (default), weekly or monthly (the 1st of each month).") var cadence: String?
        @Option(help: "The weekly edition's day: mon … sun (default: mon).") var weekday: String?
        @Option(help: "Send nothing before this day (YYYY-MM-DD); it brings a catch-up.") var pausedUntil: String?
        @Option(help: "At most this many stories (1–100; within the site's count).") var maxStories: Int?
        @Option(help: "At most this many posts (1–100; within the site's count).") var maxPosts: Int?
        @Option(help: "About this many minutes of reading instead of counts (1–100).") var readingMinutes: Int?
        @Option(help: "The reader's language, one of site.languages (default: the site's).") var language: String?
        @Flag(help: "Make the subscriber active without double opt-in.") var confirmed = false

        func run() async throws {
            let (configuration, store) = try options.open()
            let address = try EmailAddress(email)
            var subscriber = try Subscriber.validated(
                email: address, name: name, format: format, timeZone: timezone, sections: sections,
                deliveryHour: hour.map(String.init), confirmed: confirmed, now: Date())
            try subscriber.apply(
                ReaderChoicesText(
                    cadence: cadence, weekday: weekday, pausedUntil: pausedUntil, maxStories: maxStories.map(String.init),
                    maxPosts: maxPosts.map(String.init), readingMinutes: readingMinutes.map(String.init)))
            subscriber.language = try Subscriber.validatedLanguage(language, offered: configuration.site.languages)
            let added = try store.addSubscriber(subscriber)
            print("added \(added.email) (\(added.status.rawValue); \(added.choicesDescription))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List subscribers, by email.")

        @OptionGroup var options: ConfigOptions
        @Option(help: "Only this status: pending, active, unsubscribed or bounced.") var status: SubscriberStatus?
        @Flag(help: "One JSON array of objects instead of a table.") var json = false

        func run() async throws {
            let (configuration, store) = try options.open()
            // Only readers with bounces or complaints recorded after delivery have an entry.
            let reported = try store.bounceCountsBySubscriber()
            if json {
                // Streamed element by element so a large list never sits in memory whole.
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                var first = true
                print("[", terminator: "")
                try store.forEachSubscriber(status: status) { subscriber in
                    var object = SubscriberJSON(subscriber, siteLanguage: configuration.site.language)
                    object.bounces = reported[subscriber.id ?? 0] ?? BounceCounts()
                    let data = try encoder.encode(object)
                    print(first ? "\n  " : ",\n  ", terminator: "")
                    print(String(decoding: data, as: UTF8.self), terminator: "")
                    first = false
                }
                print(first ? "]" : "\n]")
            } else {
                var count = 0
                try store.forEachSubscriber(status: status) { s in
                    count += 1
                    let name = s.name.map { " \"\($0)\"" } ?? ""
                    var counts = ""
                    if let c = reported[s.id ?? 0] {
                        counts = "  bounces: \(c.hard) hard, \(c.soft) soft, \(c.failed) other; complaints: \(c.complaints)"
                    }
                    print(
                        "\(s.email)\(name)  \(s.status.rawValue)  \(s.format.rawValue)  \(s.timeZone ?? "-")  "
                            + s.choicesDescription + counts)
                }
                printError("\(count) subscriber\(count == 1 ? "" : "s")")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a subscriber and their delivery history.",
            discussion: "To keep the history, let them unsubscribe instead.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The email address.") var email: String

        func run() async throws {
            let (_, store) = try options.open()
            let address = try EmailAddress(email)
            guard try store.removeSubscriber(email: address) else {
                throw CommandFailure("\(address) is not on the list")
            }
            print("removed \(address)")
        }
    }

    struct ImportCSV: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import subscribers from a CSV file with a header row.",
            discussion: """
                Columns: email (required), name, format (html|text), timeZone, sections (story;post), \
                deliveryHour, cadence (daily|weekly|monthly), weekday (mon…sun), pausedUntil (YYYY-MM-DD), \
                maxStories, maxPosts, readingMinutes, language (one of site.languages; empty: the site's), \
                and what `subscribers export` adds: status, createdAt, \
                confirmedAt (so an \
                export imports back; a row's status wins over --confirmed). Each bad row is reported with \
                its line; the good rows are imported in one transaction. Addresses already on the list are \
                left unchanged. A quote that is never closed refuses the whole file, naming the line where \
                it opened.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Import as active (they asked elsewhere) instead of pending.") var confirmed = false

        func run() async throws {
            let (configuration, store) = try options.open()
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CommandFailure("\(file): cannot be read as UTF-8 text")
            }
            let result: SubscriberImportResult
            do {
                result = try store.importSubscribers(
                    csv: text, confirmed: confirmed, languages: configuration.site.languages)
            } catch let error as CSVError {
                throw CommandFailure("\(file): \(error)")
            } catch let error as SubscriberError {
                throw CommandFailure("\(file): \(error)")
            }
            for row in result.rejected { printError("\(file): \(row)") }
            print("\(file): \(result.imported) imported, \(result.existing) already on the list, \(result.rejected.count) rejected")
            if !result.rejected.isEmpty { throw ExitCode.failure }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write every subscriber as CSV to standard output.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let (_, store) = try options.open()
            try store.exportSubscribers { line in FileHandle.standardOutput.write(Data(line.utf8)) }
        }
    }
}

/// The JSON shape of `subscribers list --json`: a stable contract for scripts.
struct SubscriberJSON: Encodable {
    var email: String
    var name: String?
    var status: String
    var format: String
    var timeZone: String?
    var deliveryHour: Int?
    var sections: [String]
    var cadence: String
    var weekday: String
    var pausedUntil: Day?
    /// "At most N stories and M posts" or "about N minutes"; all absent: the site's counts.
    var maxStories: Int?
    var maxPosts: Int?
    var readingMinutes: Int?
    /// One of `site.languages`: the reader's, or the site's own when they have none.
    var language: String
    var createdAt: Date
    var confirmedAt: Date?
    /// Hard bounces in a row during sends (reset by a delivery).
    var bounceCount: Int
    /// Bounces and complaints reported after delivery (`digest bounces import`, `POST /api/bounces`).
    var bounces = BounceCounts()

    init(_ s: Subscriber, siteLanguage: String) {
        email = s.email.description
        name = s.name
        status = s.status.rawValue
        format = s.format.rawValue
        timeZone = s.timeZone
        deliveryHour = s.deliveryHour
        sections = s.sections.isEmpty ? ItemKind.allCases.map(\.rawValue) : s.sections.map(\.rawValue)
        cadence = s.cadence.rawValue
        weekday = s.weekday.rawValue
        pausedUntil = s.pausedUntil
        maxStories = s.maxStories
        maxPosts = s.maxPosts
        readingMinutes = s.readingMinutes
        language = s.language ?? siteLanguage
        createdAt = s.createdAt
        confirmedAt = s.confirmedAt
        bounceCount = s.bounceCount
    }

    enum CodingKeys: String, CodingKey {
        case email, name, status, format, timeZone, deliveryHour, sections, cadence, weekday, pausedUntil
        case maxStories, maxPosts, readingMinutes, language, createdAt, confirmedAt, bounceCount, bounces
    }

    /// Every key in every object, `null` where a reader has no value (the synthesized encoding leaves such keys
    /// out, so a script reading `reader["pausedUntil"]` failed on most readers).
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(email, forKey: .email)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(format, forKey: .format)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(deliveryHour, forKey: .deliveryHour)
        try c.encode(sections, forKey: .sections)
        try c.encode(cadence, forKey: .cadence)
        try c.encode(weekday, forKey: .weekday)
        try c.encode(pausedUntil, forKey: .pausedUntil)
        try c.encode(maxStories, forKey: .maxStories)
        try c.encode(maxPosts, forKey: .maxPosts)
        try c.encode(readingMinutes, forKey: .readingMinutes)
        try c.encode(language, forKey: .language)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(confirmedAt, forKey: .confirmedAt)
        try c.encode(bounceCount, forKey: .bounceCount)
        try c.encode(bounces, forKey: .bounces)
    }
}

extension SubscriberStatus: ExpressibleByArgument {}
