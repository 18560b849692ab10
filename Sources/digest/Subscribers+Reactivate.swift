import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand.Subscribers {
    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo bounces: make readers marked bounced active again.",
            discussion: """
                For readers marked bounced by mistake (a relay that refused everyone before this version \
                told the two apart, a mailbox that works again). Name them, or take back every bounce since a \
                moment with --bounced-since; their bounce counts start from zero again.

                  digest subscribers reactivate ann@example.org bob@example.net
                  digest subscribers reactivate --bounced-since 2026-11-20T00:00:00Z
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "Addresses of bounced readers.") var emails: [String] = []
        @Option(help: "Also every reader marked bounced at or after this instant (ISO 8601, or a date YYYY-MM-DD in UTC).")
        var bouncedSince: String?

        func validate() throws {
            if emails.isEmpty && bouncedSince == nil {
                throw ValidationError("name the readers to reactivate, or give --bounced-since")
            }
            if let bouncedSince, Self.instant(bouncedSince) == nil {
                throw ValidationError(
                    "--bounced-since must be an ISO 8601 instant such as 2026-11-20T00:00:00Z or a date such as "
                        + "2026-11-20, not \"\(bouncedSince)\"")
            }
        }

        static func instant(_ text: String) -> Date? {
            DateParsing.iso8601(text) ?? DateParsing.iso8601(text + "T00:00:00Z")
        }

        func run() async throws {
            let (_, store) = try options.open()
            let addresses = try emails.map { try EmailAddress($0) }
            let result = try store.reactivateBounced(emails: addresses, bouncedSince: bouncedSince.flatMap(Self.instant))
            for email in result.reactivated { print("reactivated \(email)") }
            for email in result.notBounced { printError("\(email) is not a bounced reader: left as it is") }
            print("\(result.reactivated.count) reader\(result.reactivated.count == 1 ? "" : "s") reactivated")
            if !result.notBounced.isEmpty { throw ExitCode.failure }
        }
    }
}
