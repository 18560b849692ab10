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
            Bounces.self, Inbound.self, Dkim.self, Db.self, Stats.self, Languages.self,
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
        if let first = arguments.first, !first.hasPrefix("-") {
            if first == "help" {
                // `digest help send --config prod.json`: the help needs no configuration.
                arguments = Self.droppingConfig(arguments)
            } else if let refusal = Self.unknownCommand(first) {
                exit(withError: refusal)
            }
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

    /// Why `name` is not a command, with the nearest one when a letter or two is off; nil for a command. Without
    /// it, `digest sned --config x` was answered "Unknown option '--config'", about the wrong word.
    static func unknownCommand(_ name: String) -> ValidationError? {
        let names = configuration.subcommands.map { $0._commandName }
        guard !names.contains(name) else { return nil }
        let nearest = names.map { (name: $0, distance: editDistance($0, name)) }.min { $0.distance < $1.distance }
        let guess = nearest.flatMap { $0.distance <= 2 ? " (did you mean \"\($0.name)\"?)" : nil } ?? ""
        return ValidationError(
            "unknown command \"\(name)\"\(guess); the commands are \(names.joined(separator: ", ")), and "
                + "`digest help COMMAND` explains each")
    }

    /// `arguments` without `--config FILE` and `--config=FILE`.
    static func droppingConfig(_ arguments: [String]) -> [String] {
        var kept: [String] = []
        var skipNext = false
        for argument in arguments {
            if skipNext { skipNext = false; continue }
            if argument == "--config" { skipNext = true; continue }
            if argument.hasPrefix("--config=") { continue }
            kept.append(argument)
        }
        return kept
    }

    /// Levenshtein distance: insertions, deletions and substitutions of one character each.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
