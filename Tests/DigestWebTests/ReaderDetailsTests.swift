import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// The small things readers meet: where to leave, which zone an hour is in, what "no section" means,
/// which addresses are one reader.
@Suite struct ReaderDetailsTests {
    @Test func preferencesLinkToUnsubscribeAndNameTheTimeZone() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.add("zone@example.com", status: .active)
        try await fixture.app().test(.router) { client in
            let page = try await client.execute(
                uri: "/preferences?token=\(fixture.token(.preferences, reader))", method: .get
            ) { $0.text }
            let link = try #require(page.firstMatch(of: /href="(unsubscribe\?token=[^"]+)"/)).1
            #expect(page.contains("In your time zone: Asia/Amman (the site&#39;s)") || page.contains("In your time zone: Asia/Amman (the site"))
            try await client.execute(uri: "/" + String(link), method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Unsubscribe"))
            }
            var moved = reader
            moved.timeZone = "America/New_York"
            try fixture.store.update(moved)
            let own = try await client.execute(
                uri: "/preferences?token=\(fixture.token(.preferences, moved))", method: .get
            ) { $0.text }
            #expect(own.contains("In your time zone: America/New_York."))
        }
    }

    /// The page's form with every box unticked: the same answer as the preferences form gives.
    @Test func signingUpWithNoSectionTickedIsAnError() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("none@example.com", extra: [("sections", "")]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("Choose at least one section."))
                #expect(response.text.contains("id=\"sections-error\""))
            }
            // A form that leaves the field out altogether still means every section (the field contract).
            try await client.signUp("all@example.com") { #expect($0.status == .ok) }
            try await client.signUp("story@example.com", extra: [("sections", ""), ("sections", "story")]) {
                #expect($0.status == .ok)
            }
        }
        #expect(try fixture.subscriber("none@example.com") == nil)
        #expect(try fixture.subscriber("all@example.com")?.sections == [])
        #expect(try fixture.subscriber("story@example.com")?.sections == [.story])
    }

    @Test func ipLiteralAddressesAreRefused() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            for address in ["me@[127.0.0.1]", "me@[IPv6:::1]"] {
                try await client.signUp(address) { response in
                    #expect(response.status == .unprocessableContent, "\(address)")
                    #expect(response.text.contains("IP address literal"))
                }
            }
        }
        #expect(try fixture.store.subscriberCount() == 0)
    }

    @Test func unicodeAndPunycodeDomainsAreOneReader() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("x@bücher.example") { #expect($0.status == .ok) }
            try await client.signUp("x@xn--bcher-kva.example") { #expect($0.status == .ok) }
            #expect(try await fixture.waitForMails(1).count >= 1)
        }
        #expect(try fixture.store.subscriberCount() == 1)
        #expect(try fixture.subscriber("x@XN--BCHER-KVA.example")?.email.description == "x@bücher.example")
    }
}
