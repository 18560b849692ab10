import DigestCore
import Foundation

/// Who is behind an admin request, as `AdminAccessMiddleware` established it (`context.admin`): how
/// they proved it, the CSRF token to put in every form that changes something, and how the audit names
/// them.
///
/// A page handler puts `csrfToken` into its view (`"csrf": context.admin?.csrfToken ?? ""`, rendered by
/// the `web/csrf` partial as `<input type="hidden" name="csrf" …>`); the middleware checks it on every
/// admin request that is not GET or HEAD before the handler runs.
public struct AdminIdentity: Sendable, Equatable {
    /// The form field (or `X-CSRF-Token` header) that carries the CSRF token.
    public static let csrfField = "csrf"

    public enum Credential: Sendable, Equatable {
        /// Signed in on the public port with the admin token: the session cookie.
        case session(AdminSession)
        /// `Authorization: Bearer <token>` (scripts, the items and bounces APIs): not something a browser
        /// sends by itself, so its requests need no CSRF token.
        case bearerToken
        /// The loopback admin listener (`web.adminListen`), which asks no token.
        case adminListener
    }

    public var credential: Credential
    /// For the forms: bound to the session, or (admin listener) signed and expiring. Empty for a bearer
    /// token, whose requests are not checked.
    public var csrfToken: String
    /// The client, as `web.trustedProxies` resolves it.
    public var clientAddress: String

    public init(credential: Credential, csrfToken: String, clientAddress: String) {
        self.credential = credential
        self.csrfToken = csrfToken
        self.clientAddress = clientAddress
    }

    /// The audit's actor: "session 1a2b3c4d" (the start of the hash of its id, never of the id itself),
    /// "bearer token" or "admin listener".
    public var actor: String {
        switch credential {
        case .session(let session): "session \(session.idHash.prefix(8))"
        case .bearerToken: "bearer token"
        case .adminListener: "admin listener"
        }
    }

    /// An audit entry of this admin's `action` at `at` (about `subscriber`, when given), with the actor
    /// and the client address filled in; the store writes it with the action (`insertAudit(_:in:)`) or
    /// on its own (`recordAudit`).
    public func audit(_ action: String, subscriber: Subscriber? = nil, detail: String = "", at: Date) -> AuditEntry {
        let entry = AuditEntry(
            at: at, action: action, detail: detail, actor: actor, clientAddress: clientAddress)
        return subscriber.map { entry.about($0) } ?? entry
    }
}
