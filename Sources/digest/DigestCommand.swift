import ArgumentParser
import DigestCore
import Foundation

@main
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "DailyDigest: top stories and blog posts, ranked by reader votes, emailed each day.",
        discussion: """
            Every command reads its configuration from --config, else $DIGEST_CONFIG, else ./config.json.

            Start with `digest init`, feed it items with `digest import`, add readers with \
            `digest subscribers add`, look at tonight's mail with `digest preview`, and let cron run \
            `digest send` every hour.
            """,
        subcommands: [
            Init.self, Import.self, Items.self, Subscribers.self, Preview.self, Send.self, Runs.self, Serve.self,
            Bounces.self, Dkim.self,
        ]
    )
}
