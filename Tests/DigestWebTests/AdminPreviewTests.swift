import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

@Suite struct AdminPreviewTests {
    static let item =
        #"{"kind": "story", "title": "Votes & <tags>", "url": "https://a.example/1", "publishedAt": "2026-11-24T01:00:00Z", "votes": 5}"#

    @Test func previewNeedsTheBearerTokenFromElsewhere() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.add("r@example.com", status: .active)
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
                #expect(page.contains("<pre>"))
                #expect(page.contains("Votes &amp; &lt;tags&gt;"))
                #expect(page.contains(" bytes ("))
                // baseURL of the example is https, so no warning about one-click.
                #expect(response.headers[.contentSecurityPolicy]?.contains("img-src https: data:") == true)
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
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

    @Test func withoutATokenOnlyLoopbackGetsIn() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app(environment: [fixture.configuration.web.adminTokenEnv: ""], port: 0).test(.live) {
            client in
            // Over a real socket from 127.0.0.1: allowed without a token.
            try await client.execute(uri: "/admin/preview?date=2026-11-24", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Preview: 2026-11-24"))
            }
            // The same through a reverse proxy on this machine: refused.
            try await client.execute(
                uri: "/admin/preview?date=2026-11-24", method: .get, headers: [.init("X-Forwarded-For")!: "203.0.113.9"]
            ) { #expect($0.status == .unauthorized) }
        }
        // And in-process (no peer) without a configured token: refused.
        try await fixture.app(environment: [fixture.configuration.web.adminTokenEnv: ""]).test(.router) { client in
            try await client.execute(uri: "/admin/preview", method: .get, headers: authorized) {
                #expect($0.status == .unauthorized)
            }
        }
    }
}
