import ArgumentParser
import DigestCore
import Foundation

@main
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "DailyDigest: top stories and blog posts, ranked by reader votes, emailed each day.",
        discussion: """
            Every command reads its configuration from --config, else $DIGEST_CONFIG, else ./config.json; \
            --config may come before the command too (digest --config prod.json send).

            Start with `digest init`, feed it items with `digest import`, add readers with \
            `digest subscribers add`, look at tonight's mail with `digest preview`, and let cron run \
            `digest send` every hour.
            """,
        version: DailyDigestVersion.current,
        subcommands: [
            Init.self, Import.self, Items.self, Subscribers.self, Preview.self, Send.self, Runs.self, Serve.self,
            Bounces.self, Inbound.self, Dkim.self, Db.self, Stats.self,
        ]
    )

    /// `--config FILE` before the command (`digest --config prod.json send`, as git and kubectl users type
    /// it) is taken as $DIGEST_CONFIG for the command: a --config after the command still wins.
    static func main() async {
        StopSignals.unblock()
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, first == "--config" || first.hasPrefix("--config=") {
            let value: String?
            if first == "--config" {
                value = arguments.count > 1 ? arguments[1] : nil
                arguments.removeFirst(min(2, arguments.count))
            } else {
                value = String(first.dropFirst("--config=".count))
                arguments.removeFirst()
            }
            guard let value, !value.isEmpty else {
                exit(withError: ValidationError("--config needs a file: digest --config FILE COMMAND"))
            }
            setenv(Configuration.environmentVariable, value, 1)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
