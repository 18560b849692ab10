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
            abstract: "Apply delivery-status reports (RFC 3464) and complaint reports (RFC 5965): `digest inbound import`.",
            discussion: """
                Each PATH is one message file, an mbox file, or a Maildir folder (its new/ messages are \
                read and moved to cur/). A report is matched to a reader by the VERP token of \
                mail.bounceAddress, else by the original Message-ID in the ledger; reports that match \
                no one are listed, never guessed. A hard bounce (5.1.x) counts toward `bounced` (3 make \
                a reader bounced; one that says the mailbox does not exist, 5.1.1 or 5.1.10, at once), a soft one (4.x.x) changes nothing, a complaint unsubscribes at once. \
                Auto-replies and vacation notices are ignored. Safe to run from cron every few minutes: \
                a report already applied changes nothing. The same command as `digest inbound import`, \
                which also applies reply commands and forwards letters.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "Message files, mbox files or Maildir folders.") var paths: [String]

        func run() async throws {
            try DigestCommand.Inbound.Import.run(paths, options: options)
        }
    }
}
