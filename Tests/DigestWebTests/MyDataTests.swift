import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// "Download my data" and "delete me" behind the preferences link: the download is everything stored about
/// the reader and changes nothing; following the delete link (as a mail scanner does, GET and HEAD) deletes
/// nothing; the button on that page erases the reader as `subscribers remove` does.
@Suite struct MyDataTests {
    @Test func aReaderDownloadsTheirDataThenDeletesThemselves() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("leaving@example.com", status: .active)
        let other = try fixture.add("staying@example.com", status: .active)
        _ = try fixture.store.recordBounce(
            BounceEvent(
                reportKey: "arf-1", recipient: "leaving@example.com", kind: .complaint, subscriberID: reader.id!,
                deliveryID: nil, status: "abuse", reason: "spam button", source: "import"),
            bounceLimit: 3, now: Date())
        let token = fixture.token(.preferences, reader)
        try await fixture.app().test(.router) { client in
            let page = try await client.execute(uri: "/preferences?token=\(token)", method: .get) { $0.text }
            #expect(page.contains("href=\"preferences/data?token=\(token)\""))
            #expect(page.contains("href=\"preferences/delete?token=\(token)\""))

            let data = try await client.execute(uri: "/preferences/data?token=\(token)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"digest-data-") == true)
                return response.text
            }
            let json = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
            #expect((json["subscriber"] as? [String: Any])?["email"] as? String == "leaving@example.com")
            let bounces = json["bounces"] as? [[String: Any]] ?? []
            #expect(bounces.map { $0["kind"] as? String } == ["complaint"])
            #expect(bounces.first?["reason"] as? String == "spam button")
            for key in ["deliveries", "mails", "adminActions", "votes", "exportedAt"] { #expect(json[key] != nil, "\(key)") }
            #expect(!data.contains("staying@example.com"))

            // What a mail scanner does with every link: nothing is deleted.
            for method in [HTTPRequest.Method.get, .head] {
                try await client.execute(uri: "/preferences/delete?token=\(token)", method: method) {
                    #expect($0.status == .ok)
                }
            }
            #expect(try fixture.subscriber("leaving@example.com") != nil)
            let confirm = try await client.execute(uri: "/preferences/delete?token=\(token)", method: .get) { $0.text }
            #expect(confirm.contains("<form method=\"post\" action=\"delete?token=\(token)\">"))

            // A token of another purpose deletes nothing.
            let unsubscribe = fixture.token(.unsubscribe, reader)
            try await client.execute(
                uri: "/preferences/delete?token=\(unsubscribe)", method: .post, headers: formHeaders, body: form([])
            ) { #expect($0.status == .badRequest) }

            try await client.execute(
                uri: "/preferences/delete?token=\(token)", method: .post, headers: formHeaders, body: form([("token", token)])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<h1>Deleted</h1>"))
            }
            #expect(try fixture.subscriber("leaving@example.com") == nil)
            #expect(try fixture.store.subscriberDetail(id: reader.id!) == nil)
            #expect(try fixture.subscriber("staying@example.com")?.id == other.id)
            // The link now belongs to no one.
            try await client.execute(uri: "/preferences/data?token=\(token)", method: .get) { #expect($0.status == .notFound) }
        }
    }
}
