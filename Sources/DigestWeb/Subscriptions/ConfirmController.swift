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
        let language = reader.language(for: request, stored: subscriber.language)
        let email = subscriber.email.description
        if subscriber.status == .active {
            return reader.pages.message(
                language.text("confirmPage.already"), language.text("confirmPage.alreadyText", ["email": email]),
                language: language)
        }
        guard subscriber.status == .pending else { throw PageError.noLongerApplies }
        return reader.pages.page(
            "confirm",
            [
                "title": language.text("confirmPage.heading"), "email": email, "token": token ?? "",
                "question": language.text("confirmPage.question", ["email": email]),
            ], language: language)
    }

    @Sendable func confirm(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = body[FormField.token] ?? request.uri.queryParameters.get(FormField.token)
        let id = try await reader.subscriber(for: token, .confirm).id!
        switch try await reader.database.run({ try $0.confirmSubscriber(id: id, now: now) }) {
        case .changed(let subscriber), .unchanged(let subscriber):
            reader.logger.info("subscription confirmed", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
            let language = reader.pages.languages.language(subscriber.language)
            return reader.pages.message(
                language.text("confirmPage.done"),
                language.text("confirmPage.doneText", ["email": subscriber.email.description]), language: language)
        case .notApplicable: throw PageError.noLongerApplies
        case .notFound: throw PageError.notOnTheList
        }
    }
}
