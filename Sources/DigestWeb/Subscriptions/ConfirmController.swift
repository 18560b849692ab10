import DigestCore
import Foundation
import Hummingbird
import Logging

/// The double opt-in link:
///
/// ```
/// GET  /confirm?token=…   a page with a button (changes nothing: link scanners follow GETs)
/// POST /confirm           token in the body → active
/// ```
struct ConfirmController: Sendable {
    let reader: ReaderPages

    func addRoutes(to routes: PageRoutes) {
        routes.get("confirm") { request, _ in try await page(request) }
        routes.post("confirm", reader.posted(confirm))
    }

    func page(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token)
        let subscriber = try await reader.subscriber(for: token, .confirm)
        if subscriber.status == .active {
            return reader.pages.message(
                "Already confirmed", "\(subscriber.email) is subscribed. There is nothing more to do.")
        }
        guard subscriber.status == .pending else { throw PageError.noLongerApplies }
        return reader.pages.page(
            "confirm",
            ["title": "Confirm your subscription", "email": subscriber.email.description, "token": token ?? ""])
    }

    @Sendable func confirm(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = body[FormField.token] ?? request.uri.queryParameters.get(FormField.token)
        let id = try await reader.subscriber(for: token, .confirm).id!
        switch try await reader.database.run({ try $0.confirmSubscriber(id: id, now: now) }) {
        case .changed(let subscriber), .unchanged(let subscriber):
            reader.logger.info("subscription confirmed", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
            return reader.pages.message(
                "You are subscribed",
                "Thank you. The daily digest of \(reader.configuration.site.name) will reach \(subscriber.email) "
                    + "from the next edition on.")
        case .notApplicable: throw PageError.noLongerApplies
        case .notFound: throw PageError.notOnTheList
        }
    }
}
