import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A program a test checks our output with, installed by `scripts/setup --test`. A test that needs one
/// says so with the trait `.requires(…)`: when one is missing, the test is skipped with the reason on a
/// developer's machine, and FAILS when the environment has `CI=true`, so a missing install step cannot
/// pass CI silently.
///
///     @Test(.requires(.spamassassin)) func scoresNearZero() async throws { … }
public struct ExternalTool: Sendable, CustomStringConvertible {
    public let description: String
    private let installed: @Sendable () async -> Bool

    public init(_ description: String, isInstalled: @escaping @Sendable () async -> Bool) {
        self.description = description
        self.installed = isInstalled
    }

    /// A program found on `PATH` or in the system folders.
    public static func program(_ name: String) -> ExternalTool {
        ExternalTool(name) { Programs.find(name) != nil }
    }

    /// Whether it is there to use.
    public func isInstalled() async -> Bool { await installed() }

    public static let python3 = program("python3")
    public static let openssl = program("openssl")
    public static let spamassassin = program("spamassassin")
    public static let chromium = program("chromium")
    /// Python's DKIM verifier (`import dkim`).
    public static let dkimpy = ExternalTool("dkimpy (python3 -c 'import dkim')") {
        (try? await Programs.run("python3", ["-c", "import dkim"]).status) == 0
    }
    /// Prometheus's Python client, whose parser reads `/metrics` as a scraper would.
    public static let prometheusClient = ExternalTool("prometheus_client (python3 -c 'import prometheus_client')") {
        (try? await Programs.run("python3", ["-c", "import prometheus_client"]).status) == 0
    }
    /// Python's feedparser, the feed readers' reference parser (`import feedparser`).
    public static let feedparser = ExternalTool("feedparser (python3 -c 'import feedparser')") {
        (try? await Programs.run("python3", ["-c", "import feedparser"]).status) == 0
    }
    /// Prometheus's `promtool check metrics` (Debian's `prometheus` package).
    public static let promtool = program("promtool")
    /// Postfix with its programs and configuration, and root to run a private instance.
    public static let postfix = ExternalTool("Postfix, run as root") {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sendmail")
            && FileManager.default.fileExists(atPath: "/etc/postfix/master.cf")
    }

    /// Whether the tests run in CI (`CI=true`, as GitHub Actions and most CI services set it, or `CI=1`),
    /// where nothing a test needs may be missing.
    public static var isCI: Bool {
        ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")
    }

    /// Whether a test that needs `tools` may run: true when every one is installed; false (skip it) when
    /// one is missing, except in CI, where that is an error (the test fails, naming what is missing).
    public static func available(_ tools: [ExternalTool], inCI: Bool = isCI) async throws -> Bool {
        var missing: [String] = []
        for tool in tools where !(await tool.isInstalled()) { missing.append(tool.description) }
        guard !missing.isEmpty else { return true }
        if inCI { throw MissingToolError(missing: missing) }
        return false
    }
}

/// Tools a test needs that are not installed, in CI (`CI=true`).
public struct MissingToolError: Error, CustomStringConvertible {
    public var missing: [String]
    public var description: String {
        "\(missing.joined(separator: ", ")) not installed, and CI=true forbids skipping: run scripts/setup --test"
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when every one of `tools` is installed; skips it otherwise, except under
    /// `CI=true`, where a missing tool fails it (see `ExternalTool`).
    public static func requires(_ tools: ExternalTool..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        .enabled(
            Comment(rawValue: "needs \(tools.map(\.description).joined(separator: ", ")) (scripts/setup --test)"),
            sourceLocation: sourceLocation
        ) { try await ExternalTool.available(tools) }
    }
}
