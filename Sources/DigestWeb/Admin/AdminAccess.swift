import DigestCore
import Foundation
import Hummingbird
import Logging

/// The admin console's access rules, shared by `AdminAccessMiddleware` and the sign-in pages: who a
/// request's credentials say it is (a bearer token, a session cookie), the refusal every admin URL gives
/// without them, the per-client limit on wrong tokens, and the CSRF check of requests that change
/// something.
struct AdminAccess: Sendable {
    /// The admin token (the variable named by `web.adminTokenEnv`); nil or empty: nobody gets in on the
    /// public port, by token or by session.
    let token: String?
    let tokenVariable: String
    let signer: LinkSigner
    let database: StoreExecutor
    let settings: WebSettings
    /// `web.adminSessionHours`, in seconds: a session's life, and a CSRF token's on the admin listener.
    let sessionLifetime: TimeInterval
    let cookie: AdminCookie
    /// `web.baseURL`'s path ("" or `/digest`), before every path sent to the browser.
    let basePath: String
    /// `web.baseURL`'s origin (`https://news.example`), which a browser's `Origin` may name.
    let publicOrigin: String?
    /// Where the token-free admin listener is, to say so in the refusal (nil: none).
    let adminListen: String?
    /// Wrong tokens per client: the sign-in form and bearer headers share it.
    let limiter: RateLimiter
    let logger: Logger

    init(
        configuration: Configuration, token: String?, signer: LinkSigner, database: StoreExecutor,
        settings: WebSettings, logger: Logger
    ) {
        let web = configuration.web
        self.token = token?.isEmpty == false ? token : nil
        tokenVariable = web.adminTokenEnv
        self.signer = signer
        self.database = database
        self.settings = settings
        sessionLifetime = web.adminSessionHours * 3600
        cookie = AdminCookie(baseURL: web.baseURL)
        basePath = AdminPath.basePath(of: web.baseURL)
        publicOrigin = URLComponents(string: web.baseURL).flatMap { url in
            guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
            return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        }
        adminListen = web.adminListen.map { "\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\($0.port)" }
        limiter = RateLimiter(capacity: settings.signInLimit.capacity, refillEvery: settings.signInLimit.interval)
        self.logger = logger
    }

    /// The audit's actor of a sign-in attempt, before there is a session.
    static let signInActor = "sign-in form"

    // MARK: Who is asking

    /// The admin a public-port request proves to be, or the error to answer with: a bearer header is
    /// judged alone (a wrong one is refused, whatever cookie comes with it, and counts against the
    /// client's limit); else a session cookie; else nothing gets in.
    func identify(_ request: Request, context: WebRequestContext, now: Date) async throws -> AdminIdentity {
        if let header = request.headers[.authorization] {
            let client = context.clientAddress
            let wait = limiter.waitTime(client, now: now)
            guard wait == 0 else { throw Self.tooManyTries(wait) }
            if let token, ConstantTime.isBearer(header, token: token) {
                return AdminIdentity(credential: .bearerToken, csrfToken: "", clientAddress: client)
            }
            _ = limiter.allow(client, now: now)
            logger.warning(
                "admin: wrong bearer token", metadata: ["client": "\(client)", "path": "\(request.uri.path)"])
            throw refusal(request, credentialsTried: true)
        }
        if let identity = try await session(request, context: context, now: now) { return identity }
        throw refusal(request, credentialsTried: false)
    }

    /// The session the request's cookie names, when the token is set, the cookie was made with it, and
    /// the session has neither ended nor expired.
    func session(_ request: Request, context: WebRequestContext, now: Date) async throws -> AdminIdentity? {
        guard let token, let value = AdminCookie.value(in: request),
            let id = AdminSession.id(inCookie: value, adminToken: token)
        else { return nil }
        let hash = AdminSession.hash(id)
        guard let session = try await database.run({ try $0.adminSession(idHash: hash, now: now) }) else { return nil }
        return AdminIdentity(
            credential: .session(session),
            csrfToken: signer.csrfToken(for: .session(idHash: hash), expires: session.expiresAt),
            clientAddress: context.clientAddress)
    }

    /// Whoever is on the loopback admin listener: no token asked, a CSRF token that expires.
    func listenerIdentity(context: WebRequestContext, now: Date) -> AdminIdentity {
        AdminIdentity(
            credential: .adminListener,
            csrfToken: signer.csrfToken(for: .adminListener, expires: now.addingTimeInterval(sessionLifetime)),
            clientAddress: context.clientAddress)
    }

    // MARK: The one refusal

    /// The answer of every admin URL, whatever the method and whether a route exists there, to a request
    /// without credentials: a browser opening a page (GET or HEAD that accepts HTML, no Authorization
    /// header) is sent to the sign-in page, which brings it back after; anything else gets the same
    /// 401 page with `WWW-Authenticate: Bearer`. Nothing is looked up first, so neither says whether a
    /// route, a reader or an item exists.
    func refusal(_ request: Request, credentialsTried: Bool) -> PageError {
        let browser = request.headers[.accept]?.lowercased().contains("text/html") == true
        if !credentialsTried, token != nil, request.method == .get || request.method == .head, browser {
            let query = request.uri.query.map { "?" + $0 } ?? ""
            let next = AdminPath.safeNext(request.uri.path + query) ?? AdminPath.safeNext(request.uri.path)
            let location = signInPath(next: next)
            return PageError(
                status: .seeOther, title: "Please sign in", text: "The admin console needs you to sign in first.",
                link: (location, "Sign in"), headers: [.location: location, .cacheControl: "no-store"])
        }
        let signIn = token == nil ? "" : " or sign in at \(basePath)/admin/signin"
        let listener =
            adminListen.map { " On the server itself they also answer at http://\($0)/admin/ without a token." } ?? ""
        return PageError(
            status: .unauthorized, title: "Admin only",
            text: "Admin pages need an Authorization: Bearer token (the value of the environment variable "
                + "\(tokenVariable))\(signIn).\(listener)",
            headers: [.wwwAuthenticate: "Bearer realm=\"digest\"", .cacheControl: "no-store"])
    }

    /// The sign-in page's path as the browser sees it, asking to come back to `next`.
    func signInPath(next: String?) -> String {
        basePath + "/admin/signin" + (next.map { "?next=" + AdminPath.encoded($0) } ?? "")
    }

    static func tooManyTries(_ seconds: Int) -> PageError {
        PageError(
            status: .tooManyRequests, title: "Too many tries",
            text: "Too many wrong admin tokens came from your address. Wait \(seconds) seconds, then try again.",
            headers: [.retryAfter: "\(seconds)", .cacheControl: "no-store"])
    }

    // MARK: Requests that change something

    /// Runs `next` when `request` may change something as `admin`: GET and HEAD change nothing, and a
    /// bearer token is not something a browser sends on its own; any other request must come from this
    /// site (`Sec-Fetch-Site`, else `Origin`) and carry the CSRF token of `admin`'s binding in the form
    /// field `csrf` or the `X-CSRF-Token` header. The form body is read here (413 past
    /// `settings.maxFormBytes`) and handed on, so the handler reads it again as usual.
    func checked(
        _ request: Request, context: WebRequestContext, admin: AdminIdentity,
        next: (Request, WebRequestContext) async throws -> Response
    ) async throws -> Response {
        if request.method == .get || request.method == .head || admin.credential == .bearerToken {
            return try await next(request, context)
        }
        guard !isCrossSite(request) else {
            logger.warning("admin: cross-site request refused", metadata: ["path": "\(request.uri.path)"])
            throw Self.forbidden
        }
        var request = request
        let form = try await FormData.collect(from: &request, limit: settings.maxFormBytes)
        let given = request.headers[Self.csrfHeader] ?? form[AdminIdentity.csrfField] ?? ""
        let binding: CSRFBinding
        switch admin.credential {
        case .session(let session): binding = .session(idHash: session.idHash)
        case .adminListener, .bearerToken: binding = .adminListener
        }
        guard signer.isValidCSRFToken(given, for: binding, now: settings.now()) else {
            logger.warning(
                "admin: request without a valid CSRF token refused",
                metadata: ["path": "\(request.uri.path)", "actor": "\(admin.actor)"])
            throw Self.forbidden
        }
        return try await next(request, context)
    }

    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token")!
    static let fetchSite = HTTPFields.Element.Name("Sec-Fetch-Site")!

    static let forbidden = PageError(
        status: .forbidden, title: "This form has expired",
        text: "The form was too old, or did not come from this site. Go back, reload the page and send it again. "
            + "Nothing was changed.",
        headers: [.cacheControl: "no-store"])

    /// Whether a browser says the request comes from another site. `Sec-Fetch-Site` (sent by current
    /// browsers, not settable by a page) decides when present: only `same-origin` and `none` (typed by
    /// the user) pass. Else an `Origin` naming another origin than the public URL's or the request's own
    /// host is refused. `Origin: null` passes: browsers send it for same-origin forms too when the page's
    /// `Referrer-Policy` is `no-referrer`, as every page here is; the CSRF token still has to match.
    /// Without either header (scripts, old clients) the token alone decides.
    func isCrossSite(_ request: Request) -> Bool {
        if let site = request.headers[Self.fetchSite]?.lowercased() {
            return site != "same-origin" && site != "none"
        }
        guard let origin = request.headers[.origin]?.lowercased(), origin != "null" else { return false }
        if origin == publicOrigin { return false }
        guard let authority = request.head.authority?.lowercased() else { return true }
        return origin != "http://\(authority)" && origin != "https://\(authority)"
    }
}
