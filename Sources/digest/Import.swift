import ArgumentParser
import DigestCore

extension DigestCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import items (stories and blog posts) from JSON files.",
            discussion: """
                A JSON item file is an array of objects:
                  {"kind": "story"|"post", "title": "…", "url": "https://…", "summary": "…",
                   "author": "…", "publishedAt": "2026-11-24T07:30:00Z", "votes": 49, "imageURL": "https://…"}
                kind, title, url and publishedAt are required. Items are matched by url: importing a
                file again updates titles and votes. A file with any invalid record is refused whole,
                each bad record named with its index, line and reason; nothing of it is written.
                """)

        @OptionGroup var options: ConfigOptions

        @Option(help: "Kind for records that give none: story or post.")
        var kind: ItemKind?

        @Argument(help: ArgumentHelp("Item files to import.", valueName: "FILE"))
        var sources: [String] = []

        func validate() throws {
            if sources.isEmpty { throw ValidationError("Name at least one item file to import.") }
        }

        func run() async throws {
            let (_, store) = try options.open()
            let importer = ItemImporter(store: store, logger: options.logger)
            var failed = 0
            for source in sources {
                do {
                    let counts = try importer.importFile(path: source, defaultKind: kind)
                    print("\(source): \(counts.inserted) new, \(counts.updated) updated")
                } catch {
                    failed += 1
                    printError("\(error)")
                }
            }
            if failed > 0 { throw ExitCode.failure }
        }
    }
}

extension ItemKind: ExpressibleByArgument {}
