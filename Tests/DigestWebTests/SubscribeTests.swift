import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import DigestWeb

@Suite struct SubscribeTests {
    @Test func formHasTheFieldContractAndSecurityHeaders() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/subscribe", method: .get) { response in
                #expect(response.status == .ok)
                let page = response.text
                for name in ["email", "name", "answer", "token", "sections", "format", "website"] {
                    #expect(page.contains("name=\"\(name)\""), "\(name)")
                }
                #expect(page.contains("Solve this simple math problem and enter the result"))
                let challenge = try #require(Challenge(page: page))
                #expect(challenge.first + challenge.second <= 20 && challenge.first >= 1 && challenge.second >= 1)
                #expect(!page.contains("<script"))
                let csp = try #require(response.headers[.contentSecurityPolicy])
                for part in ["default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'", "frame-ancestors 'none'"] {
                    #expect(csp.contains(part))
                }
                #expect(response.headers[.init("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.init("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
            // Two fetches, two different questions.
            let first = try await client.challenge()
            let second = try await client.challenge()
            #expect(first.token != second.token)
        }
    }

    @Test func goodSignUpIsPendingAndGetsOneConfirmationMail() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp(
                "Reader@Example.com", name: "Ada <Lovelace>", extra: [("sections", "story"), ("format", "text")]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Check your inbox"))
                #expect(response.text.contains("Reader@example.com"))
            }
            let mails = try await fixture.waitForMails(1)
            #expect(mails.count == 1)
            let mail = try #require(mails.first)
            #expect(mail.recipient.description == "Reader@example.com")
            #expect(headerValue("Subject", in: mail.data)?.contains("Confirm your subscription") == true)
            let link = try #require(confirmLink(in: mail.data))
            #expect(link.hasPrefix(fixture.configuration.web.baseURL + "/confirm?token="))
            // A text reader gets a text-only confirmation.
            #expect(headerValue("Content-Type", in: mail.data)?.hasPrefix("text/plain") == true)
        }
        let subscriber = try #require(try fixture.subscriber("reader@example.com"))
        #expect(subscriber.status == .pending)
        #expect(subscriber.name == "Ada <Lovelace>")
        #expect(subscriber.sections == [.story])
        #expect(subscriber.format == .text)
        #expect(subscriber.lastConfirmationAt != nil)
        #expect(subscriber.confirmedAt == nil)
    }

    @Test func nameIsEscapedWhenTheFormComesBack() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("not-an-address", name: "<script>alert(1)</script>\" onload=\"x") { response in
                #expect(response.status == .unprocessableContent)
                #expect(!response.text.contains("<script>alert"))
                #expect(response.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&quot;x"))
            }
        }
    }

    @Test func wrongAnswerShowsTheFormAgainWithAFreshQuestion() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let challenge = try await client.challenge()
            let wrong = "\((challenge.first + challenge.second + 1) % 21)"
            let fields = [("email", "a@example.com"), ("answer", wrong), ("token", challenge.token)]
            try await client.execute(uri: "/subscribe", method: .post, headers: formHeaders, body: form(fields)) {
                response in
                #expect(response.status == .unprocessableContent)
                let page = response.text
                #expect(page.contains("id=\"answer-error\""))
                #expect(page.contains("That is not the right result"))
                #expect(page.contains("aria-describedby=\"question answer-hint answer-error\""))
                #expect(page.contains("aria-invalid=\"true\""))
                #expect(page.contains("value=\"a@example.com\""))
                let fresh = try #require(Challenge(page: page))
                #expect(fresh.token != challenge.token)
            }
            for answer in ["", "abc", "-1", "99999"] {
                try await client.signUp("a@example.com", answer: answer) { response in
                    #expect(response.status == .unprocessableContent, "\(answer)")
                    #expect(response.text.contains("id=\"answer-error\""))
                }
            }
        }
        #expect(try fixture.subscriber("a@example.com") == nil)
        #expect(fixture.mails.withLock { $0.isEmpty })
    }

    @Test func aQuestionIsGoodForOneTry() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let challenge = try await client.challenge()
            let fields = [("answer", challenge.answer), ("token", challenge.token)]
            try await client.execute(
                uri: "/subscribe", method: .post, headers: formHeaders, body: form([("email", "one@example.com")] + fields)
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/subscribe", method: .post, headers: formHeaders, body: form([("email", "two@example.com")] + fields)
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("That question was already answered"))
            }
            // A wrong answer uses the question up too: no guessing through the 21 possible results.
            let other = try await client.challenge()
            for answer in ["0", other.answer] {
                try await client.execute(
                    uri: "/subscribe", method: .post, headers: formHeaders,
                    body: form([("email", "three@example.com"), ("answer", answer), ("token", other.token)])
                ) { #expect($0.status == .unprocessableContent) }
            }
        }
        #expect(try fixture.subscriber("one@example.com") != nil)
        #expect(try fixture.subscriber("two@example.com") == nil)
        #expect(try fixture.subscriber("three@example.com") == nil)
    }

    @Test func expiredForgedAndMissingQuestionsAreRefused() async throws {
        let fixture = try SubscriptionFixture()
        let challenges = ChallengeSigner(signer: fixture.signer)
        let old = challenges.make(now: Date() - 3600)
        let other = ChallengeSigner(signer: try LinkSigner(secret: "another-secret-0123456789")).make(now: Date())
        let cases: [(String, [(String, String)], String)] = [
            ("expired", [("answer", "\(old.first + old.second)"), ("token", old.token)], "The question expired"),
            ("other secret", [("answer", "\(other.first + other.second)"), ("token", other.token)], "not the right result"),
            ("garbage", [("answer", "3"), ("token", "nonsense")], "The question was not valid"),
            ("missing", [("answer", "3")], "The question was missing"),
        ]
        try await fixture.app().test(.router) { client in
            for (label, fields, message) in cases {
                try await client.execute(
                    uri: "/subscribe", method: .post, headers: formHeaders,
                    body: form([("email", "x@example.com")] + fields)
                ) { response in
                    #expect(response.status == .unprocessableContent, "\(label)")
                    #expect(response.text.contains(message), "\(label)")
                }
            }
        }
        #expect(try fixture.subscriber("x@example.com") == nil)
    }

    @Test func usedQuestionsAreForgottenOnceExpired() throws {
        let fixture = try SubscriptionFixture()
        let now = Date()
        #expect(try fixture.store.useChallenge(id: "a", expiresAt: now + 10, now: now))
        #expect(try !fixture.store.useChallenge(id: "a", expiresAt: now + 10, now: now))
        #expect(try fixture.store.useChallenge(id: "b", expiresAt: now + 10, now: now + 20))
        #expect(try fixture.store.usedChallengeCount() == 1)
    }

    @Test func honeypotIsRefused() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("bot@example.com", extra: [("website", "http://spam.example")]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("id=\"form-error\""))
                #expect(response.text.contains("Website"))
                #expect(Challenge(page: response.text) != nil)
            }
        }
        #expect(try fixture.subscriber("bot@example.com") == nil)
    }

    @Test func invalidAddressIsTiedToTheEmailField() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            for address in ["no-at-sign", "a@b@c.example", "two words@example.com", ""] {
                try await client.signUp(address) { response in
                    #expect(response.status == .unprocessableContent, "\(address)")
                    let page = response.text
                    #expect(page.contains("id=\"email-error\""))
                    #expect(page.contains("aria-describedby=\"email-error\""))
                    #expect(page.contains("<a href=\"#email\">"))
                }
            }
            try await client.signUp("a@example.com", extra: [("sections", "weather")]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("id=\"sections-error\""))
            }
            try await client.signUp("a@example.com", extra: [("format", "pdf")]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("id=\"format-error\""))
            }
        }
        #expect(try fixture.store.subscriberCount() == 0)
    }

    @Test func repeatedSignUpsSendOneMailAndLookTheSame() async throws {
        let fixture = try SubscriptionFixture()
        try fixture.add("active@example.com", status: .active)
        try await fixture.app().test(.router) { client in
            var pages: [String] = []
            for _ in 0..<3 {
                try await client.signUp("again@example.com") { #expect($0.status == .ok) }
            }
            for address in ["again@example.com", "active@example.com"] {
                let challenge = try await client.challenge()
                let fields = [("email", address), ("answer", challenge.answer), ("token", challenge.token)]
                let page = try await client.execute(
                    uri: "/subscribe", method: .post, headers: formHeaders, body: form(fields)
                ) { response in
                    #expect(response.status == .ok)
                    return response.text.replacingOccurrences(of: address, with: "ADDRESS")
                }
                pages.append(page)
            }
            // Whether or not the address was on the list, the page reads the same.
            #expect(pages[0] == pages[1])
            let mails = try await fixture.waitForMails(1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(fixture.mails.withLock { $0.count } == 1)
            #expect(mails.first?.recipient.description == "again@example.com")
        }
        #expect(try fixture.subscriber("active@example.com")?.status == .active)
        #expect(try fixture.subscriber("again@example.com")?.status == .pending)
    }

    @Test func unsubscribedReaderSigningUpAgainIsPendingWithANewMail() async throws {
        let fixture = try SubscriptionFixture()
        var gone = try fixture.add("gone@example.com", status: .unsubscribed)
        gone.lastConfirmationAt = Date() - 3600
        try fixture.store.update(gone)
        try await fixture.app().test(.router) { client in
            try await client.signUp("gone@example.com") { #expect($0.status == .ok) }
            #expect(try await fixture.waitForMails(1).count == 1)
        }
        #expect(try fixture.subscriber("gone@example.com")?.status == .pending)
    }

    @Test func aReaderPicksWeeklyOnTheFormAndIsStoredWeeklyOnMondays() async throws {
        let fixture = try SubscriptionFixture()
        var gone = try fixture.add("gone@example.com", status: .unsubscribed)
        gone.weekday = .fri
        try fixture.store.update(gone)
        try await fixture.app().test(.router) { client in
            let page = try await client.execute(uri: "/subscribe", method: .get) { $0.text }
            #expect(page.contains("id=\"cadence-daily\" name=\"cadence\" value=\"daily\" checked"))
            #expect(page.contains("id=\"cadence-weekly\" name=\"cadence\" value=\"weekly\">"))
            #expect(page.contains("Weekly (Mondays)"))
            try await client.signUp("weekly@example.com", extra: [("cadence", "weekly")]) { #expect($0.status == .ok) }
            try await client.signUp("daily@example.com") { #expect($0.status == .ok) }
            // A reader who left and signs up again gets what the form says: weekly, on Mondays.
            try await client.signUp("gone@example.com", extra: [("cadence", "weekly")]) { #expect($0.status == .ok) }
            for cadence in ["monthly", "hourly"] {
                try await client.signUp("odd@example.com", extra: [("cadence", cadence)]) { response in
                    #expect(response.status == .unprocessableContent, "\(cadence)")
                    #expect(response.text.contains("id=\"cadence-error\""), "\(cadence)")
                    #expect(response.text.contains("<li><a href=\"#cadence\">Choose daily or weekly.</a></li>"))
                }
            }
        }
        let weekly = try #require(try fixture.subscriber("weekly@example.com"))
        #expect(weekly.cadence == .weekly && weekly.weekday == .mon && weekly.status == .pending)
        #expect(try fixture.subscriber("daily@example.com")?.cadence == .daily)
        let back = try #require(try fixture.subscriber("gone@example.com"))
        #expect(back.cadence == .weekly && back.weekday == .mon && back.status == .pending)
        #expect(try fixture.subscriber("odd@example.com") == nil)
    }

    @Test func postsAreRateLimitedPerIPAndPerAddress() async throws {
        let fixture = try SubscriptionFixture()
        var settings = WebSettings()
        settings.ipLimit = (3, 1000)
        try await fixture.app(settings: settings).test(.router) { client in
            for index in 0..<3 {
                try await client.signUp("r\(index)@example.com") { #expect($0.status == .ok) }
            }
            try await client.signUp("r9@example.com") { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.text.contains("Too many requests"))
                #expect(response.headers[.retryAfter] != nil)
            }
        }
        #expect(try fixture.subscriber("r9@example.com") == nil)

        settings = WebSettings()
        settings.addressLimit = (2, 1000)
        try await fixture.app(settings: settings).test(.router) { client in
            for _ in 0..<2 { try await client.signUp("same@example.com") { #expect($0.status == .ok) } }
            try await client.signUp("SAME@example.com") { #expect($0.status == .tooManyRequests) }
            try await client.signUp("other@example.com") { #expect($0.status == .ok) }
        }
    }

    @Test func oversizedBodiesGet413() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let big = String(repeating: "x", count: 70 * 1024)
            for path in ["/subscribe", "/confirm", "/unsubscribe?token=1.0.x", "/preferences"] {
                try await client.execute(
                    uri: path, method: .post, headers: formHeaders, body: form([("email", "a@example.com"), ("name", big)])
                ) { response in
                    #expect(response.status == .contentTooLarge, "\(path)")
                    #expect(response.headers[.contentSecurityPolicy] != nil)
                }
            }
        }
        #expect(try fixture.store.subscriberCount() == 0)
    }

    @Test func startupWithoutTheLinkSecretFails() async throws {
        let fixture = try WebFixture()
        await #expect(throws: LinkSignerError.missingSecret("DIGEST_SECRET")) {
            _ = try await buildApplication(
                configuration: fixture.configuration, store: fixture.store, environment: [:],
                logger: Logger(label: "test"))
        }
        await #expect(throws: LinkSignerError.secretTooShortIn("DIGEST_SECRET", 16)) {
            _ = try await buildApplication(
                configuration: fixture.configuration, store: fixture.store, environment: ["DIGEST_SECRET": "short"],
                logger: Logger(label: "test"))
        }
    }

    @Test func rootRedirectsToTheForm() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "subscribe")
            }
        }
    }
}
