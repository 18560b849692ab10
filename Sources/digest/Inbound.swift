import ArgumentParser
import DigestCore
import Foundation

extension DigestCommand {
    struct Inbound: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everything that comes back: bounces, complaints, auto-replies, reply commands and letters.",
            subcommands: [Import.self])
    }
}

extension DigestCommand.Inbound {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read messages that came back and apply each one.",
            discussion: """
                Each PATH is one message file, an mbox file, or a Maildir folder (its new/ messages are read \
                and moved to cur/). Each message is one of: a bounce (RFC 3464) or a complaint (RFC 5965), \
                applied as `digest bounces import` always did; an auto-reply, counted and dropped; a command \
                reply to a digest's Reply-To (mail.replyAddress: +3, vote 3 7, daily, weekly, pause 14, \
                pause until 2027-01-10, resume, stop), applied when it comes from the reader's own address \
                and passes the Authentication-Results of mail.trustedAuthservIds, and answered with a short \
                mail; or a letter, forwarded to mail.replyTo. Safe to run from cron every few minutes: a \
                message already applied changes nothing.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "Message files, mbox files or Maildir folders.") var paths: [String]

        func run() async throws {
            try Self.run(paths, options: options)
        }

        /// The import, for `digest inbound import` and its older name `digest bounces import`.
        static func run(_ paths: [String], options: ConfigOptions) throws {
            let (configuration, store) = try options.open()
            let environment = ProcessInfo.processInfo.environment
            let mail = configuration.mail
            // Without VERP or reply addresses nothing this import reads or writes is signed (no token to check, no
            // answer with links to send), so a site whose cron never had the secret keeps importing bounces.
            let signer =
                mail.bounceAddress == nil && mail.replyAddress == nil && environment[configuration.web.secretEnv] == nil
                ? try LinkSigner(secret: UUID().uuidString + UUID().uuidString)
                : try LinkSigner(environmentVariable: configuration.web.secretEnv, environment: environment)
            let importer = try InboundImporter(configuration: configuration, store: store, signer: signer)
            let summary = try importer.importPaths(paths, now: Date())
            for line in summary.lines { print(line) }
        }
    }
}
