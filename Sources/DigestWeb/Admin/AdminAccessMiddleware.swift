import Hummingbird

/// Lets admin pages answer a loopback peer (a browser on the server itself, with no proxy header
/// in between), or anyone with `Authorization: Bearer <token>` (token from `web.adminTokenEnv`).
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    /// nil or empty: only loopback peers get in.
    let token: String?
    let tokenVariable: String
    let pages: WebPages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if context.isLoopbackPeer(request) { return try await next(request, context) }
        if let token, !token.isEmpty, let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer",
                ConstantTime.equals(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), Array(token.utf8))
            {
                return try await next(request, context)
            }
        }
        var response = pages.message(
            "Admin only",
            "Admin pages answer requests from this machine, or with an Authorization: Bearer token (the value of "
                + "the environment variable \(tokenVariable)).",
            status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"digest\""
        return response
    }
}
