import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// The console's buttons, pressed as a signed-in admin's browser presses them (the session cookie, the
/// form's CSRF token): each action changes what it says, answers a page saying so, and leaves an audit row
/// written with it; without the CSRF token, or on a reader it does not apply to, nothing changes.
@Suite struct AdminActionsTests {
    static let start = AdminSecurityTests.start

    func app(_ fixture: SubscriptionFixture, clock: TestClock) async throws -> Application<RouterResponder<WebRequestContext>> {
        var settings = WebSettings()
        settings.now = { clock.now }
        return try await fixture.app(settings: settings)
    }

    @Test func readerActionsChangeTheReaderAndAreAudited() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        let bounced = try fixture.add("bounced@example.com", status: .active)
        _ = try fixture.store.recordBounce(
            BounceEvent(
                reportKey: "dsn-1", recipient: "bounced@example.com", kind: .hard, subscriberID: bounced.id!, deliveryID: nil,
                status: "5.1.1", reason: "no such user", source: "import"),
            bounceLimit: 1, now: clock.now)
        #expect(try fixture.subscriber("bounced@example.com")?.status == .bounced)
        let active = try fixture.add("active@example.com", status: .active)
        let pending = try fixture.add("pending@example.com", status: .pending)
        let erased = try fixture.add("erased@example.com", status: .active)

        try await app(fixture, clock: clock).test(.router) { client in
            let admin = try await client.signInAsAdmin(fixture, now: clock.now)
            func press(_ id: Int64, _ action: String, csrf: String? = nil) async throws -> TestResponse {
                try await client.execute(
                    uri: "/admin/readers/\(id)/\(action)", method: .post, headers: admin.formHeaders,
                    body: form([("csrf", csrf ?? admin.csrf)]))
            }
            // Without the form's token: refused, nothing changed.
            #expect(try await press(active.id!, "unsubscribe", csrf: "").status == .forbidden)
            #expect(try fixture.subscriber("active@example.com")?.status == .active)

            var response = try await press(bounced.id!, "reactivate")
            #expect(response.status == .ok)
            #expect(response.text.contains("<h1>Reactivated</h1>"))
            // Back to the reader's page from /admin/readers/ID/ACTION.
            #expect(response.text.contains("<a href=\"../\(bounced.id!)\">"))
            let reactivated = try #require(try fixture.subscriber("bounced@example.com"))
            #expect(reactivated.status == .active)
            #expect(reactivated.bounceCount == 0)
            #expect(try fixture.store.subscriberDetail(id: bounced.id!)?.bounces.isEmpty == true)
            // Reactivating an active reader applies to nothing.
            #expect(try await press(active.id!, "reactivate").status == .conflict)

            response = try await press(active.id!, "unsubscribe")
            #expect(response.text.contains("<h1>Unsubscribed</h1>"))
            #expect(try fixture.subscriber("active@example.com")?.status == .unsubscribed)

            response = try await press(pending.id!, "confirm")
            #expect(response.text.contains("<h1>Confirmation queued</h1>"))
            #expect(try fixture.store.outboxMails(subscriberID: pending.id!).map(\.mail.purpose) == ["confirm"])
            #expect(try await press(active.id!, "confirm").status == .conflict)

            response = try await press(pending.id!, "test")
            #expect(response.text.contains("<h1>Test queued</h1>"))
            let mails = try fixture.store.outboxMails(subscriberID: pending.id!).map(\.mail)
            #expect(mails.map(\.purpose).sorted() == ["confirm", "test"])
            #expect(mails.allSatisfy { $0.message.recipient.description == "pending@example.com" })

            response = try await press(erased.id!, "erase")
            #expect(response.text.contains("<h1>Erased</h1>"))
            #expect(try fixture.subscriber("erased@example.com") == nil)
            #expect(try await press(erased.id!, "erase").status == .notFound)
            #expect(try await press(active.id!, "frobnicate").status == .notFound)

            let audit = try fixture.store.auditLog(limit: 20).filter { $0.action.hasPrefix("reader.") }
            #expect(audit.map(\.action) == [
                "reader.erase", "reader.test", "reader.confirm", "reader.unsubscribe", "reader.reactivate",
            ])
            #expect(audit.allSatisfy { $0.actor == "session \(admin.idHash.prefix(8))" })
            // An erasure keeps the reader's number in the log, not their address.
            #expect(audit[0].subscriberID == erased.id && audit[0].subscriberEmail == nil)
            #expect(audit[4].subscriberID == bounced.id && audit[4].subscriberEmail == "bounced@example.com")
            // The day's figures count the reactivation, the unsubscribe and the erasure.
            let day = try #require(try fixture.store.dailyStats(from: Day(clock.now, in: .gmt), through: Day(clock.now, in: .gmt)).first)
            #expect(day.reactivated == 1)
            #expect(day.unsubscribes == 1)
            #expect(day.removed == 1)

            // The reader's page lists the actions taken on them.
            let page = try await client.execute(uri: "/admin/readers/\(bounced.id!)", method: .get, headers: admin.headers) { $0.text }
            #expect(page.contains("<td>reader.reactivate</td>"))
            // The Health page lists every action, the sign-in included.
            let health = try await client.execute(uri: "/admin/health", method: .get, headers: admin.headers) { $0.text }
            for action in ["admin.signin", "reader.reactivate", "reader.erase"] {
                #expect(health.contains("<td>\(action)</td>"), "\(action)")
            }
        }
    }

    @Test func itemsAreRemovedAndTestsSentFromTheConsole() async throws {
        let fixture = try SubscriptionFixture()
        let clock = TestClock(Self.start)
        try fixture.store.upsert([
            ItemDraft(kind: .story, title: "Gone soon", url: "https://courier.example/gone", summary: "",
                      publishedAt: clock.now - 3600, votes: 3)
        ])
        try await app(fixture, clock: clock).test(.router) { client in
            let admin = try await client.signInAsAdmin(fixture, now: clock.now)
            let list = try await client.execute(uri: "/admin/items?q=GONE", method: .get, headers: admin.headers) { $0.text }
            #expect(list.contains(">Gone soon</a>"))
            #expect(list.contains("name=\"csrf\" value=\"\(admin.csrf)\""))
            var response = try await client.execute(
                uri: "/admin/items/remove", method: .post, headers: admin.formHeaders,
                body: form([("csrf", admin.csrf), ("url", "https://courier.example/gone")]))
            #expect(response.text.contains("<h1>Item removed</h1>"))
            #expect(try fixture.store.item(url: "https://courier.example/gone") == nil)

            response = try await client.execute(
                uri: "/admin/preview/send", method: .post, headers: admin.formHeaders,
                body: form([("csrf", admin.csrf), ("to", "editor@example.org")]))
            #expect(response.text.contains("<h1>Test queued</h1>"))
            // The outbox worker sends it.
            let sent = try await fixture.waitForMails(1)
            #expect(sent.map(\.recipient.description) == ["editor@example.org"])

            let audit = try fixture.store.auditLog(limit: 10).map { "\($0.action) \($0.detail)" }
            #expect(audit.contains("item.remove https://courier.example/gone"))
            #expect(audit.contains { $0.hasPrefix("preview.test ") && $0.hasSuffix(" to editor@example.org") })
        }
    }
}
