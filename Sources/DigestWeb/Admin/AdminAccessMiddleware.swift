import DigestCore
import Foundation
import Hummingbird

/// Guards every admin URL, on the router itself rather than on the admin routes, so that it runs for
/// every request (any method, a route there or not) before routing could answer 404 or 405 and so tell
/// a stranger which admin routes exist.
///
/// On the public listener every path under `/admin` but the sign-in page needs credentials: the admin
/// token as `Authorization: Bearer <token>` (scripts, the items and bounces APIs), or the session cookie
/// the sign-in page sets. No peer address and no header (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`,
/// `Via`) opens them: a reverse proxy on the same machine connects from loopback for anyone, so being on
/// loopback proves nothing here. Without credentials the answer is the same for every admin URL
/// (`AdminAccess.refusal`), before anything is looked up.
///
/// On the loopback admin listener (`web.adminListen`) no token is asked, but the `Host` must be a
/// loopback name (another name means a page elsewhere had its name point at 127.0.0.1: DNS rebinding).
///
/// Either way, a request that is not GET or HEAD (and not authorized by a bearer header) must carry the
/// CSRF token (`AdminAccess.checked`). The admin is in `context.admin` for everything after this.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext

    enum Listener: Sendable {
        /// `web.host`:`web.port`: the reader pages, and the admin pages with credentials.
        case publicPort
        /// `web.adminListen`: the admin pages alone, on loopback, without a token.
        case adminListener
    }

    let access: AdminAccess
    let listener: Listener

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let now = access.settings.now()
        var context = context
        switch listener {
        case .adminListener:
            guard Self.isLoopbackHost(request.head.authority) else {
                throw PageError(
                    status: .misdirectedRequest, title: "Wrong address",
                    text: "The admin listener answers only at a loopback address, such as http://127.0.0.1:PORT/.")
            }
            context.admin = access.listenerIdentity(context: context, now: now)
        case .publicPort:
            guard AdminPath.isAdmin(request.uri.path) else { return try await next(request, context) }
            if AdminPath.isSignIn(request.uri.path) {
                // Open to everyone; an admin already signed in is sent on from there.
                context.admin = try await access.session(request, context: context, now: now)
                return try await next(request, context)
            }
            context.admin = try await access.identify(request, context: context, now: now)
        }
        return try await access.checked(request, context: context, admin: context.admin!, next: next)
    }

    /// `127.0.0.1[:port]` (any 127/8), `[::1][:port]`, `localhost[:port]`; a request without a Host
    /// (HTTP/1.0) comes from no browser and passes.
    static func isLoopbackHost(_ authority: String?) -> Bool {
        guard var host = authority?.lowercased() else { return true }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<close])
            return host == "::1"
        }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        return host == "localhost" || IPNetwork("127.0.0.0/8")!.contains(host)
    }
}

/// On the admin routes themselves: nothing reaches them without an admin. `AdminAccessMiddleware` on the
/// router already refuses such requests; this second lock keeps it so should a path ever slip past the
/// router-level rule.
struct AdminRequiredMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let access: AdminAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard context.admin != nil else { throw access.refusal(request, credentialsTried: false) }
        return try await next(request, context)
    }
}
