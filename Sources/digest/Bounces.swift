import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Bounces: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bounces and complaints that come back after sending.",
            subcommands: [Import.self])
    }
}

extension DigestCommand.Bounces {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply delivery-status reports (RFC 3464) and complaint reports (RFC 5965).",
            discussion: """
                Each PATH is one message file, an mbox file, or a Maildir folder (its new/ messages are \
                read and moved to cur/). A report is matched to a reader by the VERP token of \
                mail.bounceAddress, else by the original Message-ID in the ledger; reports that match \
                no one are listed, never guessed. A hard bounce (5.1.x) counts toward `bounced` (3 make \
                a reader bounced), a soft one (4.x.x) changes nothing, a complaint unsubscribes at once. \
                Auto-replies and vacation notices are ignored. Safe to run from cron every few minutes: \
                a report already applied changes nothing.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "Message files, mbox files or Maildir folders.") var paths: [String]

        func run() async throws {
            let (configuration, store) = try options.open()
            var bounceAddress: BounceAddress?
            if let base = configuration.mail.bounceAddress {
                let signer = try LinkSigner(
                    environmentVariable: configuration.web.secretEnv, environment: ProcessInfo.processInfo.environment)
                bounceAddress = BounceAddress(base: base, signer: signer)
            }
            let importer = BounceImporter(store: store, bounceAddress: bounceAddress)
            let summary = try importer.importPaths(paths, now: Date())
            for line in summary.lines { print(line) }
        }
    }
}
