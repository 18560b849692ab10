import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

@Suite struct ItemsAPITests {
    @Test func authorization() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/items", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"digest\"")
                #expect(object(response)?["error"] as? String == "an Authorization: Bearer token is required")
            }
            for header in [
                "Bearer wrong", "Bearer s3cret-token-and-more", "Bearer s3cret-toke", "Basic s3cret-token", "Bearer",
            ] {
                try await client.execute(uri: "/api/items", method: .get, headers: [.authorization: header]) {
                    #expect($0.status == .unauthorized, "\(header)")
                }
            }
            try await client.execute(
                uri: "/api/items", method: .post, headers: [.authorization: "Bearer nope"],
                body: body(itemJSON("https://a.example/1"))
            ) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/api/items", method: .get, headers: authorized) { response in
                #expect(response.status == .ok)
                #expect(array(response)?.isEmpty == true)
            }
        }
        #expect(try fixture.store.itemCount() == 0)
    }

    @Test func withoutATokenTheAPIIsOff() async throws {
        let fixture = try WebFixture()
        try await fixture.app(token: nil).test(.router) { client in
            try await client.execute(uri: "/api/items", method: .get, headers: authorized) { response in
                #expect(response.status == .serviceUnavailable)
                #expect((object(response)?["error"] as? String)?.contains("DIGEST_ADMIN_TOKEN") == true)
            }
        }
    }

    @Test func postUpsertsOneOrManyAndUpdatesVotes() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/api/items", method: .post, headers: authorized,
                body: body(itemJSON("https://a.example/1", votes: 3))
            ) { response in
                #expect(response.status == .ok)
                #expect(object(response) as? [String: Int] == ["inserted": 1, "updated": 0])
            }
            let many =
                "[\(itemJSON("https://a.example/1", votes: 10)), \(itemJSON("https://a.example/2", kind: "post"))]"
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(many)) {
                response in
                #expect(response.status == .ok)
                #expect(object(response) as? [String: Int] == ["inserted": 1, "updated": 1])
            }
        }
        #expect(try fixture.store.item(url: "https://a.example/1")?.votes == 10)
        #expect(try fixture.store.item(url: "https://a.example/2")?.kind == .post)
    }

    @Test func validationErrorsNameTheRecordAndField() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            let badURL =
                #"[\#(itemJSON("https://a.example/1")), {"kind": "story", "title": "x", "url": "ftp://nope", "publishedAt": "2026-11-24T07:30:00Z"}]"#
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(badURL)) {
                response in
                #expect(response.status == .unprocessableContent)
                let reply = object(response)
                #expect(reply?["index"] as? Int == 1)
                #expect(reply?["field"] as? String == "url")
                #expect((reply?["error"] as? String)?.contains("http(s) URL") == true)
            }
            let noDate = #"{"kind": "story", "title": "x", "url": "https://a.example/3"}"#
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(noDate)) {
                response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["field"] as? String == "publishedAt")
                #expect(object(response)?["index"] as? Int == 0)
            }
            let typo =
                #"{"kind": "story", "title": "x", "url": "https://a.example/3", "publishedAt": "2026-11-24T07:30:00Z", "vots": 3}"#
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(typo)) {
                response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["field"] as? String == "vots")
            }
            let twice = "[\(itemJSON("https://a.example/1")), \(itemJSON("https://a.example/1"))]"
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(twice)) {
                response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["error"] as? String == "same url as record 0")
            }
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body("[{]")) {
                response in
                #expect(response.status == .badRequest)
                #expect((object(response)?["error"] as? String)?.hasPrefix("not valid JSON") == true)
            }
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body("42")) {
                response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(try fixture.store.itemCount() == 0)
    }

    @Test func votesAreSetOrAdded() async throws {
        let fixture = try WebFixture()
        try fixture.store.upsert([
            ItemDraft(kind: .story, title: "A", url: "https://a.example/1", publishedAt: Date(), votes: 5),
            ItemDraft(kind: .story, title: "B", url: "https://a.example/2", publishedAt: Date(), votes: 1),
        ])
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/api/items/votes", method: .post, headers: authorized,
                body: body(#"{"url": "https://a.example/1", "votes": 40}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(object(response)?["updated"] as? Int == 1)
            }
            let batch = #"[{"url": "https://a.example/1", "add": 2}, {"url": "https://a.example/2", "add": -5}]"#
            try await client.execute(uri: "/api/items/votes", method: .post, headers: authorized, body: body(batch)) {
                response in
                #expect(response.status == .ok)
                let items = object(response)?["items"] as? [[String: Any]]
                #expect(items?.compactMap { $0["votes"] as? Int } == [42, 0])
            }
            // An unknown url refuses the whole batch: the first change is rolled back.
            let unknown = #"[{"url": "https://a.example/1", "add": 1}, {"url": "https://a.example/404", "votes": 1}]"#
            try await client.execute(uri: "/api/items/votes", method: .post, headers: authorized, body: body(unknown)) {
                response in
                #expect(response.status == .notFound)
                #expect(object(response)?["index"] as? Int == 1)
                #expect(object(response)?["field"] as? String == "url")
            }
            try await client.execute(
                uri: "/api/items/votes", method: .post, headers: authorized,
                body: body(#"{"url": "https://a.example/1", "votes": 1, "add": 1}"#)
            ) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(
                uri: "/api/items/votes", method: .post, headers: authorized,
                body: body(#"{"url": "https://a.example/1", "votes": -1}"#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["field"] as? String == "votes")
            }
        }
        #expect(try fixture.store.item(url: "https://a.example/1")?.votes == 42)
        #expect(try fixture.store.item(url: "https://a.example/2")?.votes == 0)
    }

    @Test func listFiltersBySince() async throws {
        let fixture = try WebFixture()
        try fixture.store.upsert([
            ItemDraft(
                kind: .story, title: "Old", url: "https://a.example/old",
                publishedAt: DateParsing.iso8601("2026-11-20T00:00:00Z")!),
            ItemDraft(
                kind: .post, title: "New", url: "https://a.example/new",
                publishedAt: DateParsing.iso8601("2026-11-24T00:00:00Z")!, votes: 7),
        ])
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/items?since=2026-11-23T00:00:00Z", method: .get, headers: authorized) {
                response in
                #expect(response.status == .ok)
                let items = array(response)
                #expect(items?.map { $0["url"] as? String } == ["https://a.example/new"])
                #expect(items?.first?["votes"] as? Int == 7)
                #expect(items?.first?["publishedAt"] as? String == "2026-11-24T00:00:00Z")
            }
            try await client.execute(uri: "/api/items", method: .get, headers: authorized) { response in
                #expect(array(response)?.count == 2)
            }
            try await client.execute(uri: "/api/items?since=yesterday", method: .get, headers: authorized) { response in
                #expect(response.status == .badRequest)
                #expect(object(response)?["field"] as? String == "since")
            }
        }
    }

    @Test func bodiesOverTheLimitAreRefused() async throws {
        let fixture = try WebFixture()
        let large = "[" + (0..<9000).map { itemJSON("https://a.example/\($0)") }.joined(separator: ",") + "]"
        #expect(large.utf8.count > 1024 * 1024)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(large)) {
                response in
                #expect(response.status == .contentTooLarge)
                #expect((object(response)?["error"] as? String)?.contains("larger than") == true)
            }
        }
        #expect(try fixture.store.itemCount() == 0)
    }

    @Test func overARealSocket() async throws {
        let fixture = try WebFixture()
        try await fixture.app(port: 0).test(.live) { client in
            try await client.execute(
                uri: "/api/items", method: .post, headers: authorized, body: body(itemJSON("https://a.example/live"))
            ) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/items", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/items", method: .get, headers: authorized) { response in
                #expect(array(response)?.first?["url"] as? String == "https://a.example/live")
            }
        }
    }
}
