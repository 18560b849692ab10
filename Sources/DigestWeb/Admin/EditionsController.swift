import DigestCore
import Foundation
import Hummingbird

/// `/admin/editions` (newest first, paged) and `/admin/editions/DATE` (`/DATE/weekly` for another kind): per edition its recipients, what
/// was sent, deferred, failed (by reason) and skipped (by reason), the bounces and complaints reported
/// since, the rates; its items with their votes then and now and the votes from its vote links; the runs
/// that sent it. From the summary rows (`edition_stats`), refreshed at each run's end and as reports arrive.
struct EditionsController: Sendable {
    let admin: AdminPages
    let database: StoreExecutor
    static let pageSize = 30

    func addRoutes(to routes: PageRoutes) {
        routes.get("editions") { request, context in try await list(request, context) }
        routes.get("editions/:date") { request, context in try await edition(request, context) }
        routes.get("editions/:date/:kind") { request, context in try await edition(request, context) }
    }

    func list(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let page = max(1, request.uri.queryParameters.get("page").flatMap(Int.init) ?? 1)
        let offset = (page - 1) * Self.pageSize
        let (editions, total) = try await database.run { store in
            (try store.editionStats(limit: Self.pageSize, offset: offset), try store.editionStatsCount())
        }
        let view: [String: Any] = [
            "title": "Editions", "isEmpty": editions.isEmpty, "total": total,
            "editions": editions.map { Self.row($0) },
            "pager": Pager.links(page: page, pageSize: Self.pageSize, total: total, link: { "editions?page=\($0)" }),
        ]
        return admin.page("admin-editions", view, section: .editions, context: context)
    }

    static func row(_ stats: EditionStats) -> [String: Any] {
        let kind = EditionKind(rawValue: stats.kind) ?? .daily
        return [
            "date": stats.date, "label": kind == .daily ? stats.date : "\(stats.date) \(kind.rawValue)",
            "path": Day(stats.date).map(kind.archivePath) ?? stats.date, "recipients": count(stats.recipients), "sent": count(stats.sent),
            "deferred": count(stats.deferred), "failed": count(stats.failed), "skipped": count(stats.skipped),
            "queued": count(stats.queued), "hardBounces": count(stats.hardBounces), "softBounces": count(stats.softBounces),
            "otherBounces": count(stats.otherBounces), "complaints": count(stats.complaints), "clicks": count(stats.clicks),
            "complaintRate": ChartNumber.percent(stats.complaintRate),
            "complaintWarn": stats.complaintRate >= DashboardController.complaintLine,
            "hardBounceRate": ChartNumber.percent(stats.hardBounceRate),
            "hardBounceWarn": stats.hardBounceRate >= DashboardController.hardBounceLine,
        ]
    }

    static func count(_ value: Int) -> String { ChartNumber.count(Double(value)) }

    func edition(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let text = context.parameters.get("date"), let date = Day(text) else {
            throw PageError(status: .notFound, title: "No such edition", text: "Editions are named by their date, YYYY-MM-DD.")
        }
        let kind = try context.parameters.get("kind").map { name in
            guard let kind = EditionKind(rawValue: name) else {
                throw PageError(status: .notFound, title: "No such edition", text: "No edition is of kind \(name).")
            }
            return kind
        } ?? .daily
        guard let report = try await database.run({ store in try store.editionReport(date: date, kind: kind) }) else {
            throw PageError(
                status: .notFound, title: "No such edition",
                text: "No edition of \(date) has been sent (an edition is kept once its first run queues it).")
        }
        func reasons(_ reasons: [String: Int]) -> [[String: Any]] {
            reasons.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { ["reason": $0.key, "count": Self.count($0.value)] }
        }
        let view: [String: Any] = [
            "title": "Edition \(report.stats.kind == "daily" ? "\(date)" : "\(date) \(report.stats.kind)")",
            "date": "\(date)", "stats": Self.row(report.stats),
            "updated": AdminPages.time(report.stats.updatedAt),
            "groups": [
                ["title": "Failed, by reason", "id": "failed", "reasons": reasons(report.stats.failedReasons)],
                ["title": "Deferred, by reason", "id": "deferred", "reasons": reasons(report.stats.deferredReasons)],
                ["title": "Skipped, by reason", "id": "skipped", "reasons": reasons(report.stats.skippedReasons)],
            ].filter { !(($0["reasons"] as? [[String: Any]]) ?? []).isEmpty },
            "items": report.items.map { item -> [String: Any] in
                [
                    "position": item.position + 1, "kind": item.kind.rawValue, "title": item.title, "url": item.url,
                    "votes": item.votes, "currentVotes": item.currentVotes.map { "\($0)" } ?? "removed",
                    "digestVotes": item.digestVotes, "clicks": Self.count(item.clicks),
                ]
            },
            "runs": report.runs.map { run -> [String: Any] in
                [
                    "id": run.id, "command": run.command, "started": AdminPages.time(run.startedAt),
                    "status": run.exitStatus.map { "exit \($0)" } ?? "unfinished", "lines": run.summary?.lines ?? [],
                ]
            },
            "previewHref": (kind == .daily ? "../" : "../../") + "preview?date=\(date)",
        ]
        return admin.page("admin-edition", view, section: .editions, depth: kind == .daily ? 1 : 2, context: context)
    }
}
