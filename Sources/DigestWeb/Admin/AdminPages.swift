import DigestCore
import Foundation
import Hummingbird

/// What every admin page shares: the navigation, the CSRF token its forms carry, the relative links
/// back to the console's root, and the audit row of its actions. Admin pages are served at
/// `/admin/NAME` and `/admin/NAME/ID` on both listeners, so every link is relative (`root`): the
/// console works the same behind a proxy that maps it under another path.
struct AdminPages: Sendable {
    enum Section: String, CaseIterable, Sendable {
        case dashboard, editions, readers, items, preview, health

        var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
        /// The section's URL relative to the console's root.
        var path: String { self == .dashboard ? "./" : rawValue }
    }

    let pages: WebPages
    let settings: WebSettings

    /// `template` (under `web/`) in the admin layout. `depth` is 1 for `/admin/NAME/ID` pages, so links
    /// climb back to the root.
    func page(
        _ template: String, _ view: [String: Any], section: Section, depth: Int = 0, context: WebRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var view = view
        view["admin"] = layout(section: section, depth: depth, context: context)
        return pages.page(template, view, status: status)
    }

    /// A page that says what an action did (or why it did not), with a link onwards.
    func message(
        _ title: String, _ text: String, section: Section, depth: Int = 0, context: WebRequestContext,
        status: HTTPResponse.Status = .ok, link: (href: String, label: String)? = nil
    ) -> Response {
        var view: [String: Any] = ["title": title, "text": text]
        if let link { view["link"] = ["href": link.href, "label": link.label] }
        return page("admin-message", view, section: section, depth: depth, context: context, status: status)
    }

    func layout(section: Section, depth: Int, context: WebRequestContext) -> [String: Any] {
        let root = String(repeating: "../", count: depth)
        let identity = AdminPages.identity(context)
        return [
            "root": root, "csrf": identity.csrf, "signedIn": identity.signedIn,
            "nav": Section.allCases.map { item -> [String: Any] in
                let href = item == .dashboard ? (root.isEmpty ? "./" : root) : root + item.path
                return ["href": href, "label": item.label, "current": item == section]
            },
        ]
    }

    /// An instant as the console shows it: "2026-11-23 04:00 UTC".
    static func time(_ date: Date) -> String {
        let text = DateParsing.iso8601String(date)
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }

    /// The CSRF token the forms of this request's pages carry, and whether a signed-in session (rather
    /// than the admin listener or a bearer token) made it, which decides the "Sign out" button.
    static func identity(_ context: WebRequestContext) -> (csrf: String, signedIn: Bool) {
        guard let admin = context.admin else { return ("", false) }
        if case .session = admin.credential { return (admin.csrfToken, true) }
        return (admin.csrfToken, false)
    }

    /// The audit row of this request's admin doing `action` (about `subscriber`), for the store to write with
    /// the action. Every admin route runs behind `AdminAccessMiddleware`, which sets `context.admin`.
    func audit(
        _ context: WebRequestContext, action: String, subscriber: Subscriber? = nil, detail: String = "", now: Date
    ) -> AuditEntry {
        guard let admin = context.admin else {
            return AuditEntry(at: now, action: action, detail: detail, actor: "unknown", clientAddress: context.clientAddress)
        }
        return admin.audit(action, subscriber: subscriber, detail: detail, at: now)
    }

    /// One audit row as the Health and reader pages list it.
    static func auditRow(_ entry: AuditEntry) -> [String: Any] {
        [
            "at": time(entry.at), "action": entry.action, "detail": entry.detail, "actor": entry.actor,
            "address": entry.clientAddress,
            // An erased reader's row keeps their number only.
            "reader": [entry.subscriberEmail, entry.subscriberID.map { "#\($0)" }].compactMap { $0 }.joined(separator: " "),
        ]
    }
}
