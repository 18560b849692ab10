import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// The reader pages in the reader's language (issue 27): the sign-up form in the browser's language with a
/// switch, the language stored with the sign-up and chosen in preferences, the next digest in it.
@Suite struct LanguagePagesTests {
    @Test func theSignUpFormComesInTheBrowsersLanguageWithASwitch() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let arabic = try await client.execute(
                uri: "/subscribe", method: .get, headers: [.acceptLanguage: "ar-JO,ar;q=0.9,en;q=0.8"]
            ) { response in
                #expect(response.headers[.contentLanguage] == "ar")
                return response.text
            }
            #expect(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(arabic.contains("حلّ هذه المسألة الحسابية البسيطة واكتب الناتج"))
            #expect(arabic.contains("<input type=\"hidden\" name=\"language\" value=\"ar\">"))
            // The switch: a plain link to the page in each other language, named in that language.
            #expect(
                arabic.contains("<a href=\"subscribe?lang=en\" hreflang=\"en\" lang=\"en\" dir=\"ltr\">English</a>"))
            // The question in the catalog's digits, left to right.
            let question = try #require(arabic.firstMatch(of: /dir="ltr" id="question">([^<]+)</).map { String($0.1) })
            #expect(question.unicodeScalars.contains { (0x660...0x669).contains($0.value) })
            #expect(!arabic.contains("Email address"))

            let english = try await client.execute(
                uri: "/subscribe?lang=en", method: .get, headers: [.acceptLanguage: "ar"]
            ) { $0.text }
            #expect(english.contains("<html lang=\"en\" dir=\"ltr\">"))
            #expect(
                english.contains("<a href=\"subscribe?lang=ar\" hreflang=\"ar\" lang=\"ar\" dir=\"rtl\">العربية</a>"))
            let fallback = try await client.execute(
                uri: "/subscribe", method: .get, headers: [.acceptLanguage: "fr-FR,fr;q=0.9"]
            ) { $0.text }
            #expect(fallback.contains("<html lang=\"en\" dir=\"ltr\">"))
        }
    }

    /// An Arabic sign-up: errors in Arabic, the answer typed in Arabic-Indic digits, the language stored, the
    /// confirmation mail in Arabic.
    @Test func anArabicSignUpIsStoredInArabicAndConfirmedInArabic() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            try await client.signUp("", extra: [("language", "ar")]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("اكتب عنوان بريدك الإلكتروني."))
                #expect(response.text.contains("<html lang=\"ar\" dir=\"rtl\">"))
            }
            let challenge = try await client.challenge()
            let arabicAnswer = String(
                String.UnicodeScalarView(
                    challenge.answer.unicodeScalars.map { Unicode.Scalar($0.value - 0x30 + 0x660)! }))
            let fields = [
                ("email", "layla@example.com"), ("name", "ليلى"), ("answer", arabicAnswer), ("token", challenge.token),
                ("language", "ar"),
            ]
            try await client.execute(uri: "/subscribe", method: .post, headers: formHeaders, body: form(fields)) {
                #expect($0.status == .ok)
                #expect($0.text.contains("تفقّد بريدك"))
            }
        }
        let subscriber = try #require(try fixture.subscriber("layla@example.com"))
        #expect(subscriber.language == "ar")
        let mail = try #require(try await fixture.waitForMails(1).first)
        let subject = try #require(headerValue("Subject", in: mail.data))
        #expect(subject.hasPrefix("=?UTF-8?"))  // encoded: Arabic, starting with a right-to-left mark
        #expect(!String(decoding: mail.data, as: UTF8.self).contains("Confirm your subscription"))
    }

    /// Preferences show the reader's language and change it; the next digest comes in the new one.
    @Test func aReaderSwitchingLanguageGetsTheNextDigestInIt() async throws {
        let fixture = try SubscriptionFixture()
        let reader = try fixture.store.addSubscriber(
            Subscriber(email: try EmailAddress("sami@example.com"), name: "Sami", status: .active))
        let token = fixture.token(.preferences, reader)
        try await fixture.app().test(.router) { client in
            let page = try await client.execute(uri: "/preferences?token=\(token)", method: .get) { $0.text }
            #expect(page.contains("<html lang=\"en\" dir=\"ltr\">"))
            #expect(page.contains("id=\"language-en\" name=\"language\" value=\"en\" checked"))
            #expect(page.contains("<span lang=\"ar\" dir=\"rtl\">العربية</span>"))
            let fields: [(String, String)] = [
                ("token", token), ("sections", "story"), ("sections", "post"), ("format", "html"), ("language", "ar"),
            ]
            let saved = try await client.execute(
                uri: "/preferences", method: .post, headers: formHeaders, body: form(fields)
            ) { response in
                #expect(response.status == .ok)
                return response.text
            }
            #expect(saved.contains("<html lang=\"ar\" dir=\"rtl\">"))
            #expect(saved.contains("حُفظت تفضيلاتك."))
            #expect(saved.contains("اللغة: العربية."))
            let bad = try await client.execute(
                uri: "/preferences", method: .post, headers: formHeaders,
                body: form([("token", token), ("sections", "story"), ("format", "html"), ("language", "xx")])
            ) { $0.status }
            #expect(bad == .unprocessableContent)
        }
        let switched = try #require(try fixture.subscriber("sami@example.com"))
        #expect(switched.language == "ar")

        // The next digest, as `digest send` composes it.
        let now = try #require(DateParsing.iso8601("2026-11-24T03:20:00Z"))
        try fixture.store.upsert(
            [
                ItemDraft(
                    kind: .story, title: "Amman marathon draws record field", url: "https://courier.example/news/1",
                    publishedAt: now - 4 * 3600, votes: 42)
            ], now: now)
        let composer = try await DigestComposer.make(
            configuration: fixture.configuration, environment: [fixture.configuration.web.secretEnv: WebFixture.secret])
        let date = Day("2026-11-24")!
        let edition = try composer.ranker.edition(for: date, store: fixture.store, freeze: false, now: now)
        let digest = try #require(
            try composer.digest(for: switched, in: edition, alreadyReceived: [], now: now, skippingEmpty: false))
        #expect(digest.text.contains("مرحبًا Sami، إليك أكثر ما أعجب القرّاء."))
        #expect(try #require(digest.html).contains("<html lang=\"ar\" dir=\"rtl\""))
        #expect(digest.text.contains("Amman marathon draws record field"))  // items are not translated
    }

    /// A page that says something went wrong comes in the language the browser asks for.
    @Test func errorPagesComeInTheBrowsersLanguage() async throws {
        let fixture = try SubscriptionFixture()
        try await fixture.app().test(.router) { client in
            let arabic = try await client.execute(
                uri: "/confirm?token=forged", method: .get, headers: [.acceptLanguage: "ar"]
            ) { response in
                #expect(response.status == .badRequest)
                return response.text
            }
            #expect(arabic.contains("<html lang=\"ar\" dir=\"rtl\">") && arabic.contains("هذا الرابط غير صالح"))
            let english = try await client.execute(uri: "/nowhere", method: .get) { $0.text }
            #expect(english.contains("Page not found") && english.contains("<html lang=\"en\" dir=\"ltr\">"))
        }
    }
}
