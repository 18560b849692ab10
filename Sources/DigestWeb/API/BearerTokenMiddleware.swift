import Foundation
import Hummingbird

/// Lets a request through only with `Authorization: Bearer <token>`.
///
/// Without a configured token the routes behind it answer 503: an API that anyone could call
/// is worse than one that is off.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// nil or empty: the token variable is not set.
    let token: String?
    let tokenVariable: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token, !token.isEmpty else {
            return APIResponse.error(
                .serviceUnavailable,
                "the items API is off: set the environment variable \(tokenVariable) to a secret token and restart")
        }
        guard let header = request.headers[.authorization] else {
            return unauthorized("an Authorization: Bearer token is required")
        }
        guard ConstantTime.isBearer(header, token: token) else {
            return unauthorized("the bearer token is not valid")
        }
        return try await next(request, context)
    }

    private func unauthorized(_ message: String) -> Response {
        var response = APIResponse.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"digest\""
        return response
    }
}

/// Comparisons whose time does not depend on where secrets differ.
enum ConstantTime {
    /// Whether an `Authorization` value is `Bearer <token>` (scheme in any case, spaces around the token
    /// ignored); the token is compared in constant time.
    static func isBearer(_ header: String, token: String) -> Bool {
        let parts = header.split(separator: " ", maxSplits: 1)
        return parts.count == 2 && parts[0].lowercased() == "bearer"
            && equals(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), Array(token.utf8))
    }

    /// Equal bytes, looking at every byte of `given` whatever the outcome.
    static func equals(_ given: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: given.count ^ secret.count)
        difference |= given.count == secret.count ? 0 : 1
        for index in given.indices {
            let other = secret.isEmpty ? 0 : secret[index % secret.count]
            difference |= given[index] ^ other
        }
        return difference == 0
    }
}
