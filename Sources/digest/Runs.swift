import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the reports of past `send` runs, newest first.")

        @OptionGroup var options: ConfigOptions
        // `.unconditional`: `--limit -1` is a value to refuse by name, not a missing value before an option "-1".
        @Option(parsing: .unconditional, help: "How many runs to show (1 or more).") var limit = 20
        @Flag(help: "JSON instead of text.") var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be 1 or more, not \(limit)") }
        }

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
