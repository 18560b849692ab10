import DigestCore
import Foundation
import Hummingbird

/// `/admin/items?date=&q=`: the items of the upcoming edition's (or `date`'s) window by section, best first, with their votes
/// and whether they make tonight's digest; searchable by title or url (`?q=`). `POST /admin/items/remove`
/// deletes one (editions already frozen keep their copy), audited.
struct ItemsController: Sendable {
    let admin: AdminPages
    let database: StoreExecutor
    let configuration: Configuration
    let ranker: Ranker
    /// Rows shown per section.
    static let limit = 200

    func addRoutes(to routes: PageRoutes) {
        routes.get("items") { request, context in try await list(request, context) }
        routes.post("items/remove") { request, context in try await remove(request, context) }
    }

    func list(_ request: Request, _ context: WebRequestContext, notice: String? = nil) async throws -> Response {
        let now = admin.settings.now()
        let query = request.uri.queryParameters.get("q").map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        var date = ranker.upcomingDate(now: now)
        if let text = request.uri.queryParameters.get("date"), !text.isEmpty {
            guard let day = Day(text) else {
                return admin.message(
                    "Bad date", "Give the date as YYYY-MM-DD, such as 2026-11-24.", section: .items, context: context,
                    status: .badRequest)
            }
            date = day
        }
        let window = ranker.window(for: date)
        let sections = configuration.digest.sections
        let minVotes = configuration.digest.minVotes
        let weight = configuration.digest.digestVoteWeight
        let found = try await database.run { store in
            try sections.map { section in
                try store.bestItems(
                    kind: section.kind, in: window, digestVoteWeight: weight, matching: query, limit: Self.limit)
            }
        }
        // Rank within the whole window, so a search still says which items make the digest.
        let ranked = query.isEmpty ? found : try await database.run { store in
            try sections.map {
                try store.bestItems(
                    kind: $0.kind, in: window, minVotes: minVotes, digestVoteWeight: weight, limit: $0.count)
            }
        }
        let view: [String: Any] = [
            "title": "Items", "date": "\(date)", "q": query, "hasQuery": !query.isEmpty, "notice": notice ?? "", "hasNotice": notice != nil,
            "windowStart": AdminPages.time(window.lowerBound), "cutoff": AdminPages.time(window.upperBound),
            "sections": zip(sections, zip(found, ranked)).map { section, lists -> [String: Any] in
                let (items, best) = lists
                let chosen = Set(
                    best.prefix(section.count).filter { ranker.score($0) >= Double(minVotes) }.compactMap(\.id))
                return [
                    "title": section.title, "kind": section.kind.rawValue, "count": section.count, "isEmpty": items.isEmpty,
                    "items": items.map { item -> [String: Any] in
                        [
                            "title": item.title, "url": item.url, "votes": item.votes, "digestVotes": item.digestVotes,
                            "published": AdminPages.time(item.publishedAt),
                            "chosen": item.id.map(chosen.contains) ?? false,
                        ]
                    },
                ]
            },
        ]
        return admin.page("admin-items", view, section: .items, context: context)
    }

    func remove(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: admin.settings.maxFormBytes)
        guard let url = form["url"] else {
            return admin.message("Nothing removed", "The form named no item.", section: .items, depth: 1, context: context, status: .badRequest)
        }
        let audit = admin.audit(context, action: "item.remove", detail: url, now: admin.settings.now())
        let removed = try await database.run { store in try store.removeItem(url: url, audit: audit) }
        let notice = removed ? "Removed \(url). Editions already frozen keep their copy." : "No item has the url \(url)."
        return admin.message(
            removed ? "Item removed" : "No such item", notice, section: .items, depth: 1, context: context,
            status: removed ? .ok : .notFound, link: ("../items", "Back to the items"))
    }
}
