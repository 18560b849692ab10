import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// Confirm, unsubscribe and preferences: GET never changes anything, POST does, bad tokens change nothing.
@Suite struct LinkPageTests {
    @Test func confirmGetShowsAButtonAndPostActivates() async throws {
        let fixture = try SubscriptionFixture()
        let pending = try fixture.add("p@example.com", status: .pending)
        let token = fixture.token(.confirm, pending, expires: Date() + 3600)
        try await fixture.app().test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/confirm?token=\(token)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("<form method=\"post\" action=\"confirm\">"))
                    #expect(response.text.contains("value=\"\(token)\""))
                }
            }
            #expect(try fixture.subscriber("p@example.com")?.status == .pending)
            try await client.execute(
                uri: "/confirm", method: .post, headers: formHeaders, body: form([("token", token)])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("You are subscribed"))
            }
        }
        let active = try #require(try fixture.subscriber("p@example.com"))
        #expect(active.status == .active)
        #expect(active.confirmedAt != nil)
    }

    @Test func badConfirmTokensChangeNothing() async throws {
        let fixture = try SubscriptionFixture()
        let pending = try fixture.add("p@example.com", status: .pending)
        let other = try fixture.add("q@example.com", status: .pending)
        let good = fixture.token(.confirm, pending, expires: Date() + 3600)
        let foreign = try LinkSigner(secret: "another-secret-0123456789")
            .token(.confirm, subscriberID: pending.id!, email: pending.email, expires: Date() + 3600)
        var tampered = Array(good)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
        let cases: [(String, String, HTTPResponse.Status)] = [
            ("tampered", String(tampered), .badRequest),
            ("other secret", foreign, .badRequest),
            ("wrong purpose", fixture.token(.unsubscribe, pending), .badRequest),
            ("preferences purpose", fixture.token(.preferences, pending), .badRequest),
            ("other subscriber's id", good.replacingOccurrences(of: "\(pending.id!).", with: "\(other.id!)."), .badRequest),
            ("expired", fixture.token(.confirm, pending, expires: Date() - 60), .badRequest),
            ("unknown subscriber", "999.0.AAAA", .notFound),
            ("garbage", "garbage", .badRequest),
            ("empty", "", .badRequest),
        ]
        try await fixture.app().test(.router) { client in
            for (label, token, status) in cases {
                try await client.execute(uri: "/confirm?token=\(token)", method: .get) {
                    #expect($0.status == status, "GET \(label)")
                }
                try await client.execute(
                    uri: "/confirm", method: .post, headers: formHeaders, body: form([("token", token)])
                ) { response in
                    #expect(response.status == status, "POST \(label)")
                    #expect(!response.text.contains("You are subscribed"))
                }
            }
            try await client.execute(uri: "/confirm", method: .get) { #expect($0.status == .badRequest) }
        }
        #expect(try fixture.subscriber("p@example.com")?.status == .pending)
        #expect(try fixture.subscriber("q@example.com")?.status == .pending)
    }

    @Test func anOldConfirmLinkDoesNotResubscribe() async throws {
        let fixture = try SubscriptionFixture()
        let gone = try fixture.add("gone@example.com", status: .unsubscribed)
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/confirm", method: .post, headers: formHeaders,
                body: form([("token", fixture.token(.confirm, gone, expires: Date() + 3600))])
            ) { #expect($0.status == .badRequest) }
        }
        #expect(try fixture.subscriber("gone@example.com")?.status == .unsubscribed)
    }

    @Test func unsubscribeGetShowsAButtonAndOneClickPostUnsubscribes() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("r@example.com", status: .active)
        let token = fixture.token(.unsubscribe, reader)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("action=\"unsubscribe?token=\(token)\""))
            }
            #expect(try fixture.subscriber("r@example.com")?.status == .active)
            try await client.execute(
                uri: "/unsubscribe?token=\(token)", method: .post, headers: formHeaders,
                body: ByteBuffer(string: "List-Unsubscribe=One-Click")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("You are unsubscribed"))
            }
            // A second POST (a provider retrying) is fine too.
            try await client.execute(
                uri: "/unsubscribe?token=\(token)", method: .post, headers: formHeaders,
                body: ByteBuffer(string: "List-Unsubscribe=One-Click")
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { response in
                #expect(response.text.contains("Already unsubscribed"))
            }
        }
        let gone = try #require(try fixture.subscriber("r@example.com"))
        #expect(gone.status == .unsubscribed)
        #expect(gone.unsubscribedAt != nil)
    }

    @Test func unsubscribeButtonWithTheTokenInTheBodyWorks() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("r@example.com", status: .pending)
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/unsubscribe", method: .post, headers: formHeaders,
                body: form([("token", fixture.token(.unsubscribe, reader))])
            ) { #expect($0.status == .ok) }
        }
        #expect(try fixture.subscriber("r@example.com")?.status == .unsubscribed)
    }

    @Test func badUnsubscribeTokensChangeNothing() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("r@example.com", status: .active)
        let good = fixture.token(.unsubscribe, reader)
        let cases: [(String, HTTPResponse.Status)] = [
            (String(good.dropLast(2)) + "xx", .badRequest),
            (fixture.token(.confirm, reader, expires: Date() + 3600), .badRequest),
            (fixture.token(.preferences, reader), .badRequest),
            ("\(reader.id! + 100).0.AAAA", .notFound),
            ("", .badRequest),
        ]
        try await fixture.app().test(.router) { client in
            for (token, status) in cases {
                try await client.execute(
                    uri: "/unsubscribe?token=\(token)", method: .post, headers: formHeaders,
                    body: ByteBuffer(string: "List-Unsubscribe=One-Click")
                ) { #expect($0.status == status, "\(token)") }
                try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) {
                    #expect($0.status == status, "\(token)")
                }
            }
        }
        #expect(try fixture.subscriber("r@example.com")?.status == .active)
    }

    @Test func preferencesShowAndSave() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("r@example.com", status: .active)
        let token = fixture.token(.preferences, reader)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/preferences?token=\(token)", method: .get) { response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains("name=\"timeZone\""))
                #expect(page.contains("name=\"deliveryHour\""))
                #expect(page.contains("<option value=\"Europe/Berlin\">"))
                #expect(page.contains("id=\"section-story\" name=\"sections\" value=\"story\" checked"))
            }
            #expect(try fixture.subscriber("r@example.com")?.timeZone == nil)
            let fields = [
                ("token", token), ("sections", "post"), ("format", "text"), ("timeZone", "Europe/Berlin"),
                ("deliveryHour", "7"),
            ]
            try await client.execute(uri: "/preferences", method: .post, headers: formHeaders, body: form(fields)) {
                response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Your preferences are saved"))
                #expect(response.text.contains("<option value=\"7\" selected>07:00</option>"))
            }
        }
        let saved = try #require(try fixture.subscriber("r@example.com"))
        #expect(saved.sections == [.post])
        #expect(saved.format == .text)
        #expect(saved.timeZone == "Europe/Berlin")
        #expect(saved.deliveryHour == 7)
        #expect(saved.status == .active)
    }

    @Test func preferencesAreValidatedFieldByField() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("r@example.com", status: .active)
        let token = fixture.token(.preferences, reader)
        var characters = Array(token)
        characters[characters.count - 10] = characters[characters.count - 10] == "A" ? "B" : "A"
        let tampered = String(characters)
        var settings = WebSettings()
        settings.addressLimit = (100, 1)
        let good: [String: String] = ["sections": "story", "format": "html", "timeZone": "", "deliveryHour": ""]
        let bad: [(String, String, String)] = [
            ("timeZone", "Mars/Olympus_Mons", "timeZone-error"),
            ("deliveryHour", "24", "deliveryHour-error"),
            ("deliveryHour", "seven", "deliveryHour-error"),
            ("format", "pdf", "format-error"),
            ("sections", "weather", "sections-error"),
        ]
        try await fixture.app(settings: settings).test(.router) { client in
            for (field, value, errorID) in bad {
                var fields = good
                fields[field] = value
                try await client.execute(
                    uri: "/preferences", method: .post, headers: formHeaders,
                    body: form([("token", token)] + fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                ) { response in
                    #expect(response.status == .unprocessableContent, "\(field)=\(value)")
                    #expect(response.text.contains("id=\"\(errorID)\""), "\(field)=\(value)")
                    #expect(response.text.contains("aria-describedby=\""), "\(field)=\(value)")
                }
            }
            // No section at all.
            try await client.execute(
                uri: "/preferences", method: .post, headers: formHeaders,
                body: form([("token", token), ("format", "html")])
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("Choose at least one section"))
            }
            // A token for another purpose or a tampered one.
            for other in [fixture.token(.unsubscribe, reader), tampered] {
                try await client.execute(uri: "/preferences?token=\(other)", method: .get) {
                    #expect($0.status == .badRequest)
                }
                try await client.execute(
                    uri: "/preferences", method: .post, headers: formHeaders,
                    body: form([("token", other), ("sections", "post"), ("format", "text")])
                ) { #expect($0.status == .badRequest) }
            }
        }
        let unchanged = try #require(try fixture.subscriber("r@example.com"))
        #expect(unchanged.sections == reader.sections && unchanged.format == reader.format)
        #expect(unchanged.timeZone == nil && unchanged.deliveryHour == nil)
    }
}
