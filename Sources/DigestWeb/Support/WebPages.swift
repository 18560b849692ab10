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
        "web/admin-readers", "web/admin-reader", "web/admin-pager", "web/admin-audit", "web/footer", "confirm.txt",
        "confirm.html", "confirm-subject.txt",
    ]

    let library: MustacheLibrary
    let site: [String: any Sendable]

    init(configuration: Configuration) async throws(TemplateError) {
        let folder = configuration.templates
        library = try await MustacheLibrary.load(folder: folder, required: Self.required)
        site = [
            "name": configuration.site.name, "url": configuration.site.url,
            "language": configuration.site.language, "direction": configuration.site.direction,
        ]
    }

    /// Renders `name` with `view` (plus `site`) as text.
    func render(_ name: String, _ view: [String: Any]) -> String {
        var view = view
        view["site"] = site
        return library.render(view, withTemplate: name) ?? ""
    }

    /// An HTML page response.
    func page(_ name: String, _ view: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: render("web/" + name, view))))
    }

    /// A page that only says something: a heading, a paragraph, and optionally a link onwards.
    func message(
        _ title: String, _ text: String, status: HTTPResponse.Status = .ok, link: (href: String, label: String)? = nil
    ) -> Response {
        var view: [String: Any] = ["title": title, "text": text]
        if let link { view["link"] = ["href": link.href, "label": link.label] }
        return page("message", view, status: status)
    }
}
