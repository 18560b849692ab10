import Foundation
import Hummingbird

/// Lets admin pages answer on the public listener only with `Authorization: Bearer <token>` (the token
/// from the variable named by `web.adminTokenEnv`), whatever else the request carries: no peer address,
/// no header (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `Via`) opens them. A reverse proxy on the same
/// machine connects from loopback for anyone, so being on loopback proves nothing here. The admin
/// listener (`web.adminListen`, loopback only) serves them without this middleware.
///
/// The refusal comes before anything is looked up, so it tells nothing (not whether an address is
/// subscribed) to anyone without the token.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    /// nil or empty: no request gets in here.
    let token: String?
    let tokenVariable: String
    /// Where the token-free admin listener is, to say so in the refusal (nil: none).
    let adminListen: String?
    let pages: WebPages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if let token, !token.isEmpty, let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer",
                ConstantTime.equals(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), Array(token.utf8))
            {
                return try await next(request, context)
            }
        }
        let listener = adminListen.map { " On the server itself they also answer at http://\($0)/admin/ without a token." } ?? ""
        throw PageError(
            status: .unauthorized, title: "Admin only",
            text: "Admin pages need an Authorization: Bearer token (the value of the environment variable "
                + "\(tokenVariable)).\(listener)",
            headers: [.wwwAuthenticate: "Bearer realm=\"digest\""])
    }
}
