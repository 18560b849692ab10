import ArgumentParser
import DigestCore

extension DigestCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Import items from JSON files, feed files and feed URLs; with no arguments, every configured feed.",
            discussion: """
                A JSON item file is an array of objects:
                  {"kind": "story"|"post", "title": "…", "url": "https://…", "summary": "…",
                   "author": "…", "publishedAt": "2026-11-24T07:30:00Z", "votes": 49, "imageURL": "https://…"}

                kind, title, url and publishedAt are required; publishedAt must be a real instant with a \
                zone (2021-02-30 is refused, not moved); "votes": null is refused (leave it out for 0); \
                HTML in summaries is stripped. Items are matched by url: importing a file again updates \
                titles and votes. A file with any invalid record is refused whole, each bad record named \
                with its index, line and reason; nothing of it is written.

                Anything else (an XML file, any http, https or file URL) is read as an RSS 2.0, RSS 1.0 or \
                Atom feed, in any encoding a browser reads, with every HTML entity. Entries without a title \
                or link are reported and skipped; entries whose date is missing or unreadable get the date \
                of the feed's oldest entry (the fetch time when none has one). A feed that cannot be read \
                is refused with the line, column and reason. A URL is fetched again only when it changed \
                (ETag, Last-Modified). A source that fails is reported and the others are still imported; \
                the exit status is non-zero when any failed.
                """)

        @OptionGroup var options: ConfigOptions

        @Option(help: "Kind for feed entries and JSON records that give none: story or post.")
        var kind: ItemKind?

        @Option(help: ArgumentHelp("Feed element holding each entry's votes, e.g. slash:comments.", valueName: "NAME"))
        var votesElement: String?

        @Argument(help: ArgumentHelp("Item files, feed files or feed URLs.", valueName: "FILE|URL"))
        var sources: [String] = []

        func run() async throws {
            let (configuration, store) = try options.open()
            let importer = ItemImporter(store: store, logger: options.logger)
            let fetcher = FeedFetcher(store: store)
            var failed = 0
            func report(_ result: ImportReport) {
                print(result.summary)
                for warning in result.warnings { printError("\(result.source): warning: \(warning)") }
                for problem in result.problems { printError("\(result.source): \(problem)") }
            }
            if sources.isEmpty {
                if configuration.feeds.isEmpty {
                    throw CommandFailure(
                        "Name the files or URLs to import, or list feeds under \"feeds\" in \(configuration.file).")
                }
                for feed in configuration.feeds {
                    do {
                        report(try await importer.importFeed(feed, kind: kind, fetcher: fetcher))
                    } catch {
                        failed += 1
                        printError("\(error)")
                    }
                }
            } else {
                for source in sources {
                    // A URL that is also configured brings its configured kind and votes element.
                    let configured = configuration.feeds.first { $0.url == source }
                    do {
                        report(
                            try await importer.importSource(
                                source, kind: kind ?? configured?.kind,
                                votesElement: votesElement ?? configured?.votesElement, fetcher: fetcher))
                    } catch {
                        failed += 1
                        printError("\(error)")
                    }
                }
            }
            if failed > 0 { throw ExitCode.failure }
        }
    }
}

extension ItemKind: ExpressibleByArgument {}
