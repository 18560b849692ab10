import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import DigestTestSupport
import Testing

@testable import DigestWeb

@Suite struct AdminPreviewTests {
    static let item =
        #"{"kind": "story", "title": "Votes & <tags>", "url": "https://a.example/1", "publishedAt": "2026-11-24T01:00:00Z", "votes": 5}"#

    @Test func previewNeedsTheBearerTokenFromElsewhere() async throws {
        let fixture = try SubscriptionFixture()
        try fixture.add("r@example.com", status: .active)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(Self.item)) {
                #expect($0.status == .ok)
            }
            // In-process requests have no peer address: not loopback, so a token is needed.
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"digest\"")
                #expect(!response.text.contains("Votes"))
            }
            for header in ["Bearer wrong", "Basic s3cret-token", "Bearer"] {
                try await client.execute(
                    uri: "/admin/preview?date=2026-11-24", method: .get, headers: [.authorization: header]
                ) { #expect($0.status == .unauthorized, "\(header)") }
            }
            try await client.execute(
                uri: "/admin/preview?date=2026-11-24&subscriber=r@example.com", method: .get, headers: authorized
            ) { response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains("<iframe title=\"HTML version of the digest\" sandbox=\"\" srcdoc=\""))
                // The digest's HTML is escaped once more inside srcdoc: nothing of it runs in the page.
                #expect(page.contains("Votes &amp;amp; &amp;lt;tags&amp;gt;"))
                #expect(page.contains(" bytes ("))
                // The text part and the raw message are one link away.
                #expect(page.contains("href=\"preview?date=2026-11-24&amp;subscriber=r@example.com&amp;show=text\""))
                // baseURL of the example is https, so no warning about one-click.
                #expect(response.headers[.contentSecurityPolicy]?.contains("img-src https: data:") == true)
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            }
            try await client.execute(
                uri: "/admin/preview?date=2026-11-24&subscriber=r@example.com&show=text", method: .get, headers: authorized
            ) { response in
                #expect(response.text.contains("<pre>"))
                #expect(response.text.contains("Votes &amp; &lt;tags&gt;"))
                #expect(!response.text.contains("<iframe"))
            }
            try await client.execute(
                uri: "/admin/preview?date=2026-11-24&subscriber=r@example.com&show=raw", method: .get, headers: authorized
            ) { response in
                #expect(response.text.contains("Message-ID: &lt;"))
                #expect(response.text.contains("Content-Type: multipart/alternative"))
            }
            try await client.execute(uri: "/admin/preview?date=24.11.2026", method: .get, headers: authorized) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(
                uri: "/admin/preview?subscriber=nobody@example.com", method: .get, headers: authorized
            ) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/admin/preview", method: .get, headers: authorized) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("a sample reader"))
            }
        }
    }

    /// Over a real socket from 127.0.0.1, the way a reverse proxy on the same machine connects: no
    /// header opens the admin pages without the token, and asking about an address tells nothing.
    @Test(arguments: [
        ("none", ""), ("X-Real-IP", "203.0.113.9"), ("Forwarded", "for=203.0.113.9;proto=https"),
        ("X-Forwarded-For", "203.0.113.9"), ("Via", "1.1 proxy.example"),
    ])
    func publicListenerNeverServesAdminPagesWithoutTheToken(_ header: String, _ value: String) async throws {
        let fixture = try SubscriptionFixture()
        try fixture.add("victim@example.com", status: .active)
        let headers: HTTPFields = header == "none" ? [:] : [HTTPFields.Element.Name(header)!: value]
        try await fixture.app(port: 0).test(.live) { client in
            var pages: [String] = []
            for query in ["date=2026-11-24", "subscriber=victim@example.com", "subscriber=nobody@example.com"] {
                let page = try await client.execute(uri: "/admin/preview?\(query)", method: .get, headers: headers) {
                    response in
                    #expect(response.status == .unauthorized, "\(header) \(query)")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"digest\"")
                    #expect(!response.text.contains("unsubscribe?token="))
                    return response.text
                }
                pages.append(page)
            }
            // Subscribed or not, the refusal is the same page.
            #expect(Set(pages).count == 1)
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .head, headers: headers) {
                #expect($0.status == .unauthorized)
            }
            var authorizedHeaders = headers
            authorizedHeaders[.authorization] = "Bearer \(WebFixture.token)"
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get, headers: authorizedHeaders) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func withoutAConfiguredTokenThePublicListenerRefusesEveryone() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app(environment: [fixture.configuration.web.adminTokenEnv: ""], port: 0).test(.live) {
            client in
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/admin/preview", method: .get, headers: [.authorization: "Bearer "]) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    /// `web.adminListen`: the admin pages without a token on a loopback port of their own, which serves
    /// nothing else; the public port still asks for the token.
    @Test func adminListenerServesAdminPagesOnLoopbackOnly() async throws {
        let fixture = try SubscriptionFixture()
        let adminPort = Int(FreePort.next())
        try await fixture.app(port: 0, adminListen: .init(host: "127.0.0.1", port: adminPort)).test(.live) { client in
            #expect(await FreePort.listening(UInt16(adminPort)))
            let admin = Browser(base: "http://127.0.0.1:\(adminPort)")
            let (status, page) = try await admin.get("/admin/preview?date=2026-11-24")
            #expect(status == 200)
            #expect(page.contains("Preview: 2026-11-24"))
            #expect(try await admin.get("/subscribe").0 == 404)
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func adminListenMustBeLoopback() throws {
        let directory = TemporaryDirectory("admin-listen")
        for (value, accepted) in [("127.0.0.1:8081", true), ("[::1]:9000", true), ("0.0.0.0:8081", false),
                                  ("203.0.113.9:8081", false), ("127.0.0.1", false), ("", true)] {
            let file = directory.write(
                "config-\(accepted)-\(value.count).json",
                #"{"site": {"name": "S", "url": "https://s.example"}, "database": "d.sqlite", "mail": {"from": "a@s.example", "transport": "maildir"}, "web": {"adminListen": "\#(value)"}}"#)
            if accepted {
                #expect(throws: Never.self) { try Configuration.load(path: file) }
            } else {
                #expect(throws: ConfigurationError.self, "\(value)") { try Configuration.load(path: file) }
            }
        }
    }
}
