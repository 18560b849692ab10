import DigestCore
import DigestPostgres
import DigestTestSupport
import Foundation
import Testing

/// An admin in headless Chromium (`Browser/admin.py`) against a real `digest serve` whose database has a
/// few nights of history made by digest's own commands (`scripts/demo-history`, as `make demo` makes it):
/// signs in on the public port with the token, opens every admin page with JavaScript off at 1280, 375
/// and 320 px (nothing wider than the screen; axe-core finds no serious or critical violation), and
/// unsubscribes a reader from their page with the form's CSRF token; the archive's public pages pass the
/// same checks. `DIGEST_SCREENSHOTS=FOLDER` keeps
/// the screenshots (the README's come from there).
@Suite(.serialized) struct AdminBrowserTests {
    static let script = ServeHarness.root + "/Tests/DigestWebTests/Browser/admin.py"
    static let token = "admin-browser-token-0123456789"

    /// A `digest` command against `config`, to its end; its failure fails the test.
    func digest(_ arguments: [String], config: String) async throws {
        let result = try await Programs.run(
            ServeHarness.binary, arguments + ["--config", config], environment: environment(), timeout: 120)
        #expect(result.status == 0, "digest \(arguments.joined(separator: " ")): \(result.standardError)")
    }

    func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = ServeHarness.secret
        environment["DIGEST_ADMIN_TOKEN"] = Self.token
        return environment
    }

    @Test(.requires(.chromium, .python3)) func anAdminSignsInAndEveryPageFitsAndPassesAxe() async throws {
        let harness = ServeHarness("admin-browser")
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil)
        try await digest(["import", ServeHarness.root + "/examples/items.json"], config: config)
        try await digest(["subscribers", "import", ServeHarness.root + "/examples/subscribers.csv", "--confirmed"], config: config)
        var history = environment()
        history["DIGEST_CONFIG"] = config
        let made = try await Programs.run(
            ServeHarness.root + "/scripts/demo-history",
            [ServeHarness.binary, ServeHarness.root, harness.directory.path, "2026-11-20", "4"],
            environment: history, timeout: 240)
        try #require(made.status == 0, "demo-history: \(made.standardError)")
        try await digest(["send", "--date", "2026-11-24"], config: config)

        var serveEnvironment = environment()
        serveEnvironment["DIGEST_CONFIG"] = config
        let server = try await harness.started(config, port: port, log: harness.directory.file("serve.log"), environment: serveEnvironment)
        defer { server.stop() }
        let store = try Store.open(harness.directory.file("digest.sqlite"))
        defer { store.close() }
        let reader = try #require(try store.subscriber(email: EmailAddress("reader011@example.net"))?.id)

        let shots = ProcessInfo.processInfo.environment["DIGEST_SCREENSHOTS"] ?? ""
        let pages = [
            "/admin/", "/admin/?days=90", "/admin/editions", "/admin/editions/2026-11-23", "/admin/readers",
            "/admin/readers?q=reader00&status=active", "/admin/readers/\(reader)", "/admin/items?date=2026-11-24",
            "/admin/preview?date=2026-11-24", "/admin/preview?date=2026-11-24&show=raw", "/admin/health",
        ]
        // Chromium's leftovers in TMPDIR go with this folder.
        let scratch = TemporaryDirectory("digest-chromium")
        let browsed = try await Programs.run(
            "python3", [Self.script, server.base, Self.token, shots] + pages, environment: scratch.environment,
            timeout: 600)
        #expect(browsed.status == 0 && browsed.standardOutput.hasSuffix("done\n"), "\(browsed.standardOutput)\n\(browsed.standardError)")

        // The archive's pages, which anyone may open, pass the same checks.
        let archive = try await Programs.run(
            "python3", [Self.script, "public", server.base, shots, "/archive", "/archive/2026-11-24"],
            environment: scratch.environment, timeout: 300)
        #expect(archive.status == 0 && archive.standardOutput.hasSuffix("done\n"), "\(archive.standardOutput)\n\(archive.standardError)")

        let acted = try await Programs.run(
            "python3", [Self.script, "act", server.base, Self.token, "/admin/readers/\(reader)"],
            environment: scratch.environment, timeout: 240)
        #expect(acted.status == 0 && acted.standardOutput.hasSuffix("done\n"), "\(acted.standardOutput)\n\(acted.standardError)")
        #expect(try store.subscriber(id: reader)?.status == .unsubscribed)
        let audit = try store.auditLog(limit: 10)
        #expect(audit.contains { $0.action == "reader.unsubscribe" && $0.subscriberID == reader })
    }
}
