import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the list's and the sends' figures: readers by status, growth, messages, bounces, backlog.",
            discussion: "The same figures as the admin console and GET /admin/api/stats, from summary rows.")

        @OptionGroup var options: ConfigOptions
        @Option(help: "The period, in days ending today (UTC).") var days = 30
        @Option(help: "Act as if it were this instant (ISO 8601).") var now: String?
        @Flag(help: "JSON instead of text.") var json = false

        func validate() throws {
            guard (1...3660).contains(days) else { throw ValidationError("--days must be from 1 to 3660, not \(days)") }
            if let now, DateParsing.iso8601(now) == nil {
                throw ValidationError("--now must be an ISO 8601 instant such as 2026-11-24T06:00:00Z, not \"\(now)\"")
            }
        }

        func run() async throws {
            let (configuration, store) = try options.open()
            let schedule = DeliverySchedule(ranker: Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone))
            let report = try store.statsReport(
                days: days, now: now.flatMap(DateParsing.iso8601) ?? Date(), schedule: schedule)
            if json {
                print(String(decoding: try report.json(), as: UTF8.self))
            } else {
                report.lines.forEach { print($0) }
            }
        }
    }
}
