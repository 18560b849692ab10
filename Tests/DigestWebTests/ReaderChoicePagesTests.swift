import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// Issue 25 on the reader pages. The unsubscribe page offers less before never (weekly instead of daily,
/// monthly instead of weekly, a month's pause), each a POST that says what changed; following any of its
/// links (GET and HEAD, as a mail scanner does) changes nothing, and the one-click POST still unsubscribes
/// at once. Preferences save cadence, weekday, pause and length and say what changed, refuse bad values
/// field by field (422), and "resume now" ends a pause. The clock is fixed: 3 December 2026 in the site's
/// zone (Asia/Amman).
@Suite struct ReaderChoicePagesTests {
    static let now = ISO8601DateFormatter().date(from: "2026-12-03T10:00:00Z")!

    static var settings: WebSettings {
        var settings = WebSettings()
        settings.now = { now }
        // Several saves for one reader in a row.
        settings.addressLimit = (100, 1)
        return settings
    }

    /// A reader stored with `edit` applied.
    func reader(_ fixture: SubscriptionFixture, _ edit: (inout Subscriber) -> Void = { _ in }) throws -> Subscriber {
        var subscriber = try fixture.add("r@example.com", status: .active)
        edit(&subscriber)
        try fixture.store.update(subscriber)
        return try #require(try fixture.subscriber("r@example.com"))
    }

    @Test func theWeeklyOfferMakesADailyReaderWeeklyAndSaysSo() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture) { $0.weekday = .thu }
        let token = fixture.token(.unsubscribe, before)
        try await fixture.app(settings: Self.settings).test(.router) { client in
            let page = try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { $0.readable }
            for offer in ["weekly", "pause"] {
                #expect(page.contains("<form method=\"post\" action=\"unsubscribe/\(offer)?token=\(token)\" class="))
            }
            #expect(!page.contains("unsubscribe/monthly"))
            #expect(page.contains("The week's best every Thursday, not every day."))
            #expect(page.contains("Nothing until 2027-01-03, then one catch-up of what you missed."))
            // The offers come before the button, which is still the one-click form.
            let button = try #require(page.range(of: "<form method=\"post\" action=\"unsubscribe?token=\(token)\">"))
            #expect(page.range(of: "unsubscribe/weekly")!.lowerBound < button.lowerBound)

            // What a mail scanner does with every link: nothing changes.
            for path in ["unsubscribe", "unsubscribe/weekly", "unsubscribe/monthly", "unsubscribe/pause"] {
                for method in [HTTPRequest.Method.get, .head] {
                    try await client.execute(uri: "/\(path)?token=\(token)", method: method) { response in
                        #expect(response.status == (path == "unsubscribe" ? .ok : .seeOther), "\(method) \(path)")
                        if path != "unsubscribe" {
                            #expect(response.headers[.location] == "../unsubscribe?token=\(token)")
                        }
                    }
                }
            }
            #expect(try fixture.subscriber("r@example.com") == before)

            try await client.execute(uri: "/unsubscribe/weekly?token=\(token)", method: .post, headers: formHeaders) {
                response in
                #expect(response.status == .ok)
                let page = response.readable
                #expect(page.contains("<h1>Weekly from now on</h1>"))
                #expect(page.contains("You will get the week's best every Thursday instead of a daily digest."))
                let preferences = fixture.token(.preferences, before)
                #expect(page.contains("href=\"../preferences?token=\(preferences)\""))
                #expect(page.contains("href=\"../unsubscribe?token=\(token)\""))
            }
            let weekly = try #require(try fixture.subscriber("r@example.com"))
            #expect(weekly.cadence == .weekly && weekly.weekday == .thu && weekly.status == .active)

            // Asked again (a double click): nothing more, and the page says where things stand.
            try await client.execute(uri: "/unsubscribe/weekly?token=\(token)", method: .post, headers: formHeaders) {
                #expect($0.readable.contains("You already get the week's best every Thursday."))
            }
            // A weekly reader is offered the monthly edition, not the weekly one.
            let again = try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { $0.readable }
            #expect(again.contains("action=\"unsubscribe/monthly?token=\(token)\""))
            #expect(!again.contains("unsubscribe/weekly"))
            #expect(again.contains("You now get the week's best every Thursday."))
            try await client.execute(uri: "/unsubscribe/monthly?token=\(token)", method: .post, headers: formHeaders) {
                #expect(
                    $0.readable.contains(
                        "You will get the month's best on the 1st of each month instead of the week's best every "
                            + "Thursday."))
            }
        }
        #expect(try fixture.subscriber("r@example.com")?.cadence == .monthly)
    }

    @Test func thePauseOfferPausesForAMonthAndNeverShortensALongerPause() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture)
        let token = fixture.token(.unsubscribe, before)
        try await fixture.app(settings: Self.settings).test(.router) { client in
            // The token in the body works as well as in the query, as for the button.
            try await client.execute(
                uri: "/unsubscribe/pause", method: .post, headers: formHeaders, body: form([("token", token)])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.readable.contains("<h1>Paused</h1>"))
                #expect(
                    response.readable.contains(
                        "Paused until 2027-01-03: nothing is sent until then; that day you get one catch-up of "
                            + "what you missed."))
            }
            let paused = try #require(try fixture.subscriber("r@example.com"))
            #expect(paused.pausedUntil == Day("2027-01-03") && paused.cadence == .daily && paused.status == .active)
            let page = try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) { $0.readable }
            #expect(page.contains("Paused until 2027-01-03"))
            #expect(!page.contains("unsubscribe/pause"))

            var longer = paused
            longer.pausedUntil = Day("2027-03-01")
            try fixture.store.update(longer)
            try await client.execute(uri: "/unsubscribe/pause?token=\(token)", method: .post, headers: formHeaders) {
                #expect($0.readable.contains("Paused until 2027-03-01"))
            }
        }
        #expect(try fixture.subscriber("r@example.com")?.pausedUntil == Day("2027-03-01"))
    }

    @Test func oneClickStillUnsubscribesAtOnceAndOffersNeverResubscribe() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture)
        let token = fixture.token(.unsubscribe, before)
        // An old link still leaves, and still offers: leaving takes expired tokens, so the offers do too.
        let expired = fixture.token(.unsubscribe, before, expires: Self.now - 86400)
        try await fixture.app(settings: Self.settings).test(.router) { client in
            try await client.execute(uri: "/unsubscribe?token=\(expired)", method: .get) {
                #expect($0.readable.contains("action=\"unsubscribe/weekly?token=\(expired)\""))
            }
            // Another purpose's token, or a tampered one, changes nothing.
            for bad in [fixture.token(.preferences, before), String(token.dropLast(2)) + "xx"] {
                for offer in ["weekly", "pause"] {
                    try await client.execute(
                        uri: "/unsubscribe/\(offer)?token=\(bad)", method: .post, headers: formHeaders
                    ) { #expect($0.status == .badRequest) }
                }
            }
            #expect(try fixture.subscriber("r@example.com") == before)

            try await client.execute(
                uri: "/unsubscribe?token=\(token)", method: .post, headers: formHeaders,
                body: ByteBuffer(string: "List-Unsubscribe=One-Click")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("You are unsubscribed"))
            }
            let gone = try #require(try fixture.subscriber("r@example.com"))
            #expect(gone.status == .unsubscribed && gone.cadence == .daily && gone.pausedUntil == nil)

            // An offer taken after leaving (a page left open) brings nothing back.
            for offer in ["weekly", "pause"] {
                try await client.execute(
                    uri: "/unsubscribe/\(offer)?token=\(token)", method: .post, headers: formHeaders
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("Already unsubscribed"))
                    #expect(response.text.contains("href=\"../subscribe\""))
                }
            }
            try await client.execute(uri: "/unsubscribe?token=\(token)", method: .get) {
                #expect($0.text.contains("Already unsubscribed"))
                #expect(!$0.text.contains("unsubscribe/weekly"))
            }
        }
        let after = try #require(try fixture.subscriber("r@example.com"))
        #expect(after.status == .unsubscribed && after.cadence == .daily && after.pausedUntil == nil)
    }

    /// The fields of the preferences form as the page sends them, with `changes`.
    func preferences(_ token: String, _ changes: [String: String] = [:]) -> ByteBuffer {
        var fields: [String: String] = [
            "sections": "story", "format": "html", "timeZone": "", "deliveryHour": "", "cadence": "daily",
            "weekday": "mon", "pause": "none", "pausedUntil": "", "length": "site", "maxStories": "", "maxPosts": "",
            "readingMinutes": "",
        ]
        fields.merge(changes) { $1 }
        return form([("token", token)] + fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Posts the preferences form with `changes`; the answer's status and its page as a reader reads it.
    func save(_ client: some TestClientProtocol, _ token: String, _ changes: [String: String]) async throws
        -> (HTTPResponse.Status, String)
    {
        try await client.execute(
            uri: "/preferences", method: .post, headers: formHeaders, body: preferences(token, changes)
        ) { ($0.status, $0.readable) }
    }

    @Test func preferencesSaveCadenceWeekdayPauseAndLengthAndSayWhatChanged() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture) { $0.sections = [.story] }
        let token = fixture.token(.preferences, before)
        try await fixture.app(settings: Self.settings).test(.router) { client in
            let page = try await client.execute(uri: "/preferences?token=\(token)", method: .get) { $0.readable }
            #expect(page.contains("id=\"cadence-daily\" name=\"cadence\" value=\"daily\" checked"))
            #expect(page.contains("<option value=\"mon\" selected>Monday</option>"))
            #expect(page.contains("<option value=\"none\" selected>Not paused</option>"))
            #expect(page.contains("<option value=\"1m\">For 1 month (until 2027-01-03)</option>"))
            #expect(page.contains("id=\"length-site\" name=\"length\" value=\"site\" checked"))
            // The counts stay within the site's sections (10 stories, 5 posts).
            #expect(page.contains("name=\"maxStories\" value=\"\" min=\"1\" max=\"10\""))
            #expect(page.contains("name=\"maxPosts\" value=\"\" min=\"1\" max=\"5\""))
            #expect(!page.contains("Resume now"))

            var choices = [
                "cadence": "weekly", "weekday": "fri", "pause": "2w", "length": "counts", "maxStories": "3",
                "maxPosts": "2",
            ]
            var (status, saved) = try await save(client, token, choices)
            #expect(status == .ok)
            #expect(saved.contains("Your preferences are saved."))
            #expect(saved.contains("<li>You will get the week's best every Friday instead of a daily digest.</li>"))
            #expect(saved.contains("<li>Paused until 2026-12-17: nothing is sent until then;"))
            #expect(saved.contains("<li>Length: at most 3 stories and 2 posts.</li>"))
            #expect(!saved.contains("Sections:"))
            // The pause shows with the day it ends, kept by default, and a button that ends it.
            #expect(saved.contains("<option value=\"keep\" selected>Paused until 2026-12-17</option>"))
            #expect(saved.contains("<button type=\"submit\" form=\"resume\" class=\"secondary\">Resume now<"))
            #expect(saved.contains("<form id=\"resume\" method=\"post\" action=\"preferences/resume\">"))
            #expect(saved.contains("id=\"length-counts\" name=\"length\" value=\"counts\" checked"))
            var stored = try #require(try fixture.subscriber("r@example.com"))
            #expect(stored.cadence == .weekly && stored.weekday == .fri)
            #expect(stored.pausedUntil == Day("2026-12-17"))
            #expect(stored.length == ReadingLength(stories: 3, posts: 2))

            // Keeping the pause; about 5 minutes; monthly.
            choices = [
                "cadence": "monthly", "weekday": "fri", "pause": "keep", "length": "minutes", "readingMinutes": "5",
            ]
            (status, saved) = try await save(client, token, choices)
            #expect(status == .ok)
            #expect(saved.contains("<li>Length: about 5 minutes of reading.</li>"))
            #expect(!saved.contains("<li>Paused"))
            stored = try #require(try fixture.subscriber("r@example.com"))
            #expect(stored.cadence == .monthly && stored.pausedUntil == Day("2026-12-17"))
            #expect(stored.length == ReadingLength(minutes: 5))

            // Until a day; the full edition again.
            choices = ["cadence": "monthly", "weekday": "fri", "pause": "until", "pausedUntil": "2027-02-01"]
            (_, saved) = try await save(client, token, choices)
            #expect(saved.contains("<li>Length: the full edition.</li>"))
            stored = try #require(try fixture.subscriber("r@example.com"))
            #expect(stored.pausedUntil == Day("2027-02-01") && stored.length == .site)

            // The same form again: saved, nothing changed. Then not paused any more, from the select.
            choices["pause"] = "keep"
            (_, saved) = try await save(client, token, choices)
            #expect(saved.contains("Your preferences are saved. Nothing changed."))
            choices["pause"] = "none"
            (_, saved) = try await save(client, token, choices)
            #expect(saved.contains("<li>No longer paused"))
        }
        let last = try #require(try fixture.subscriber("r@example.com"))
        #expect(last.pausedUntil == nil && last.cadence == .monthly && last.status == .active)
        #expect(last.sections == [.story])
    }

    @Test func resumeNowClearsThePauseAndOnlyAPostDoes() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture) { $0.pausedUntil = Day("2027-01-10") }
        let token = fixture.token(.preferences, before)
        try await fixture.app(settings: Self.settings).test(.router) { client in
            for method in [HTTPRequest.Method.get, .head] {
                try await client.execute(uri: "/preferences/resume?token=\(token)", method: method) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "../preferences?token=\(token)")
                }
            }
            #expect(try fixture.subscriber("r@example.com")?.pausedUntil == Day("2027-01-10"))
            // Another purpose's token does not resume.
            try await client.execute(
                uri: "/preferences/resume", method: .post, headers: formHeaders,
                body: form([("token", fixture.token(.unsubscribe, before))])
            ) { #expect($0.status == .badRequest) }

            try await client.execute(
                uri: "/preferences/resume", method: .post, headers: formHeaders, body: form([("token", token)])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.readable.contains("<h1>Resumed</h1>"))
                #expect(response.readable.contains("No longer paused: your digests come again from the next one."))
                #expect(response.readable.contains("href=\"../preferences?token=\(token)\""))
            }
            #expect(try fixture.subscriber("r@example.com")?.pausedUntil == nil)
            try await client.execute(
                uri: "/preferences/resume", method: .post, headers: formHeaders, body: form([("token", token)])
            ) { #expect($0.readable.contains("<h1>Not paused</h1>")) }
        }
    }

    @Test func badChoicesGet422WithTheFieldNamed() async throws {
        let fixture = try SubscriptionFixture()
        let before = try reader(fixture)
        let token = fixture.token(.preferences, before)
        let bad: [([String: String], String)] = [
            (["cadence": "hourly"], "cadence"),
            (["weekday": "funday"], "weekday"),
            (["pause": "forever"], "pause"),
            (["pause": "until", "pausedUntil": ""], "pausedUntil"),
            (["pause": "until", "pausedUntil": "next week"], "pausedUntil"),
            (["pause": "until", "pausedUntil": "2026-12-03"], "pausedUntil"),
            (["pause": "until", "pausedUntil": "2026-02-30"], "pausedUntil"),
            (["pause": "until", "pausedUntil": "2028-01-01"], "pausedUntil"),
            (["length": "long"], "length"),
            (["length": "counts"], "maxStories"),
            (["length": "counts", "maxStories": "11"], "maxStories"),
            (["length": "counts", "maxStories": "0"], "maxStories"),
            (["length": "counts", "maxStories": "three"], "maxStories"),
            (["length": "counts", "maxPosts": "6"], "maxPosts"),
            (["length": "minutes"], "readingMinutes"),
            (["length": "minutes", "readingMinutes": "101"], "readingMinutes"),
            (["length": "minutes", "readingMinutes": "-5"], "readingMinutes"),
        ]
        try await fixture.app(settings: Self.settings).test(.router) { client in
            for (fields, field) in bad {
                let (status, page) = try await save(client, token, fields)
                #expect(status == .unprocessableContent, "\(fields)")
                #expect(page.contains("id=\"\(field)-error\""), "\(fields)")
                // The summary at the top links to the field.
                #expect(page.contains("<li><a href=\"#\(field)\">"), "\(fields)")
                #expect(!page.contains("Your preferences are saved"), "\(fields)")
            }
            // What was typed comes back.
            let (_, page) = try await save(
                client, token, ["cadence": "weekly", "length": "counts", "maxStories": "11", "maxPosts": "2"])
            #expect(page.contains("id=\"cadence-weekly\" name=\"cadence\" value=\"weekly\" checked"))
            #expect(page.contains("name=\"maxStories\" value=\"11\""))
            #expect(page.contains("name=\"maxPosts\" value=\"2\""))
            #expect(page.contains("aria-invalid=\"true\" aria-describedby=\"maxStories-error\""))
        }
        #expect(try fixture.subscriber("r@example.com") == before)
    }
}

extension TestResponse {
    /// The body with the apostrophes Mustache escapes put back, to compare sentences as a reader reads them.
    var readable: String { text.replacingOccurrences(of: "&#39;", with: "'") }
}
