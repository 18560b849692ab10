import Crypto
import Foundation

/// A signed-in admin's session on the public port, as the store keeps it: the SHA-256 of its id (the id
/// itself lives only in the admin's cookie), when it began and ends, and where it was opened from.
public struct AdminSession: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the session id (`AdminSession.hash(_:)`).
    public var idHash: String
    public var createdAt: Date
    public var expiresAt: Date
    /// The client that signed in, as `web.trustedProxies` resolves it.
    public var clientAddress: String

    public init(idHash: String, createdAt: Date, expiresAt: Date, clientAddress: String) {
        self.idHash = idHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.clientAddress = clientAddress
    }

    /// A new session id: 256 random bits from the system's generator, URL-safe base64 (43 characters),
    /// for the cookie.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(Data(bytes))
    }

    /// What the store keeps of a session id: its SHA-256 in lower-case hex. A leaked table (a backup, a
    /// copy) then opens no session; the id has 256 bits, so no salt or slow hash is needed.
    public static func hash(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The cookie's value for session `id`: `ID.MAC`, the MAC an HMAC-SHA256 of the id keyed with the admin
    /// token. Another token (`web.adminTokenEnv` changed and the server restarted) makes every cookie
    /// made before it worthless, so changing the token signs every admin out; a forged cookie is refused
    /// without a database lookup.
    public static func cookieValue(id: String, adminToken: String) -> String {
        "\(id).\(Base64URL.encode(Data(mac(id, adminToken))))"
    }

    /// The session id in `value` when `cookieValue(id:adminToken:)` made it with this token; else nil.
    public static func id(inCookie value: String, adminToken: String) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 43, Base64URL.decode(String(parts[0]))?.count == 32,
            let given = Base64URL.decode(String(parts[1])), !adminToken.isEmpty,
            HMAC<SHA256>.isValidAuthenticationCode(
                given, authenticating: Data(Self.signed(String(parts[0])).utf8),
                using: SymmetricKey(data: Data(adminToken.utf8)))
        else { return nil }
        return String(parts[0])
    }

    private static func mac(_ id: String, _ adminToken: String) -> HMAC<SHA256>.MAC {
        HMAC<SHA256>.authenticationCode(
            for: Data(signed(id).utf8), using: SymmetricKey(data: Data(adminToken.utf8)))
    }

    private static func signed(_ id: String) -> String { "dailydigest-admin-session\n\(id)" }
}
