import DigestCore
import Foundation
import Hummingbird
import Synchronization

/// Past editions on the web (`web.archive`):
///
/// ```
/// GET /archive?page=N          the editions closed so far, newest first, with their first titles (public only)
/// GET /archive/DATE[?key=…]    the edition as a page: the generic copy (every section, nothing personal),
///                              with share metadata; in `readers` mode only with the key of its link
/// GET /archive/DATE/KIND       the weekly or monthly edition of that day, the same way
/// GET /archive/feed.xml        an Atom feed of the newest editions (public only)
/// ```
///
/// An edition never changes once frozen, so each page is rendered once and kept (`EditionPageCache`).
struct ArchiveController: Sendable {
    let database: StoreExecutor
    let pages: WebPages
    let configuration: Configuration
    let ranker: Ranker
    let signer: LinkSigner
    let settings: WebSettings
    let cache = EditionPageCache(capacity: 64)
    static let pageSize = 20
    static let feedEntries = 20

    var mode: Configuration.Archive { configuration.web.archive }

    func addRoutes(to routes: PageRoutes) {
        guard mode != .off else { return }
        routes.get("archive") { request, _ in try await list(request) }
        routes.get("archive/feed.xml") { _, _ in try await feed() }
        routes.get("archive/:date") { request, context in try await edition(request, context) }
        routes.get("archive/:date/:kind") { request, context in try await edition(request, context) }
    }

    static let notFound = PageError(
        status: .notFound, title: "No such edition", text: "There is no edition of that date in the archive.",
        link: ("../archive", "All editions"), key: "noSuchEdition")

    /// The list and the feed exist only for a public archive; otherwise they are as absent as any unknown page.
    func requirePublic() throws {
        guard mode == .public else { throw PageError(status: .notFound, title: "Not found", text: "There is no page here.", key: "notHere") }
    }

    func list(_ request: Request) async throws -> Response {
        try requirePublic()
        let page = max(1, request.uri.queryParameters.get("page").flatMap(Int.init) ?? 1)
        let now = settings.now()
        let (editions, total) = try await database.run { store in
            try store.pastEditions(now: now, limit: Self.pageSize, offset: (page - 1) * Self.pageSize)
        }
        // The archive is in the site's language.
        let language = pages.languages.site
        var view: [String: Any] = [
            "title": language.text("archive.title"), "isEmpty": editions.isEmpty, "indexable": true,
            "editions": editions.map { edition -> [String: Any] in
                [
                    "path": edition.kind.archivePath(edition.date),
                    "longDate": [
                        edition.kind.headingKey.map { language.text($0) }, Self.longDate(edition.date, locale: language.locale),
                    ].compactMap { $0 }
                        .joined(separator: ", "),
                    "titles": edition.topTitles,
                ]
            },
            "feedURL": configuration.web.baseURL + "/archive/feed.xml",
        ]
        let pager = Pager.links(page: page, pageSize: Self.pageSize, total: total) { "archive?page=\($0)" }
        view["pager"] = pager
        if let pages = pager?["pages"] as? Int {
            view["pageOf"] = language.text("archive.pageOf", ["page": language.number(page), "pages": language.number(pages)])
        }
        return pages.page("archive", view)
    }

    func edition(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let text = context.parameters.get("date"), let date = Day(text) else { throw Self.notFound }
        // A catch-up is cut to each reader: it has no page.
        let kind = try context.parameters.get("kind").map { name in
            guard let kind = EditionKind(rawValue: name), kind != .daily, kind != .catchUp else { throw Self.notFound }
            return kind
        } ?? .daily
        if mode == .readers {
            let key = request.uri.queryParameters.get("key") ?? ""
            guard ConstantTime.equals(Array(key.utf8), Array(signer.archiveKey(for: date).utf8)) else { throw Self.notFound }
        }
        let path = kind.archivePath(date)
        if let page = cache[path] { return page.response }
        let now = settings.now()
        guard let edition = try await database.run({ store in try store.edition(date: date, kind: kind) }),
            edition.cutoff <= now
        else {
            throw Self.notFound
        }
        let web = EditionWebView(
            edition: edition, ranker: ranker, configuration: configuration, language: pages.languages.site)
        let url = configuration.web.baseURL + "/archive/" + path
        let title = "\(configuration.site.name): \(web.heading)"
        let view: [String: Any] = [
            "title": title, "longDate": web.heading, "indexable": mode == .public,
            "share": [
                "url": url, "title": title, "description": web.preheader, "siteName": configuration.site.name,
            ],
            "sections": web.sections.map { section -> [String: Any] in
                [
                    "kind": section.kind, "title": section.title,
                    "items": section.items.map { item -> [String: Any] in
                        [
                            "title": item.title, "url": item.url, "summary": item.summary ?? "", "hasSummary": item.summary != nil,
                            "author": item.author ?? "", "hasAuthor": item.author != nil, "votesLabel": item.votesLabel,
                        ]
                    },
                ]
            },
            "isEmpty": web.itemCount == 0, "isPublic": mode == .public,
            // Links relative to the page: /archive/DATE is one level down, /archive/DATE/KIND two.
            "root": kind == .daily ? "../" : "../../",
        ]
        let page = RenderedPage(response: pages.page("archive-edition", view), path: path)
        cache[path] = page
        return page.response
    }

    func feed() async throws -> Response {
        try requirePublic()
        let now = settings.now()
        let (past, _) = try await database.run { store in try store.pastEditions(now: now, limit: Self.feedEntries, offset: 0) }
        let editions = try await database.run { store in
            try past.compactMap { try store.edition(date: $0.date, kind: $0.kind) }
        }
        let feed = ArchiveFeed(
            siteName: configuration.site.name, baseURL: configuration.web.baseURL,
            entries: editions.map { edition in
                (edition, EditionWebView(edition: edition, ranker: ranker, configuration: configuration, language: pages.languages.site))
            })
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8", .cacheControl: "max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: feed.xml)))
    }

    static func longDate(_ day: Day, locale: Locale) -> String {
        let noon = day.instant(hour: 12, in: TimeZone(identifier: "UTC")!)
        var style = Date.FormatStyle(date: .long, time: .omitted, locale: locale)
        style.timeZone = TimeZone(identifier: "UTC")!
        return noon.formatted(style)
    }
}

/// A rendered edition page, kept: editions never change once frozen.
struct RenderedPage: Sendable {
    var response: Response
    /// Its path under /archive (`EditionKind.archivePath`).
    var path: String
}

/// The last `capacity` edition pages rendered, by path; the oldest goes first when it is full.
final class EditionPageCache: Sendable {
    private let state = Mutex<(pages: [String: RenderedPage], order: [String])>(([:], []))
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    subscript(path: String) -> RenderedPage? {
        get { state.withLock { $0.pages[path] } }
        set {
            state.withLock { state in
                guard let newValue else { return }
                if state.pages.updateValue(newValue, forKey: path) == nil { state.order.append(path) }
                while state.order.count > capacity { state.pages[state.order.removeFirst()] = nil }
            }
        }
    }
}
