import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// HEAD wherever GET answers, 405 with `Allow` for a wrong method, and a 404 page from the templates.
@Suite struct MethodTests {
    @Test func headAnswersLikeGetWithoutABodyOverARealSocket() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("head@example.com", status: .active)
        let unsubscribe = "/unsubscribe?token=\(fixture.token(.unsubscribe, reader))"
        try await fixture.app(port: 0).test(.live) { client in
            for path in ["/subscribe", unsubscribe] {
                let get = try await client.execute(uri: path, method: .get) { $0 }
                try await client.execute(uri: path, method: .head) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.headers[.contentSecurityPolicy] != nil)
                    // The form's question differs per request; the unsubscribe page is the same bytes.
                    #expect(response.headers[.contentLength] != nil)
                    if path == unsubscribe { #expect(response.headers[.contentLength] == get.headers[.contentLength]) }
                }
            }
            // HEAD changes nothing: the reader is still subscribed.
            #expect(try fixture.subscriber("head@example.com")?.status == .active)
            try await client.execute(uri: "/unsubscribe?token=1.0.forged", method: .head) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/subscribe", .put, "GET, HEAD, POST"), ("/subscribe", .delete, "GET, HEAD, POST"),
                ("/confirm", .patch, "GET, HEAD, POST"), ("/admin/preview", .post, "GET, HEAD"),
                ("/api/items/votes", .put, "GET, HEAD, POST"),
            ]
            for (path, method, allow) in cases {
                // Admin URLs ask for credentials before anything else (AdminSecurityTests): with them, the
                // same 405.
                let headers: HTTPFields = path.hasPrefix("/admin") ? [.authorization: "Bearer \(WebFixture.token)"] : [:]
                try await client.execute(uri: path, method: method, headers: headers) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allow, "\(method) \(path)")
                    #expect(response.text.contains("Not allowed here"))
                    #expect(response.headers[.contentSecurityPolicy] != nil)
                }
            }
        }
    }

    @Test func unknownPathsGetA404PageFromTheTemplates() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            for (path, method) in [("/nothing-here", HTTPRequest.Method.get), ("/subscribe/extra", .post), ("/wp-login.php", .get)] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.text.contains("Page not found"))
                    #expect(response.text.contains("<a href=\"subscribe\">"))
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                }
            }
            try await client.execute(uri: "/nothing-here", method: .head) { response in
                #expect(response.status == .notFound)
                #expect(response.body.readableBytes == 0)
            }
        }
    }
}
