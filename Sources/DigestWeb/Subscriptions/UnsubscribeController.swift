import DigestCore
import Foundation
import Hummingbird
import Logging

/// Leaving:
///
/// ```
/// GET  /unsubscribe?token=…   a page with a button (HEAD too: link checkers and providers probe it)
/// POST /unsubscribe?token=…   unsubscribes at once (RFC 8058 body `List-Unsubscribe=One-Click`, or the button)
/// ```
struct UnsubscribeController: Sendable {
    let reader: ReaderPages

    func addRoutes(to routes: PageRoutes) {
        routes.get("unsubscribe") { request, _ in try await page(request) }
        // No per-client limit here: one-click POSTs come from a few mail-provider servers for many
        // readers, and the signed token already limits what a request can do.
        routes.post("unsubscribe", reader.posted(limitedPerClient: false, unsubscribe))
    }

    func page(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token)
        let subscriber = try await reader.subscriber(for: token, .unsubscribe, acceptExpired: true)
        if subscriber.status == .unsubscribed {
            return reader.pages.message(
                "Already unsubscribed", "\(subscriber.email) receives no more digests.",
                link: (href: "subscribe", label: "Subscribe again"))
        }
        return reader.pages.page(
            "unsubscribe",
            [
                "title": "Unsubscribe", "email": subscriber.email.description, "token": token ?? "",
                "action": "unsubscribe?token=\(token ?? "")",
            ])
    }

    /// RFC 8058 §3.2: the mail provider POSTs `List-Unsubscribe=One-Click` to the URL of the
    /// List-Unsubscribe header; the button on the page POSTs the same. Either unsubscribes at once.
    @Sendable func unsubscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? body[FormField.token]
        let id = try await reader.subscriber(for: token, .unsubscribe, acceptExpired: true).id!
        switch try await reader.database.run({ try $0.unsubscribeSubscriber(id: id, now: now) }) {
        case .changed(let subscriber), .unchanged(let subscriber), .notApplicable(let subscriber):
            reader.logger.info(
                "unsubscribed",
                metadata: [
                    "subscriber.id": "\(subscriber.id ?? 0)", "oneClick": "\(body["List-Unsubscribe"] == "One-Click")",
                ])
            return reader.pages.message(
                "You are unsubscribed", "\(subscriber.email) will receive no more digests.",
                link: (href: "subscribe", label: "Changed your mind? Subscribe again"))
        case .notFound: throw PageError.notOnTheList
        }
    }
}
