import DigestCore
import Foundation
import Hummingbird
import Logging

/// `GET /admin/preview?date=YYYY-MM-DD&subscriber=EMAIL`: tonight's digest (or `date`'s) as one
/// reader would get it, built as `digest send` builds it, nothing written. The HTML sits in a
/// sandboxed frame (`srcdoc`: no scripts, no same-origin access), the text beside it.
struct PreviewController: Sendable {
    let preview: DigestPreview
    /// Where `preview` reads the store: off the request's thread, with the request's deadline.
    let database: StoreExecutor
    let pages: WebPages
    let settings: WebSettings

    func addRoutes(to routes: PageRoutes) {
        routes.get("preview") { request, _ in try await previewPage(request) }
    }

    func previewPage(_ request: Request) async throws -> Response {
        let now = settings.now()
        let query = request.uri.queryParameters
        var date: Day?
        if let text = query.get("date"), !text.isEmpty {
            guard let day = Day(text) else {
                return pages.message("Bad date", "Give the date as YYYY-MM-DD, such as 2026-11-24.", status: .badRequest)
            }
            date = day
        }
        var email: EmailAddress?
        if let text = query.get("subscriber"), !text.isEmpty {
            do {
                email = try EmailAddress(text)
            } catch {
                return pages.message("Bad address", "\(error)", status: .badRequest)
            }
        }
        let edition: Edition
        let digest: ComposedDigest
        do {
            (edition, digest) = try await database.run { [preview, date, email] _ in
                try preview.digest(date: date, subscriber: email, now: now)
            }
        } catch let error as SubscriberError {
            return pages.message("No such subscriber", error.message, status: .notFound)
        }
        let size = digest.message.data.count
        let view: [String: Any] = [
            "title": "Preview \(edition.date)",
            "date": "\(edition.date)", "subscriber": email?.description ?? "",
            "reader": email?.description ?? "a sample reader",
            "subject": digest.subject, "text": digest.text, "html": digest.html ?? "", "hasHTML": digest.html != nil,
            "bytes": size, "kilobytes": String(format: "%.1f", Double(size) / 1024),
            "itemCount": digest.itemIDs.count, "isEmpty": digest.isEmpty,
            "warnings": digest.warnings, "hasWarnings": !digest.warnings.isEmpty,
        ]
        var response = pages.page("preview", view)
        // The digest's images may show in the frame; everything else stays as strict as every page.
        response.headers[.contentSecurityPolicy] =
            SecurityHeadersMiddleware<WebRequestContext>.contentSecurityPolicy + "; img-src https: data:"
        return response
    }
}
