import DigestCore
import Foundation
import Hummingbird

/// `/admin/health`: the configuration as loaded (secrets as set or not set, never their value), the DKIM
/// keys with the DNS record each needs, the database (kind, size, migrations), the last run's report
/// lines, and the audit log of admin actions (sign-ins and every button pressed), newest first.
struct HealthPageController: Sendable {
    let admin: AdminPages
    let database: StoreExecutor
    let configuration: Configuration
    let environment: [String: String]

    /// The newest audit rows shown.
    static let auditRows = 100

    func addRoutes(to routes: PageRoutes) {
        routes.get("health") { _, context in try await page(context) }
    }

    func page(_ context: WebRequestContext) async throws -> Response {
        let (size, migrations, runs, audit, auditTotal) = try await database.run { store in
            (
                try store.databaseSize(), try store.appliedMigrations(), try store.runs(limit: 1),
                try store.auditLog(limit: Self.auditRows), try store.auditCount()
            )
        }
        var keys: [[String: Any]] = []
        var dkimError: String?
        do {
            if let signer = try DKIMSigner(configuration: configuration.mail.dkim) {
                keys = zip(signer.keys, signer.zoneFileRecords()).map { key, record in
                    ["name": "\(key.selector)._domainkey.\(key.domain)", "algorithm": key.algorithm.tag, "file": key.file, "record": record]
                }
            }
        } catch {
            dkimError = "\(error)"
        }
        let known = Set(Store.migrationNames)
        let run = runs.first
        let view: [String: Any] = [
            "title": "Health",
            "configuration": configuration.report(environment: environment).map { ["key": $0.key, "value": $0.value] },
            "keys": keys, "hasKeys": !keys.isEmpty, "dkimError": dkimError ?? "", "hasDKIMError": dkimError != nil,
            "databaseKind": PostgresSettings.isURL(configuration.database) ? "PostgreSQL" : "SQLite",
            "databaseSize": ByteCountFormatter.string(fromByteCount: size, countStyle: .file),
            "migrations": migrations, "migrationCount": migrations.count,
            "pendingMigrations": Store.migrationNames.filter { !migrations.contains($0) },
            "unknownMigrations": migrations.filter { !known.contains($0) },
            "audit": audit.map(AdminPages.auditRow), "hasAudit": !audit.isEmpty, "auditTotal": auditTotal,
            "auditShown": audit.count,
            "hasRun": run != nil,
            "run": run.map { run -> [String: Any] in
                [
                    "id": run.id, "command": run.command, "started": AdminPages.time(run.startedAt),
                    "status": run.exitStatus.map { "exit \($0)" } ?? "unfinished (killed?)",
                    "lines": run.summary?.lines ?? [],
                ]
            } ?? [:],
        ]
        return admin.page("admin-health", view, section: .health, context: context)
    }
}
