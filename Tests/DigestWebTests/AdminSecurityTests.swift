import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// The admin console's door: the same refusal on every admin URL without credentials, sign-in with
/// the token and its session cookie, sign-out, expiry, CSRF tokens, the limit on wrong tokens, the
/// audit rows, and that GET changes nothing. The example configuration's `web.baseURL` is
/// `https://courier.example/digest`: pages live under `/digest` for the browser, cookies are `Secure`.
@Suite struct AdminSecurityTests {
    /// Wednesday 25 November 2026, 10:00 UTC.
    static let start = Date(timeIntervalSince1970: 1_795_600_800)

    /// Admin URLs that exist, made-up ones, and other spellings of them.
    static let adminPaths = [
        "/admin", "/admin/", "/admin/preview", "/admin/preview?date=2026-11-24&subscriber=victim@example.com",
        "/admin/signout", "/admin/readers", "/admin/readers/1", "/admin/readers/1/erase", "/admin/api/stats",
        "/admin/editions/2026-11-24", "/admin/nothing-here", "/admin/signin/extra", "//admin/preview",
        "/admin//preview", "/admin/preview/", "/%61dmin/preview", "/Admin/preview", "/ADMIN",
    ]
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]
    static let fetchSite = HTTPFields.Element.Name("Sec-Fetch-Site")!

    func settings(_ clock: TestClock) -> WebSettings {
        var settings = WebSettings()
        settings.now = { clock.now }
        return settings
    }

    @Test func everyAdminURLRefusesTheSameWayWithoutCredentials() async throws {
        let fixture = try SubscriptionFixture()
        try fixture.add("victim@example.com", status: .active)
        try await fixture.app().test(.router) { client in
            var pages = Set<String>()
            for path in Self.adminPaths {
                for method in Self.methods {
                    let body = form([("a", "b")])
                    try await client.execute(uri: path, method: method, headers: formHeaders, body: body) { response in
                        #expect(response.status == .unauthorized, "\(method) \(path)")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"digest\"", "\(method) \(path)")
                        #expect(response.headers[.allow] == nil, "\(method) \(path)")
                        #expect(response.headers[.setCookie] == nil)
                        if method == .head {
                            #expect(response.body.readableBytes == 0)
                        } else {
                            pages.insert(response.text)
                        }
                    }
                }
            }
            // One page for all: nothing in it depends on the path, the method or what exists there.
            #expect(pages.count == 1)
            #expect(pages.first?.contains("Admin only") == true)
            #expect(pages.first?.contains("/digest/admin/signin") == true)
            #expect(pages.first?.contains("victim") == false)

            // A browser opening a page is sent to sign in, and brought back after.
            let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]
            for path in Self.adminPaths {
                for method in [HTTPRequest.Method.get, .head] {
                    try await client.execute(uri: path, method: method, headers: browser) { response in
                        #expect(response.status == .seeOther, "\(method) \(path)")
                        #expect(response.headers[.location]?.hasPrefix("/digest/admin/signin") == true, "\(path)")
                    }
                }
                // Anything but opening a page is the same 401, browser or not.
                try await client.execute(uri: path, method: .post, headers: browser) {
                    #expect($0.status == .unauthorized, "POST \(path)")
                }
            }
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get, headers: browser) {
                #expect($0.headers[.location] == "/digest/admin/signin?next=/admin/preview%3Fdate%3D2026-11-24")
            }
            try await client.execute(uri: "/%61dmin/preview", method: .get, headers: browser) {
                #expect($0.headers[.location] == "/digest/admin/signin")
            }
            // The reader pages are as they were.
            try await client.execute(uri: "/subscribe", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/administrator", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/subscribe", method: .put) { #expect($0.status == .methodNotAllowed) }
        }
    }

    @Test func theBearerTokenStillOpensEveryAdminURLAndNeedsNoCSRFToken() async throws {
        let fixture = try SubscriptionFixture()
        let bearer: HTTPFields = [.authorization: "Bearer \(WebFixture.token)"]
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get, headers: bearer) {
                #expect($0.status == .ok)
            }
            // With credentials the router's own answers come back: 405 with Allow, 404.
            try await client.execute(uri: "/admin/preview", method: .post, headers: bearer) {
                #expect($0.status == .methodNotAllowed)
                #expect($0.headers[.allow] == "GET, HEAD")
            }
            try await client.execute(uri: "/admin/nothing-here", method: .get, headers: bearer) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/admin/", method: .get, headers: bearer) {
                #expect($0.status == .ok)
                #expect($0.text.contains("<h1>Dashboard</h1>"))
            }
            // A POST authorized by the header: not something another site can make a browser send.
            try await client.execute(uri: "/admin/signout", method: .post, headers: bearer) {
                #expect($0.status == .seeOther)
            }
        }
    }

    @Test func signingInSetsAStrictHttpOnlySessionCookie() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        try await fixture.app(settings: settings(clock)).test(.router) { client in
            try await client.execute(uri: "/admin/signin?next=/admin/preview", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                let page = response.text
                #expect(page.contains("<input type=\"password\" id=\"token\" name=\"token\""))
                #expect(page.contains("<label for=\"token\">Admin token</label>"))
                #expect(page.contains("<input type=\"hidden\" name=\"next\" value=\"/admin/preview\">"))
                #expect(page.contains("DIGEST_ADMIN_TOKEN"))
                #expect(page.contains("12 hours"))
            }
            let response = try await client.postSignIn(token: WebFixture.token, next: "/admin/preview?date=2026-11-24")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/digest/admin/preview?date=2026-11-24")
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.hasPrefix("digest_admin="))
            let attributes = cookieAttributes(setCookie)
            #expect(attributes["httponly"] == "")
            #expect(attributes["samesite"] == "Strict")
            #expect(attributes["path"] == "/digest/admin")
            #expect(attributes["secure"] == "")
            #expect(attributes["max-age"] == "43200")
            #expect(attributes["expires"] == "Wed, 25 Nov 2026 22:00:00 GMT")
            #expect(attributes["domain"] == nil)
            // The cookie holds a 256-bit id and its MAC, never the token.
            #expect(!setCookie.contains(WebFixture.token))
            let audit = try fixture.store.auditLog()
            #expect(audit.map(\.action) == ["admin.signin"])
            #expect(audit.first?.actor.hasPrefix("session ") == true)
            #expect(audit.first?.at == Self.start)
        }
    }

    /// Over plain http (a test install, or no proxy) the cookie cannot be `Secure`, and the pages have no
    /// path prefix; the session length comes from `web.adminSessionHours`.
    @Test func overHTTPTheCookieIsNotSecure() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        let app = try await fixture.app(settings: settings(clock)) { configuration in
            configuration.web.baseURL = "http://127.0.0.1:8080"
            configuration.web.adminSessionHours = 0.5
        }
        try await app.test(.router) { client in
            let response = try await client.postSignIn(token: WebFixture.token)
            #expect(response.headers[.location] == "/admin/")
            let attributes = cookieAttributes(try #require(response.headers[.setCookie]))
            #expect(attributes["secure"] == nil)
            #expect(attributes["path"] == "/admin")
            #expect(attributes["max-age"] == "1800")
            #expect(attributes["expires"] == "Wed, 25 Nov 2026 10:30:00 GMT")
        }
    }

    @Test func aSessionOpensTheAdminPagesUntilItExpires() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        try await fixture.app(settings: settings(clock)).test(.router) { client in
            let admin = try await client.signInAsAdmin(fixture, now: clock.now)
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get, headers: admin.headers) {
                #expect($0.status == .ok)
                #expect($0.text.contains("Preview: 2026-11-24"))
            }
            // Already signed in: the sign-in page sends the admin on.
            try await client.execute(uri: "/admin/signin?next=/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/digest/admin/preview")
            }
            clock.advance(12 * 3600 - 1)
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .ok)
            }
            clock.advance(1)
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .unauthorized)
            }
            var browser = admin.headers
            browser[.accept] = "text/html"
            try await client.execute(uri: "/admin/preview", method: .get, headers: browser) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/digest/admin/signin?next=/admin/preview")
            }
            // Cookies that are not a session's.
            let id = AdminSession.newID()
            for cookie in [
                "digest_admin=garbage", "digest_admin=\(id)",
                "digest_admin=\(AdminSession.cookieValue(id: id, adminToken: WebFixture.token))",
                "other=\(admin.cookie.split(separator: "=", maxSplits: 1)[1])",
            ] {
                try await client.execute(uri: "/admin/preview", method: .get, headers: [.cookie: cookie]) {
                    #expect($0.status == .unauthorized, "\(cookie)")
                }
            }
        }
    }

    /// A new token (the variable changed, the server restarted) signs every admin out.
    @Test func changingTheTokenEndsEverySession() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        let admin = try await fixture.app(settings: settings(clock)).test(.router) { client in
            try await client.signInAsAdmin(fixture, now: clock.now)
        }
        let renewed = try await fixture.app(
            settings: settings(clock), environment: [fixture.configuration.web.adminTokenEnv: "a-brand-new-token"])
        try await renewed.test(.router) { client in
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func signingOutEndsTheSessionAndNeedsTheCSRFToken() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        try await fixture.app(settings: settings(clock)).test(.router) { client in
            let admin = try await client.signInAsAdmin(fixture, now: clock.now)
            let other = try await client.signInAsAdmin(fixture, now: clock.now)
            #expect(admin.csrf != other.csrf)
            func signOut(_ fields: [(String, String)], extra: HTTPFields = [:]) async throws -> TestResponse {
                var headers = admin.formHeaders
                for field in extra { headers[field.name] = field.value }
                return try await client.execute(
                    uri: "/admin/signout", method: .post, headers: headers, body: form(fields)) { $0 }
            }
            // Refused, and nothing changes: no token, a wrong one, another session's, a cross-site form.
            let refused: [([(String, String)], HTTPFields)] = [
                ([], [:]), ([("csrf", "")], [:]), ([("csrf", "123.abc")], [:]), ([("csrf", other.csrf)], [:]),
                ([("csrf", admin.csrf)], [Self.fetchSite: "cross-site"]),
                ([("csrf", admin.csrf)], [Self.fetchSite: "same-site"]),
                ([("csrf", admin.csrf)], [.origin: "https://evil.example"]),
                ([("csrf", admin.csrf.uppercased())], [:]),
            ]
            for (fields, extra) in refused {
                let response = try await signOut(fields, extra: extra)
                #expect(response.status == .forbidden, "\(fields) \(extra)")
                #expect(response.text.contains("Nothing was changed"))
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .ok)
            }
            #expect(try fixture.store.auditLog().map(\.action) == ["admin.signin", "admin.signin"])
            // The right token, from a page of this site (Origin: null, as under Referrer-Policy: no-referrer).
            let response = try await signOut(
                [("csrf", admin.csrf)], extra: [Self.fetchSite: "same-origin", .origin: "null"])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/digest/admin/signin")
            let cleared = try #require(response.headers[.setCookie])
            #expect(cleared.hasPrefix("digest_admin=;"))
            #expect(cookieAttributes(cleared)["max-age"] == "0")
            #expect(cookieAttributes(cleared)["path"] == "/digest/admin")
            // Gone, on every host that shares the store.
            #expect(try fixture.store.adminSession(idHash: admin.idHash, now: clock.now) == nil)
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .unauthorized)
            }
            #expect(try await signOut([("csrf", admin.csrf)]).status == .unauthorized)
            // The other session lives on.
            try await client.execute(uri: "/admin/preview", method: .get, headers: other.headers) {
                #expect($0.status == .ok)
            }
            let audit = try fixture.store.auditLog()
            #expect(audit.map(\.action) == ["admin.signout", "admin.signin", "admin.signin"])
            #expect(audit.first?.actor == "session \(admin.idHash.prefix(8))")
            #expect(audit.first?.clientAddress == "unknown")
        }
    }

    @Test func wrongTokensAreLimitedPerClientAndAudited() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        var settings = settings(clock)
        settings.signInLimit = (3, 60)
        try await fixture.app(settings: settings).test(.router) { client in
            for attempt in ["guess-1", "guess-2", ""] {
                let response = try await client.postSignIn(token: attempt, next: "/admin/preview")
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"digest\"")
                let message = attempt.isEmpty ? "Enter the admin token." : "That is not the admin token."
                #expect(response.text.contains(message))
                #expect(response.text.contains("aria-invalid=\"true\""))
                #expect(response.text.contains("value=\"/admin/preview\""))
                #expect(!response.text.contains(attempt.isEmpty ? "\u{0}" : attempt))
            }
            // Spent: every try waits now, the right token included, so guessing fast gains nothing.
            for token in ["guess-4", WebFixture.token] {
                let response = try await client.postSignIn(token: token)
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "60")
                #expect(response.headers[.setCookie] == nil)
            }
            // Bearer headers draw on the same bucket.
            try await client.execute(
                uri: "/admin/preview", method: .get, headers: [.authorization: "Bearer \(WebFixture.token)"]
            ) { #expect($0.status == .tooManyRequests) }
            clock.advance(20)
            #expect(try await client.postSignIn(token: WebFixture.token).headers[.retryAfter] == "40")
            clock.advance(40)
            let response = try await client.postSignIn(token: WebFixture.token)
            #expect(response.status == .seeOther)
            // A right token takes nothing from the bucket: scripts with it are never limited.
            for _ in 0..<5 {
                try await client.execute(
                    uri: "/admin/preview", method: .get, headers: [.authorization: "Bearer \(WebFixture.token)"]
                ) { #expect($0.status == .ok) }
            }
            let audit = try fixture.store.auditLog()
            let failed = "admin.signin.failed"
            #expect(audit.map(\.action) == ["admin.signin", failed, failed, failed])
            #expect(audit[1].detail == "no token" && audit[2].detail == "wrong token")
            #expect(audit[1].actor == "sign-in form")
            #expect(!audit.contains { $0.detail.contains("guess") })
        }
    }

    @Test func afterSigningInOnlyALocalAdminPageIsADestination() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let cases = [
                ("/admin/preview?date=2026-11-24", "/digest/admin/preview?date=2026-11-24"),
                ("/admin", "/digest/admin"), ("//evil.example/admin/", "/digest/admin/"),
                ("https://evil.example/admin/", "/digest/admin/"), ("/admin/../subscribe", "/digest/admin/"),
                ("/admin/%2e%2e/subscribe", "/digest/admin/"), ("/admin/\\evil.example", "/digest/admin/"),
                ("/admin//evil.example", "/digest/admin/"), ("/adminx", "/digest/admin/"),
                ("/admin/signin", "/digest/admin/"), ("/admin/\r\nSet-Cookie: x=1", "/digest/admin/"),
                ("", "/digest/admin/"),
            ]
            for (next, location) in cases {
                let response = try await client.postSignIn(token: WebFixture.token, next: next)
                #expect(response.headers[.location] == location, "\(next)")
            }
        }
    }

    @Test func withoutAConfiguredTokenNobodySignsIn() async throws {
        let fixture = try SubscriptionFixture()
        let app = try await fixture.app(environment: [fixture.configuration.web.adminTokenEnv: ""])
        try await app.test(.router) { client in
            try await client.execute(uri: "/admin/signin", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.text.contains("Sign-in is off"))
            }
            let response = try await client.postSignIn(token: "")
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.setCookie] == nil)
            // Nothing to sign in to: no redirect to it either.
            try await client.execute(uri: "/admin/preview", method: .get, headers: [.accept: "text/html"]) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    /// GET and HEAD change nothing, whoever asks and wherever: not the sessions, not the audit, not the
    /// readers.
    @Test func getNeverChangesAnything() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        try fixture.add("kept@example.com", status: .active)
        try fixture.add("pending@example.com", status: .pending)
        try await fixture.app(settings: settings(clock)).test(.router) { client in
            let admin = try await client.signInAsAdmin(fixture, now: clock.now)
            func snapshot() throws -> [String] {
                var lines = [
                    "audit \(try fixture.store.auditCount())",
                    "sessions \(try fixture.store.adminSessionCount(now: clock.now))",
                ]
                try fixture.store.exportSubscribers { lines.append($0) }
                return lines
            }
            let before = try snapshot()
            let paths = Self.adminPaths + [
                "/admin/signin", "/admin/signin?next=/admin/preview", "/admin/signout?csrf=\(admin.csrf)",
                "/admin/preview?subscriber=kept@example.com",
            ]
            let credentials: [HTTPFields] = [
                [:], admin.headers, [.authorization: "Bearer \(WebFixture.token)"], [.accept: "text/html"],
                [.cookie: admin.cookie, .accept: "text/html"],
            ]
            for path in paths {
                for headers in credentials {
                    for method in [HTTPRequest.Method.get, .head] {
                        try await client.execute(uri: path, method: method, headers: headers) { response in
                            #expect(response.status.code < 500, "\(method) \(path)")
                            #expect(response.headers[.setCookie] == nil, "\(method) \(path)")
                        }
                    }
                }
            }
            #expect(try snapshot() == before)
            try await client.execute(uri: "/admin/preview", method: .get, headers: admin.headers) {
                #expect($0.status == .ok)
            }
        }
    }

    // MARK: Over real sockets

    /// The loopback admin listener asks no token, but a POST needs its CSRF token (signed, expiring) and
    /// must not come from another site; a Host that is not loopback (DNS rebinding) is refused.
    @Test func theAdminListenerChecksCSRFTokensAndItsHost() async throws {
        let fixture = try SubscriptionFixture()
        let adminPort = Int(FreePort.next())
        try await fixture.app(port: 0, adminListen: .init(host: "127.0.0.1", port: adminPort)).test(.live) { _ in
            #expect(await FreePort.listening(UInt16(adminPort)))
            let base = "http://127.0.0.1:\(adminPort)"
            let now = Date()
            let valid = fixture.signer.csrfToken(for: .adminListener, expires: now + 3600)
            let expired = fixture.signer.csrfToken(for: .adminListener, expires: now - 1)
            let session = fixture.signer.csrfToken(for: .session(idHash: AdminSession.hash("x")), expires: now + 3600)
            func post(_ csrf: String?, headers: [String: String] = [:]) async throws -> CurlProbe {
                try await CurlProbe.request(
                    base + "/admin/preview", method: "POST",
                    headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
                    form: csrf.map { "csrf=\($0)" } ?? "a=b")
            }
            #expect(try await post(nil).status == 403)
            #expect(try await post(expired).status == 403)
            #expect(try await post(session).status == 403)
            #expect(try await post(valid, headers: ["Sec-Fetch-Site": "cross-site"]).status == 403)
            #expect(try await post(valid, headers: ["Origin": "http://evil.example"]).status == 403)
            // Past the check, the router answers: no POST route there.
            #expect(try await post(valid).status == 405)
            #expect(try await post(valid, headers: ["Origin": base, "Sec-Fetch-Site": "same-origin"]).status == 405)
            #expect(try await post(nil, headers: ["X-CSRF-Token": valid]).status == 405)
            // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
            let rebound = try await CurlProbe.request(
                base + "/admin/preview", headers: ["Host": "evil.example:\(adminPort)"])
            #expect(rebound.status == 421)
            #expect(!rebound.body.contains("Preview"))
            let local = try await CurlProbe.request(
                base + "/admin/preview", headers: ["Host": "localhost:\(adminPort)"])
            #expect(local.status == 200)
            #expect(try await CurlProbe.request("http://localhost:\(adminPort)/admin/preview").status == 200)
        }
    }

    /// Behind a trusted proxy: no forwarding header opens anything admin, and each client behind it has
    /// its own limit on wrong tokens (one client guessing does not lock the next out).
    @Test func nothingAdminThroughAProxyAndLimitsPerForwardedClient() async throws {
        let fixture = try SubscriptionFixture()
        var settings = WebSettings()
        settings.signInLimit = (2, 1000)
        try await fixture.app(settings: settings, port: 0, trustedProxies: ["127.0.0.1"]).test(.live) { client in
            let spoofs: [HTTPFields] = [
                [:], ProxyTests.headers([("X-Forwarded-For", "127.0.0.1")]),
                ProxyTests.headers([("X-Real-IP", "127.0.0.1")]), ProxyTests.headers([("Forwarded", "for=127.0.0.1")]),
                ProxyTests.headers([("Via", "1.1 localhost")]),
            ]
            for headers in spoofs {
                for path in ["/admin/preview", "/admin/nothing-here", "/admin/signout", "//admin/preview"] {
                    for method in [HTTPRequest.Method.get, .post, .delete] {
                        try await client.execute(uri: path, method: method, headers: headers) {
                            #expect($0.status == .unauthorized, "\(method) \(path) \(headers)")
                        }
                    }
                }
            }
            func signIn(_ token: String, from forwarded: String) async throws -> HTTPResponse.Status {
                let headers = ProxyTests.headers([("X-Forwarded-For", forwarded)])
                return try await client.postSignIn(token: token, headers: headers).status
            }
            #expect(try await signIn("wrong", from: "198.51.100.1") == .unauthorized)
            #expect(try await signIn("wrong", from: "198.51.100.1") == .unauthorized)
            #expect(try await signIn("wrong", from: "198.51.100.1") == .tooManyRequests)
            #expect(try await signIn("wrong", from: "192.0.2.9, 198.51.100.1") == .tooManyRequests)
            #expect(try await signIn("wrong", from: "198.51.100.2") == .unauthorized)
            #expect(try await signIn(WebFixture.token, from: "198.51.100.3") == .seeOther)
            let audit = try fixture.store.auditLog()
            #expect(audit.first?.clientAddress == "198.51.100.3")
            #expect(audit.filter { $0.action == "admin.signin.failed" }.map(\.clientAddress)
                == ["198.51.100.2", "198.51.100.1", "198.51.100.1"])
        }
    }

    /// The real `digest serve`, over a socket, as a browser sees it: sign in, the cookie, a page with it,
    /// sign out.
    @Test func signingInAndOutOfARealServer() async throws {
        let harness = ServeHarness("admin-signin")
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil)
        let token = "serve-admin-token-0123456789"
        let server = try await harness.started(
            config, port: port, log: harness.directory.file("serve.log"), environment: ["DIGEST_ADMIN_TOKEN": token])
        defer { server.stop() }
        let base = server.base
        #expect(try await CurlProbe.request(base + "/admin/preview").status == 401)
        let browser = try await CurlProbe.request(base + "/admin/preview", headers: ["Accept": "text/html"])
        #expect(browser.status == 303)
        #expect(browser.headers["location"] == "/admin/signin?next=/admin/preview")
        let form = try await CurlProbe.request(base + "/admin/signin?next=/admin/preview")
        #expect(form.status == 200 && form.body.contains("Admin token"))

        let wrong = try await CurlProbe.request(
            base + "/admin/signin", method: "POST", form: "token=nope&next=/admin/preview")
        #expect(wrong.status == 401)
        let signedIn = try await CurlProbe.request(
            base + "/admin/signin", method: "POST", form: "token=\(token)&next=%2Fadmin%2Fpreview")
        #expect(signedIn.status == 303)
        #expect(signedIn.headers["location"] == "/admin/preview")
        let setCookie = try #require(signedIn.headers["set-cookie"])
        let attributes = cookieAttributes(setCookie)
        #expect(attributes["httponly"] == "" && attributes["samesite"] == "Strict")
        #expect(attributes["path"] == "/admin" && attributes["max-age"] == "43200")
        // http://127.0.0.1: no Secure (the browser would not send it back over http).
        #expect(attributes["secure"] == nil)
        let cookie = try #require(cookiePair(setCookie))

        let page = try await CurlProbe.request(base + "/admin/preview", headers: ["Cookie": cookie])
        #expect(page.status == 200 && page.body.contains("Preview:"))
        let noToken = try await CurlProbe.request(
            base + "/admin/signout", method: "POST", headers: ["Cookie": cookie], form: "x=1")
        #expect(noToken.status == 403)

        let store = try Store(path: harness.directory.file("digest.sqlite"), create: false)
        defer { store.close() }
        let value = String(cookie.dropFirst("digest_admin=".count))
        let id = try #require(AdminSession.id(inCookie: value, adminToken: token))
        let session = try #require(try store.adminSession(idHash: AdminSession.hash(id), now: Date()))
        #expect(session.clientAddress == "127.0.0.1")
        let csrf = try LinkSigner(secret: ServeHarness.secret)
            .csrfToken(for: .session(idHash: session.idHash), expires: session.expiresAt)
        let signedOut = try await CurlProbe.request(
            base + "/admin/signout", method: "POST", headers: ["Cookie": cookie], form: "csrf=\(csrf)")
        #expect(signedOut.status == 303)
        #expect(signedOut.headers["set-cookie"]?.contains("Max-Age=0") == true)
        #expect(try await CurlProbe.request(base + "/admin/preview", headers: ["Cookie": cookie]).status == 401)
        #expect(try store.auditLog().map(\.action) == ["admin.signout", "admin.signin", "admin.signin.failed"])
    }
}
