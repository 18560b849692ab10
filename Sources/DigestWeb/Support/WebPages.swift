import DigestCore
import Foundation
import Hummingbird
import Mustache

/// The Mustache templates of the web pages (`templates/web/`) and the confirmation mail
/// (`templates/confirm*.mustache`), loaded once at startup. Every `{{value}}` is HTML-escaped
/// in pages; the mail's text templates declare `CONTENT_TYPE: TEXT`.
struct WebPages: Sendable {
    static let required = [
        "web/subscribe", "web/check-inbox", "web/confirm", "web/unsubscribe", "web/preferences", "web/delete-me",
        "web/choice-saved", "web/message", "web/vote", "web/archive", "web/archive-edition",
        "web/preview", "web/signin", "web/csrf", "web/header", "web/admin-style", "web/admin-nav", "web/admin-message",
        "web/admin-items", "web/admin-health", "web/admin-dashboard", "web/admin-editions", "web/admin-edition",
        "web/admin-readers", "web/admin-reader", "web/admin-pager", "web/admin-audit", "web/footer", "web/languages", "confirm.txt",
        "confirm.html", "confirm-subject.txt",
    ]

    let library: MustacheLibrary
    let site: [String: any Sendable]
    /// The site's languages and their catalogs (`templates/lang/`).
    let languages: Languages
    /// Each language's texts as templates read them (`{{t.form.email}}`), made once.
    private let texts: [String: [String: any Sendable]]

    init(configuration: Configuration) async throws(TemplateError) {
        let folder = configuration.templates
        library = try await MustacheLibrary.load(folder: folder, required: Self.required)
        let languages = try Languages.load(templates: folder, site: configuration.site)
        self.languages = languages
        site = [
            "name": configuration.site.name, "url": configuration.site.url,
            "language": configuration.site.language, "direction": configuration.site.direction,
        ]
        texts = Dictionary(
            uniqueKeysWithValues: languages.codes.map { ($0, languages.language($0).tree()) })
    }

    /// Renders `name` with `view` (plus `site`, and the texts of `language` under `t`; nil: the site's) as text.
    func render(_ name: String, _ view: [String: Any], language: Language? = nil) -> String {
        let language = language ?? languages.site
        var view = view
        view["site"] = site.merging(["language": language.code, "direction": language.direction]) { $1 }
        view["t"] = texts[language.code] ?? [:]
        return library.render(view, withTemplate: name) ?? ""
    }

    /// The language a page is shown in: `?lang=CODE` when the reader chose one with the switch, else the
    /// reader's own (`stored`), else what the browser asks for (`Accept-Language`), else the site's.
    func language(for request: Request, stored: String? = nil) -> Language {
        if let chosen = request.uri.queryParameters.get("lang"), languages.offers(chosen) {
            return languages.language(chosen)
        }
        if let stored, languages.offers(stored) { return languages.language(stored) }
        return languages.preferred(acceptLanguage: request.headers[.acceptLanguage])
    }

    /// An HTML page response, in `language` (nil: the site's).
    func page(
        _ name: String, _ view: [String: Any], status: HTTPResponse.Status = .ok, language: Language? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if let language { headers[.contentLanguage] = language.code }
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: render("web/" + name, view, language: language))))
    }

    /// A page that only says something: a heading, a paragraph, and optionally a link onwards.
    func message(
        _ title: String, _ text: String, status: HTTPResponse.Status = .ok, link: (href: String, label: String)? = nil,
        language: Language? = nil
    ) -> Response {
        var view: [String: Any] = ["title": title, "text": text]
        if let link { view["link"] = ["href": link.href, "label": link.label] }
        return page("message", view, status: status, language: language)
    }
}
