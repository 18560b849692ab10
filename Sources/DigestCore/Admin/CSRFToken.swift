import Foundation

/// What an admin form's CSRF token is bound to: a token made for one binding is refused for any other.
public enum CSRFBinding: Sendable, Equatable {
    /// A signed-in session on the public port (its id's hash, `AdminSession.hash`): the token is good
    /// for that session alone, until it ends.
    case session(idHash: String)
    /// The loopback admin listener (`web.adminListen`), which has no session: the token proves that the
    /// form was served by this installation's listener (an attacker's page cannot read one) and expires.
    case adminListener

    var signedText: String {
        switch self {
        case .session(let idHash): "session\n\(idHash)"
        case .adminListener: "listener"
        }
    }
}

extension LinkSigner {
    /// The CSRF token of the admin forms for `binding`, good until `expires`: `EXPIRY.MAC`, the MAC an
    /// HMAC-SHA256 under the link-signing secret (`web.secretEnv`) over its own prefix, the binding and
    /// the expiry, so no other signed value (links, math questions) can pass for one.
    public func csrfToken(for binding: CSRFBinding, expires: Date) -> String {
        let expiry = Int64(expires.timeIntervalSince1970.rounded(.up))
        return "\(expiry).\(Base64URL.encode(authenticationCode(for: Self.csrfText(binding, expiry))))"
    }

    /// Whether `token` was made by `csrfToken(for: binding, …)` with this secret and has not expired at
    /// `now`. The MAC comparison is constant-time.
    public func isValidCSRFToken(_ token: String, for binding: CSRFBinding, now: Date) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let expiry = Int64(parts[0]), let mac = Base64URL.decode(String(parts[1])),
            isValidAuthenticationCode(mac, for: Self.csrfText(binding, expiry))
        else { return false }
        return Double(expiry) >= now.timeIntervalSince1970
    }

    private static func csrfText(_ binding: CSRFBinding, _ expiry: Int64) -> String {
        "dailydigest-admin-csrf\n\(binding.signedText)\n\(expiry)"
    }
}
