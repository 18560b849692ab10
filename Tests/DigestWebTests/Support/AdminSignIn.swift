import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import DigestWeb

/// A clock the tests move by hand (`WebSettings.now`).
final class TestClock: Sendable {
    private let time: Mutex<Date>
    init(_ start: Date) { time = Mutex(start) }
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
}

/// An admin signed in on the public port: the cookie to send back, and the CSRF token of its forms.
struct AdminBrowser: Sendable {
    /// `digest_admin=…`, as a browser sends it.
    var cookie: String
    var csrf: String
    /// The session id's hash (what the store keeps).
    var idHash: String

    var headers: HTTPFields { [.cookie: cookie] }
    var formHeaders: HTTPFields { [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"] }
}

/// The value of `Set-Cookie` without its attributes: `name=value`.
func cookiePair(_ setCookie: String?) -> String? {
    setCookie?.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespaces) }
}

/// The attributes of a `Set-Cookie` value, names lower-cased (`httponly` → "").
func cookieAttributes(_ setCookie: String) -> [String: String] {
    var attributes: [String: String] = [:]
    for part in setCookie.split(separator: ";").dropFirst() {
        let pair = part.split(separator: "=", maxSplits: 1)
        attributes[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] =
            pair.count > 1 ? pair[1].trimmingCharacters(in: .whitespaces) : ""
    }
    return attributes
}

extension SubscriptionFixture {
    /// The CSRF token a page would give the session of `cookie` (made with `token`), worked out as the
    /// server does: the session's id from the cookie, its expiry from the store.
    func csrf(cookie: String, token: String = WebFixture.token, now: Date) throws -> (csrf: String, idHash: String) {
        let value = try #require(cookie.split(separator: "=", maxSplits: 1).last.map(String.init))
        let id = try #require(AdminSession.id(inCookie: value, adminToken: token))
        let hash = AdminSession.hash(id)
        let session = try #require(try store.adminSession(idHash: hash, now: now))
        return (signer.csrfToken(for: .session(idHash: hash), expires: session.expiresAt), hash)
    }
}

extension TestClientProtocol {
    /// Posts the sign-in form with `token` from `client` (`X-Forwarded-For`, for apps that trust the proxy).
    func postSignIn(
        token: String, next: String? = nil, headers extra: HTTPFields = [:],
        _ check: @escaping @Sendable (TestResponse) async throws -> Void = { _ in }
    ) async throws -> TestResponse {
        var headers = formHeaders
        for field in extra { headers[field.name] = field.value }
        var fields = [("token", token)]
        if let next { fields.append(("next", next)) }
        return try await execute(uri: "/admin/signin", method: .post, headers: headers, body: form(fields)) {
            try await check($0)
            return $0
        }
    }

    /// Signs in with the right token and returns the browser's cookie and CSRF token.
    func signInAsAdmin(_ fixture: SubscriptionFixture, now: Date) async throws -> AdminBrowser {
        let response = try await postSignIn(token: WebFixture.token)
        #expect(response.status == .seeOther)
        let cookie = try #require(cookiePair(response.headers[.setCookie]))
        let (csrf, hash) = try fixture.csrf(cookie: cookie, now: now)
        return AdminBrowser(cookie: cookie, csrf: csrf, idHash: hash)
    }
}
