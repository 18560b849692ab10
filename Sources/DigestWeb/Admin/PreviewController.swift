import DigestCore
import Foundation
import Hummingbird
import Logging

/// `GET /admin/preview?date=YYYY-MM-DD&subscriber=EMAIL&show=html|text|raw`: tonight's digest (or `date`'s)
/// as one reader would get it, built as `digest send` builds it, nothing written. The HTML sits in a
/// sandboxed frame (`srcdoc`: no scripts, no same-origin access); the text part and the raw message
/// (every header, as the relay gets it) are one link away. `POST /admin/preview/send` queues the same
/// digest as a test to an address (through the outbox, so a relay that is down delays it, nothing lost).
struct PreviewController: Sendable {
    let preview: DigestPreview
    /// Where `preview` reads the store: off the request's thread, with the request's deadline.
    let database: StoreExecutor
    let admin: AdminPages
    let outbox: OutboxWorker
    let logger: Logger

    enum Show: String, CaseIterable {
        case html, text, raw

        var label: String {
            switch self {
            case .html: "HTML"
            case .text: "Plain text"
            case .raw: "Raw message"
            }
        }
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("preview") { request, context in try await previewPage(request, context) }
        routes.post("preview/send") { request, context in try await sendTest(request, context) }
    }

    /// The date and reader a preview form names; a page explaining the problem when one is malformed.
    private func choice(_ field: (String) -> String?, context: WebRequestContext) -> Result<(Day?, EmailAddress?), Refusal> {
        var date: Day?
        if let text = field("date"), !text.isEmpty {
            guard let day = Day(text) else {
                return .failure(Refusal(title: "Bad date", text: "Give the date as YYYY-MM-DD, such as 2026-11-24."))
            }
            date = day
        }
        var email: EmailAddress?
        if let text = field("subscriber"), !text.isEmpty {
            do {
                email = try EmailAddress(text)
            } catch {
                return .failure(Refusal(title: "Bad address", text: "\(error)"))
            }
        }
        return .success((date, email))
    }

    struct Refusal: Error {
        var title: String
        var text: String
    }

    func previewPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let now = admin.settings.now()
        let query = request.uri.queryParameters
        let date: Day?
        let email: EmailAddress?
        switch choice({ query.get($0) }, context: context) {
        case .success(let chosen): (date, email) = chosen
        case .failure(let refusal):
            return admin.message(refusal.title, refusal.text, section: .preview, context: context, status: .badRequest)
        }
        let show = query.get("show").flatMap(Show.init(rawValue:)) ?? .html
        let edition: Edition
        let digest: ComposedDigest
        do {
            (edition, digest) = try await database.run { [preview, date, email] _ in
                try preview.digest(date: date, subscriber: email, now: now)
            }
        } catch let error as SubscriberError {
            return admin.message("No such subscriber", error.message, section: .preview, context: context, status: .notFound)
        }
        let size = digest.message.data.count
        let chosen = "date=\(edition.date)" + (email.map { "&subscriber=" + Self.queryEscaped($0.description) } ?? "")
        let view: [String: Any] = [
            "title": "Preview \(edition.date)",
            "date": "\(edition.date)", "subscriber": email?.description ?? "",
            "reader": email?.description ?? "a sample reader",
            "subject": digest.subject, "text": digest.text, "html": digest.html ?? "", "hasHTML": digest.html != nil,
            "raw": String(decoding: digest.message.data, as: UTF8.self),
            "showHTML": show == .html, "showText": show == .text, "showRaw": show == .raw,
            "views": Show.allCases.map { view -> [String: Any] in
                ["href": "preview?\(chosen)&show=\(view.rawValue)", "label": view.label, "current": view == show]
            },
            "bytes": size, "kilobytes": String(format: "%.1f", Double(size) / 1024),
            "itemCount": digest.itemIDs.count, "isEmpty": digest.isEmpty,
            "warnings": digest.warnings, "hasWarnings": !digest.warnings.isEmpty,
        ]
        var response = admin.page("preview", view, section: .preview, context: context)
        // The digest's images may show in the frame; everything else stays as strict as every page.
        response.headers[.contentSecurityPolicy] =
            SecurityHeadersMiddleware<WebRequestContext>.contentSecurityPolicy + "; img-src https: data:"
        return response
    }

    func sendTest(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let now = admin.settings.now()
        let form = try await FormData.read(request, limit: admin.settings.maxFormBytes)
        let date: Day?
        switch choice({ form[$0] }, context: context) {
        case .success(let chosen): date = chosen.0
        case .failure(let refusal):
            return admin.message(refusal.title, refusal.text, section: .preview, depth: 1, context: context, status: .badRequest)
        }
        let address: EmailAddress
        do {
            address = try EmailAddress(form["to"] ?? "")
        } catch {
            return admin.message("Bad address", "Send the test to: \(error)", section: .preview, depth: 1, context: context, status: .badRequest)
        }
        let audit = admin.audit(context, action: "preview.test", detail: "\(date.map { "\($0)" } ?? "upcoming") to \(address)", now: now)
        let digest = try await database.run { [preview] store in
            let (_, digest) = try preview.testDigest(date: date, to: address, now: now)
            try store.queueOutboxMail(digest.message, purpose: "test", subscriberID: nil, now: now, audit: audit)
            return digest
        }
        outbox.wake()
        logger.info("admin: test digest queued", metadata: ["message.id": "\(digest.message.messageID)"])
        return admin.message(
            "Test queued", "The digest “\(digest.subject)” is on its way to \(address) through the outbox.",
            section: .preview, depth: 1, context: context, link: ("../preview", "Back to the preview"))
    }

    /// `text` for a query string's value.
    static func queryEscaped(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
