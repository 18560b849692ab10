import DigestCore
import Foundation
import Hummingbird
import Logging

/// What the preferences page offers about the reader's data, with the same signed link:
///
/// ```
/// GET  /preferences/data?token=…     a JSON file of everything stored about them (downloading changes nothing)
/// GET  /preferences/delete?token=…   "delete everything about me?" with one button (a mail scanner that
///                                    follows the link deletes nothing)
/// POST /preferences/delete?token=…   erases the reader as `subscribers remove` does
/// ```
struct MyDataController: Sendable {
    let reader: ReaderPages

    func addRoutes(to routes: PageRoutes) {
        routes.get("preferences/data") { request, _ in try await download(request) }
        routes.get("preferences/delete") { request, _ in try await confirmPage(request) }
        routes.post("preferences/delete", reader.posted(delete))
    }

    func download(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token)
        let subscriber = try await reader.subscriber(for: token, .preferences)
        let now = reader.settings.now()
        guard let data = try await reader.database.run({ store in try store.readerData(id: subscriber.id!, now: now) }) else {
            throw PageError.notOnTheList
        }
        reader.logger.info("reader data downloaded", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"digest-data-\(Day(now, in: .gmt)).json\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try data.json())))
    }

    func confirmPage(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? ""
        let subscriber = try await reader.subscriber(for: token, .preferences)
        let language = reader.language(for: request, stored: subscriber.language)
        let copy = Language.split(language.text("deleteMe.copy"), at: "link")
        return reader.pages.page(
            "delete-me",
            [
                "title": language.text("deleteMe.title"), "email": subscriber.email.description, "token": token,
                "text": language.text("deleteMe.text", ["email": subscriber.email.description]),
                "copy": ["before": copy.before, "after": copy.after],
                "action": "delete?token=\(token)", "dataURL": "data?token=\(token)",
                "back": "../preferences?token=\(token)",
            ], language: language)
    }

    @Sendable func delete(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? body[FormField.token]
        let subscriber = try await reader.subscriber(for: token, .preferences)
        try reader.limitAddress(subscriber.email, now: now)
        let email = subscriber.email
        guard try await reader.database.run({ store in try store.removeSubscriber(email: email, now: now) }) else {
            throw PageError.notOnTheList
        }
        reader.logger.info("reader erased at their request", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        let language = reader.pages.languages.language(subscriber.language)
        return reader.pages.message(
            language.text("deleteMe.done"), language.text("deleteMe.doneText", ["email": email.description]),
            link: (href: reader.subscribeLink("../", in: language), label: language.text("unsubscribe.again")),
            language: language)
    }
}
