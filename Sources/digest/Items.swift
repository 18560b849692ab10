import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Items: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List and remove stored items (stories and blog posts).",
            subcommands: [List.self, Remove.self])
    }
}

extension DigestCommand.Items {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List items, newest first.",
            discussion: "Each line: published, kind, the site's votes, the votes from digests' vote links, title, url.")

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("Only items published at or after this ISO 8601 time.", valueName: "TIME"))
        var since: String?
        @Flag(help: "One JSON array in the import format instead of a table.") var json = false

        func validate() throws {
            if let since, DateParsing.iso8601(since) == nil {
                throw ValidationError(
                    "--since expects an ISO 8601 time such as 2026-11-24T00:00:00Z, not \"\(since)\".")
            }
        }

        func run() async throws {
            let (_, store) = try options.open()
            let items = try store.items(since: since.flatMap(DateParsing.iso8601))
            if json {
                print(String(decoding: try ItemJSON.encode(items), as: UTF8.self))
            } else {
                for item in items {
                    let date = DateParsing.iso8601String(item.publishedAt)
                    let votes = "\(String(item.votes).leftPadded(to: 5)) \(String(item.digestVotes).leftPadded(to: 4))"
                    print("\(date)  \(item.kind.rawValue)  \(votes)  \(item.title)  <\(item.url)>")
                }
                printError("\(items.count) item\(items.count == 1 ? "" : "s")")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an item by url.", discussion: "Editions already built keep their copy.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The item's url.") var url: String

        func run() async throws {
            let (_, store) = try options.open()
            guard try store.removeItem(url: url) else { throw CommandFailure("no item has the url \(url)") }
            print("removed \(url)")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
