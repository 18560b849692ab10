import DigestCore
import Foundation
import Hummingbird
import Logging

/// Signing in to the admin console on the public port, and out again:
///
/// ```
/// GET  /admin/signin?next=/admin/…   the form: the admin token (the value of `web.adminTokenEnv`)
/// POST /admin/signin                 right token: a session, its cookie, 303 to `next` (a local admin
///                                    page) or /admin/; wrong: 401 and the form again; too many wrong
///                                    ones from one client: 429 with Retry-After
/// POST /admin/signout                ends the session (CSRF token required, as on every admin form)
/// ```
///
/// Sessions live in the store (only the hash of their id), so signing out and expiry hold on every
/// host; sign-ins, failed ones and sign-outs are audited.
struct SignInController: Sendable {
    let access: AdminAccess
    let pages: WebPages

    /// The sign-in page goes on the router itself (it is open to all); sign-out on the admin group.
    func addRoutes(to routes: PageRoutes, admin: PageRoutes) {
        routes.get("admin/signin") { request, context in try page(request, context) }
        routes.post("admin/signin") { request, context in try await signIn(request, context) }
        admin.post("signout") { request, context in try await signOut(request, context) }
    }

    func page(_ request: Request, _ context: WebRequestContext) throws -> Response {
        let next = AdminPath.safeNext(request.uri.queryParameters.get("next")) ?? "/admin/"
        if context.admin != nil {
            return Response(status: .seeOther, headers: [.location: access.basePath + next, .cacheControl: "no-store"])
        }
        return form(next: next, status: access.token == nil ? .serviceUnavailable : .ok)
    }

    func signIn(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let now = access.settings.now()
        let client = context.clientAddress
        // Before anything else, and whatever the token: a client that guessed wrong too often waits.
        let wait = access.limiter.waitTime(client, now: now)
        guard wait == 0 else {
            access.logger.warning("admin: sign-in refused, too many tries", metadata: ["client": "\(client)"])
            throw AdminAccess.tooManyTries(wait)
        }
        var request = request
        let body = try await FormData.collect(from: &request, limit: access.settings.maxFormBytes)
        // Nobody can be signed in by another site's form (login CSRF).
        guard !access.isCrossSite(request) else { throw AdminAccess.forbidden }
        let next = AdminPath.safeNext(body["next"]) ?? "/admin/"
        guard let token = access.token else { return form(next: next, status: .serviceUnavailable) }
        let given = (body.fields.first { $0.name == "token" }?.value ?? "").trimmingCharacters(in: .whitespaces)
        guard ConstantTime.equals(Array(given.utf8), Array(token.utf8)) else {
            _ = access.limiter.allow(client, now: now)
            let failure = AuditEntry(
                at: now, action: "admin.signin.failed", detail: given.isEmpty ? "no token" : "wrong token",
                actor: AdminAccess.signInActor, clientAddress: client)
            _ = try await access.database.run { try $0.recordAudit(failure) }
            access.logger.warning("admin: wrong token on the sign-in form", metadata: ["client": "\(client)"])
            var response = form(
                next: next, status: .unauthorized,
                error: given.isEmpty ? "Enter the admin token." : "That is not the admin token.")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"digest\""
            return response
        }
        let id = AdminSession.newID()
        let session = AdminSession(
            idHash: AdminSession.hash(id), createdAt: now, expiresAt: now.addingTimeInterval(access.sessionLifetime),
            clientAddress: client)
        let admin = AdminIdentity(credential: .session(session), csrfToken: "", clientAddress: client)
        let audit = admin.audit("admin.signin", at: now)
        try await access.database.run { try $0.createAdminSession(session, now: now, audit: audit) }
        access.logger.info("admin: signed in", metadata: ["client": "\(client)", "actor": "\(admin.actor)"])
        return Response(
            status: .seeOther,
            headers: [
                .location: access.basePath + next, .cacheControl: "no-store",
                .setCookie: access.cookie.set(
                    AdminSession.cookieValue(id: id, adminToken: token), lifetime: access.sessionLifetime, now: now),
            ])
    }

    /// Ends the session the request came with (the middleware has checked it and its CSRF token); with
    /// a bearer token or on the admin listener there is none, and only the cookie is cleared.
    func signOut(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let now = access.settings.now()
        if let admin = context.admin, case .session(let session) = admin.credential {
            let audit = admin.audit("admin.signout", at: now)
            _ = try await access.database.run { try $0.endAdminSession(idHash: session.idHash, audit: audit) }
            access.logger.info("admin: signed out", metadata: ["actor": "\(admin.actor)"])
        }
        return Response(
            status: .seeOther,
            headers: [
                .location: access.signInPath(next: nil), .cacheControl: "no-store", .setCookie: access.cookie.cleared(),
            ])
    }

    private func form(next: String, status: HTTPResponse.Status, error: String? = nil) -> Response {
        var view: [String: Any] = [
            "title": "Sign in", "nextPath": next, "tokenVariable": access.tokenVariable,
            "hours": Self.hours(access.sessionLifetime),
        ]
        if let error { view["tokenError"] = error }
        if access.token == nil {
            view["unavailable"] =
                "Sign-in is off: the environment variable \(access.tokenVariable) is not set on the server. "
                + "Set it to a long random secret and restart."
        }
        return pages.page("signin", view, status: status)
    }

    /// `12`, or `0.5` for half an hour.
    static func hours(_ seconds: TimeInterval) -> String {
        let hours = seconds / 3600
        return hours.rounded() == hours ? String(Int(hours)) : String(format: "%.2g", hours)
    }
}
