import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// The items API reads records with the same parser and text rule as `digest import`.
@Suite struct ItemsAPIImportRulesTests {
    @Test func htmlAndBidiControlsAreStrippedAndImpossibleDatesRefused() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            let record = #"{"kind":"story","title":"Sale \u202E2027","url":"https://a.example/rlo","#
                + #""summary":"<p>Now &amp; <b>here</b></p>","author":"\u2066Al\u2069","publishedAt":"2026-11-24T07:30:00Z"}"#
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(record)) {
                #expect($0.status == .ok)
            }
            let impossible = itemJSON("https://a.example/feb30", publishedAt: "2021-02-30T10:00:00Z")
            try await client.execute(uri: "/api/items", method: .post, headers: authorized, body: body(impossible)) {
                response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["field"] as? String == "publishedAt")
                #expect((object(response)?["error"] as? String)?.contains("there is no day 30 in February 2021") == true)
            }
        }
        let item = try #require(try fixture.store.item(url: "https://a.example/rlo"))
        #expect(item.title == "Sale 2027" && item.summary == "Now & here" && item.author == "Al")
        #expect(try fixture.store.item(url: "https://a.example/feb30") == nil)
    }
}
