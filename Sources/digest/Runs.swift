import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the reports of past `send` runs, newest first.")

        @OptionGroup var options: ConfigOptions
        @Option(help: "How many runs to show.") var limit = 20
        @Flag(help: "JSON instead of text.") var json = false

        func run() async throws {
            let (_, store) = try options.open()
            var runs = try store.runs(limit: limit)
            for index in runs.indices {
                runs[index].reported = try store.bounceCounts(editionDates: runs[index].summary?.editions ?? [])
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(runs), as: UTF8.self))
                return
            }
            if runs.isEmpty { print("no runs yet") }
            for run in runs {
                let status = run.exitStatus.map { "exit \($0)" } ?? "unfinished (killed?)"
                print("#\(run.id) \(DateParsing.iso8601String(run.startedAt)) \(run.command): \(status)")
                for line in run.summary?.lines ?? [] { print("  \(line)") }
                if let reported = run.reported, !reported.isEmpty {
                    print(
                        "  reported since: \(reported.hard) hard bounces, \(reported.soft) soft, \(reported.failed) other "
                            + "failures, \(reported.complaints) complaints (for the editions of this run)")
                }
            }
        }
    }
}
