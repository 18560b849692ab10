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

    /// Plain text, for the rare error thrown where no page template is at hand.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "\(title)\n\n\(text)\n")))
    }

    static let badLink = PageError(
        status: .badRequest, title: "This link is not valid",
        text: "The link may have been cut short or changed. Copy the whole link from the email and try again.")

    static let notOnTheList = PageError(
        status: .notFound, title: "Not on the list",
        text: "This link belongs to an address that is no longer on the list.", link: ("subscribe", "Subscribe"))

    static let noLongerApplies = PageError(
        status: .badRequest, title: "This link no longer applies",
        text: "This address was unsubscribed since the link was sent. Sign up again to resume.",
        link: ("subscribe", "Sign up again"))

    static let tooManyRequests = PageError(
        status: .tooManyRequests, title: "Too many requests", text: "Please wait a few minutes, then try again.",
        headers: [.retryAfter: "120"])

    /// Seconds a client is asked to wait after a 503 for a database that did not answer in time.
    static let databaseRetryAfter = "10"

    /// A store call that missed its deadline (`web.databaseTimeoutSeconds`): nothing of the request is
    /// lost, and a form sent again is recognised if it went through meanwhile.
    static let databaseUnavailable = PageError(
        status: .serviceUnavailable, title: "Please try again in a moment",
        text: "We could not reach our records just now. Wait a few seconds, then send the form again: sending it "
            + "twice does no harm.",
        headers: [.retryAfter: databaseRetryAfter])

    static let notFound = PageError(
        status: .notFound, title: "Page not found",
        text: "There is no page at this address. It may have moved, or the link was cut short.",
        link: ("subscribe", "Go to the sign-up form"))

    static func expiredLink(days: Int) -> PageError {
        PageError(
            status: .badRequest, title: "This link has expired",
            text: "Confirmation links last \(days) days. Sign up again to get a new one.",
            link: ("subscribe", "Sign up again"))
    }

    static func tooLarge(limit: Int) -> PageError {
        PageError(
            status: .contentTooLarge, title: "Too much data",
            text: "The form sent more than \(limit / 1024) KB. Please shorten what you entered.")
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
            response = pages.error(error)
        } catch is StoreUnavailable {
            response = pages.error(.databaseUnavailable)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = allowed.methods(for: request.uri.path)
            response = pages.error(methods.isEmpty ? .notFound : .methodNotAllowed(methods))
        }
        return request.method == .head ? response.createHeadResponse() : response
    }
}

extension WebPages {
    /// The page of `error`.
    func error(_ error: PageError) -> Response {
        var response = message(error.title, error.text, status: error.status, link: error.link)
        for field in error.headers { response.headers[field.name] = field.value }
        return response
    }
}
