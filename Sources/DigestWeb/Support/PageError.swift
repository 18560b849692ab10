import DigestCore
import Hummingbird

/// Every error a page answers with: a status, a heading, a sentence saying what to do, maybe a link
/// onwards and extra header fields. Handlers throw it; `ErrorPagesMiddleware` renders it with the
/// `message` template, so every error looks like the site.
struct PageError: HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var title: String
    var text: String
    var link: (href: String, label: String)? = nil
    var headers: HTTPFields = [:]
    /// The catalog's words for it, in the language the browser asks for: `page.KEY.title`, `page.KEY.text` and
    /// `page.KEY.link` (nil: the words above, for errors no reader sees, the admin's).
    var key: String? = nil
    /// What the catalog's `{placeholders}` stand for (`{days}`, `{kb}`).
    var values: [String: String] = [:]

    /// Plain text, for the rare error thrown where no page template is at hand.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "\(title)\n\n\(text)\n")))
    }

    static let badLink = PageError(
        status: .badRequest, title: "This link is not valid",
        text: "The link may have been cut short or changed. Copy the whole link from the email and try again.",
        key: "badLink")

    static let notOnTheList = PageError(
        status: .notFound, title: "Not on the list",
        text: "This link belongs to an address that is no longer on the list.", link: ("subscribe", "Subscribe"),
        key: "notOnTheList")

    static let noLongerApplies = PageError(
        status: .badRequest, title: "This link no longer applies",
        text: "This address was unsubscribed since the link was sent. Sign up again to resume.",
        link: ("subscribe", "Sign up again"), key: "noLongerApplies")

    static let tooManyRequests = PageError(
        status: .tooManyRequests, title: "Too many requests", text: "Please wait a few minutes, then try again.",
        headers: [.retryAfter: "120"], key: "tooManyRequests")

    /// Seconds a client is asked to wait after a 503 for a database that did not answer in time.
    static let databaseRetryAfter = "10"

    /// A store call that missed its deadline (`web.databaseTimeoutSeconds`): nothing of the request is
    /// lost, and a form sent again is recognised if it went through meanwhile.
    static let databaseUnavailable = PageError(
        status: .serviceUnavailable, title: "Please try again in a moment",
        text: "We could not reach our records just now. Wait a few seconds, then send the form again: sending it "
            + "twice does no harm.",
        headers: [.retryAfter: databaseRetryAfter], key: "databaseUnavailable")

    static let notFound = PageError(
        status: .notFound, title: "Page not found",
        text: "There is no page at this address. It may have moved, or the link was cut short.",
        link: ("subscribe", "Go to the sign-up form"), key: "notFound")

    static func expiredLink(days: Int) -> PageError {
        PageError(
            status: .badRequest, title: "This link has expired",
            text: "Confirmation links last \(days) days. Sign up again to get a new one.",
            link: ("subscribe", "Sign up again"), key: "expiredLink", values: ["days": "\(days)"])
    }

    static func tooLarge(limit: Int) -> PageError {
        PageError(
            status: .contentTooLarge, title: "Too much data",
            text: "The form sent more than \(limit / 1024) KB. Please shorten what you entered.", key: "tooLarge",
            values: ["kb": "\(limit / 1024)"])
    }

    static func methodNotAllowed(_ allowed: [HTTPRequest.Method]) -> PageError {
        PageError(
            status: .methodNotAllowed, title: "Not allowed here",
            text: "This page answers \(allowed.map(\.rawValue).joined(separator: ", ")) only.",
            headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")])
    }
}

/// The methods each page path answers (HEAD with every GET), for `405 Method Not Allowed` and its
/// `Allow` field. Filled while routes are added (`PageRoutes`), read-only once the server runs.
final class AllowedMethods: @unchecked Sendable {
    private var methods: [String: [HTTPRequest.Method]] = [:]

    func add(_ method: HTTPRequest.Method, _ path: String) {
        let key = Self.key(path)
        var list = methods[key] ?? []
        list.append(method)
        if method == .get { list.append(.head) }
        methods[key] = list
    }

    func methods(for path: String) -> [HTTPRequest.Method] { methods[Self.key(path)] ?? [] }

    private static func key(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}

/// Adds routes to a router or group and notes their methods in `allowed`: what the controllers'
/// `addRoutes(to:)` receive.
struct PageRoutes {
    typealias Handler = @Sendable (Request, WebRequestContext) async throws -> Response
    let prefix: String
    let allowed: AllowedMethods
    private let register: (String, HTTPRequest.Method, @escaping Handler) -> Void

    init(_ router: some RouterMethods<WebRequestContext>, prefix: String = "", allowed: AllowedMethods) {
        self.prefix = prefix
        self.allowed = allowed
        register = { path, method, handler in router.on(RouterPath(path), method: method, use: handler) }
    }

    func get(_ path: String, _ handler: @escaping Handler) { on(path, .get, handler) }
    func post(_ path: String, _ handler: @escaping Handler) { on(path, .post, handler) }

    private func on(_ path: String, _ method: HTTPRequest.Method, _ handler: @escaping Handler) {
        allowed.add(method, prefix + "/" + path)
        register(path, method, handler)
    }
}

/// Turns every error into a page from the templates: a thrown `PageError`; a path nobody serves
/// (a styled 404 instead of an empty one); a known path asked with another method (405 and `Allow`);
/// Answers to HEAD lose their body here (their header fields, `Content-Length` included, stay).
struct ErrorPagesMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let pages: WebPages
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as PageError {
            response = pages.error(error, for: request)
        } catch is StoreUnavailable {
            response = pages.error(.databaseUnavailable, for: request)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = allowed.methods(for: request.uri.path)
            response = pages.error(methods.isEmpty ? .notFound : .methodNotAllowed(methods), for: request)
        }
        return request.method == .head ? response.createHeadResponse() : response
    }
}

extension WebPages {
    /// The page of `error`, in the language `request` asks for (`?lang=`, else `Accept-Language`; the reader is
    /// not known yet: the link that would name them is what failed) when the catalogs have its words.
    func error(_ error: PageError, for request: Request? = nil) -> Response {
        var (title, text, link) = (error.title, error.text, error.link)
        var shown: Language?
        if let key = error.key, let request {
            let asked = language(for: request)
            if asked.has("page.\(key).title") {
                let values = error.values.mapValues { Int($0).map(asked.number) ?? $0 }
                title = asked.text("page.\(key).title", values)
                text = asked.text("page.\(key).text", values)
                link = link.map { ($0.href, asked.text("page.\(key).link")) }
                shown = asked
            }
        }
        var response = message(title, text, status: error.status, link: link, language: shown)
        for field in error.headers { response.headers[field.name] = field.value }
        return response
    }
}
