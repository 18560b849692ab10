import Foundation
import Testing

@testable import DigestCore

/// The catalogs (`templates/lang/`), their fallback and check, and digests and confirmation mails in English and
/// Arabic (issue 27).
@Suite struct LanguageTests {
    let directory = TemporaryDirectory("languages")
    static let templates = Fixtures.repositoryRoot + "/templates"
    static let site = Configuration.Site(
        name: "The Amman Courier", url: "https://courier.example", timeZone: .gmt, languages: ["en", "ar"])

    // MARK: Catalogs

    @Test func everyCatalogHasEveryKey() throws {
        #expect(Languages.check(templates: Self.templates, site: Self.site).map(\.description) == [])
        // Both ways: an Arabic site checks against its own catalog first.
        var arabic = Self.site
        (arabic.language, arabic.languages) = ("ar", ["ar", "en"])
        #expect(Languages.check(templates: Self.templates, site: arabic).map(\.description) == [])
    }

    @Test func everyKeyTheTemplatesReadIsInTheCatalogs() throws {
        let used = Languages.templateKeys(in: Self.templates)
        #expect(used["subscribe.heading"] == "web/subscribe.mustache")
        let english = try Catalog.load(code: "en", folder: Self.templates + "/lang")
        for key in used.keys.sorted() { #expect(english.has(key), "\(key) is read by \(used[key]!)") }
    }

    /// A translator's file: comments, blank lines, spaces around `=`, a byte order mark; a bad line is named.
    @Test func catalogFormatAndItsErrors() throws {
        let catalog = try Catalog(
            code: "fr", text: "\u{FEFF}# Français\n\nlanguage.name =  Français \r\ndigest.votes.one = {count} vote\n",
            file: "fr.txt")
        #expect(catalog.entries == ["language.name": "Français", "digest.votes.one": "{count} vote"])
        #expect(throws: CatalogError(file: "fr.txt", line: 2, message: "expected `key = text`, found \"oops\"")) {
            try Catalog(code: "fr", text: "a = b\noops\n", file: "fr.txt")
        }
        #expect(throws: CatalogError(file: "fr.txt", line: 2, message: "`a` is already on line 1")) {
            try Catalog(code: "fr", text: "a = b\na = c\n", file: "fr.txt")
        }
    }

    /// A key a language lacks shows the site language's text (never the key), and the check names it; a
    /// placeholder the program does not fill is reported too.
    @Test func missingKeysFallBackToTheSiteLanguageAndAreReported() throws {
        directory.write("lang/en.txt", "language.name = English\ngreeting = Hello {name}\nbye = Goodbye\n")
        directory.write("lang/ar.txt", "language.name = العربية\ngreeting = مرحبًا {nom}\n")
        let languages = try Languages(templates: directory.path, site: Self.site)
        let arabic = languages.language("ar")
        #expect(arabic.text("bye") == "Goodbye")
        #expect(arabic.text("nowhere") == "")
        #expect(arabic.direction == "rtl" && languages.language("en").direction == "ltr")
        #expect(languages.language("fr").code == "en")  // not offered: the site's
        #expect(languages.language(nil).code == "en")
        let problems = Languages.check(templates: directory.path, site: Self.site).map(\.description)
        #expect(problems.contains { $0.hasSuffix("ar.txt: `bye` is missing; readers of ar get the en text") })
        #expect(
            problems.contains {
                $0.contains("ar.txt:2: `greeting` has {nom}, which the program does not fill (it fills {name})")
            })
        // A language of site.languages without a catalog is refused at load, naming the file.
        directory.write("lang/ar.txt", "")
        try FileManager.default.removeItem(atPath: directory.file("lang/ar.txt"))
        #expect(throws: CatalogError.self) { try Languages(templates: directory.path, site: Self.site) }
    }

    @Test func acceptLanguageWithQValues() throws {
        let languages = try Languages(templates: Self.templates, site: Self.site)
        #expect(languages.preferred(acceptLanguage: "ar-JO,ar;q=0.9,en;q=0.5").code == "ar")
        #expect(languages.preferred(acceptLanguage: "en;q=0.4, ar;q=0.8").code == "ar")
        #expect(languages.preferred(acceptLanguage: "fr-FR, fr;q=0.9, ar;q=0.1").code == "ar")
        #expect(languages.preferred(acceptLanguage: "fr, de").code == "en")
        #expect(languages.preferred(acceptLanguage: "ar;q=0").code == "en")
        #expect(languages.preferred(acceptLanguage: nil).code == "en")
        #expect(languages.preferred(acceptLanguage: "*").code == "en")
    }

    @Test func arabicPluralsDigitsAndDates() throws {
        let arabic = try Languages(templates: Self.templates, site: Self.site).language("ar")
        #expect(arabic.text("digest.votes", count: 1) == "صوّت له قارئ واحد")
        #expect(arabic.text("digest.votes", count: 2) == "صوّت له قارئان")
        #expect(arabic.text("digest.votes", count: 7) == "صوّت له ٧ قرّاء")
        #expect(arabic.text("digest.votes", count: 184) == "صوّت له ١٨٤ قارئًا")  // 84: many
        #expect(arabic.text("digest.votes", count: 300) == "صوّت له ٣٠٠ قارئ")
        #expect(arabic.text("digest.votes", count: 11) == "صوّت له ١١ قارئًا")
        #expect(arabic.longDate(Day("2026-11-24")!) == "الثلاثاء، ٢٤ نوفمبر، ٢٠٢٦")
        #expect(Language.latinDigits("١٢") == "12")
        // On an Arabic site an English reader's "1 picks" comes from English's `.other`, not Arabic's `.one`.
        var arabicSite = Self.site
        (arabicSite.language, arabicSite.languages) = ("ar", ["ar", "en"])
        let english = try Languages(templates: Self.templates, site: arabicSite).language("en")
        #expect(english.text("digest.picks", count: 1) == "1 picks by reader votes")
    }

    /// The catalog's `language.direction` decides, unless the configuration gives `site.direction`, which then
    /// wins for the site's own language (and only for it).
    @Test func siteDirectionWinsOverTheCatalogForTheSiteLanguage() throws {
        var site = Self.site
        site.languages = ["en", "ar"]
        #expect(try Languages(templates: Self.templates, site: site).language("en").direction == "ltr")
        #expect(try Languages(templates: Self.templates, site: site).language("ar").direction == "rtl")
        site.explicitDirection = "rtl"
        let languages = try Languages(templates: Self.templates, site: site)
        #expect(languages.language("en").direction == "rtl")
        #expect(languages.language("ar").direction == "rtl")
        site.explicitDirection = "ltr"
        #expect(try Languages(templates: Self.templates, site: site).language("ar").direction == "rtl")
    }

    // MARK: Configuration

    @Test func sectionTitlesPerLanguageAndTheirErrors() throws {
        let configuration = try Fixtures.configuration(in: directory)
        #expect(configuration.site.languages == ["en", "ar"])
        #expect(configuration.site.language == "en")
        let stories = try #require(configuration.digest.sections.first)
        #expect(stories.title == "Top stories" && stories.title(in: "ar") == "أهم الأخبار")
        func refused(_ title: Any) -> String {
            do {
                _ = try Fixtures.configuration(in: directory) { json in
                    var digest = json["digest"] as! [String: Any]
                    digest["sections"] = [["kind": "story", "title": title, "count": 10]]
                    json["digest"] = digest
                }
                return ""
            } catch { return "\(error)" }
        }
        #expect(
            refused(["ar": "أهم الأخبار"]).contains("digest.sections[0].title: needs a title in the site's language"))
        #expect(
            refused(["en": "Top", "fr": "Une"]).contains(
                "digest.sections[0].title.fr: \"fr\" is not one of site.languages"))
        #expect(refused(["en": 3]).contains("digest.sections[0].title.en: expected a non-empty string"))
        #expect(refused(3).contains("digest.sections[0].title: expected a string or an object of titles by language"))
        let badLanguage =
            (try? Fixtures.configuration(in: directory) { json in
                var site = json["site"] as! [String: Any]
                site["languages"] = ["en", "ar", "en"]
                json["site"] = site
            }).map { _ in "" }
        #expect(badLanguage == nil)
    }

    // MARK: Mails

    static let now = DigestRenderingTests.now

    /// `DigestRenderingTests`' store, composer and reader, the reader in `language`.
    let rendering = DigestRenderingTests()

    func setUp(language: String? = nil) async throws -> (Store, DigestComposer, Subscriber) {
        let (store, composer, salma) = try await rendering.setUp()
        var reader = salma
        reader.language = language
        try store.update(reader)
        return (store, composer, reader)
    }

    func reader(_ store: Store, _ email: String, language: String?) throws -> Subscriber {
        try store.addSubscriber(
            Subscriber(email: try EmailAddress(email), name: "Salma Haddad", status: .active, language: language))
    }

    func compose(_ store: Store, _ composer: DigestComposer, _ subscriber: Subscriber) throws -> ComposedDigest {
        try rendering.compose(store, composer, subscriber)
    }

    @Test func arabicGoldenTextHTMLAndEML() async throws {
        let (store, composer, salma) = try await setUp(language: "ar")
        let digest = try compose(store, composer, salma)
        try Golden.check(Array(digest.text.utf8), "digest-ar.txt")
        try Golden.check(Array(try #require(digest.html).utf8), "digest-ar.html")
        try Golden.check(digest.message.data, "digest-ar.eml")
    }

    @Test func arabicDigestIsRightToLeftWithItemsInTheirOwnDirection() async throws {
        let (store, composer, salma) = try await setUp(language: "ar")
        let digest = try compose(store, composer, salma)
        let html = try #require(digest.html)
        #expect(html.contains("<html lang=\"ar\" dir=\"rtl\""))
        // An English title stays left to right: its block is dir=auto and starts with the item's number, which is
        // neutral, in the catalog's Arabic-Indic digits.
        #expect(html.contains("<div dir=\"auto\"><span class=\"dd-muted\""))
        #expect(html.contains(">١.</span>"))
        #expect(html.contains(">صوّت</a>") && html.contains("aria-label=\"صوّت لـ«"))
        #expect(digest.text.contains("\n١. ") && digest.text.contains("صوّت: https://courier.example/"))
        #expect(html.contains("مرحبًا Salma Haddad، إليك أكثر ما أعجب القرّاء."))
        #expect(html.contains("أهم الأخبار"))
        #expect(html.contains("الثلاثاء، ٢٤ نوفمبر، ٢٠٢٦"))
        #expect(!html.contains("readers voted") && !html.contains("Unsubscribe") && !html.contains(">Vote<"))
        // The subject starts right to left (a mark first), whatever Latin text follows.
        #expect(digest.subject.hasPrefix("\u{200F}The Amman Courier: "))
        #expect(digest.text.contains("إلغاء الاشتراك: https://courier.example/digest/unsubscribe?token="))
    }

    /// Two readers of the same selection in two languages: the rendered body is cached per language.
    @Test func theLanguageIsPartOfTheRenderCache() async throws {
        let (store, composer, _) = try await setUp()
        let english = try compose(store, composer, try reader(store, "en@example.com", language: nil))
        let arabic = try compose(store, composer, try reader(store, "ar@example.com", language: "ar"))
        let againEnglish = try compose(store, composer, try reader(store, "en2@example.com", language: "en"))
        #expect(english.text.contains("Hello Salma Haddad, here is what readers liked most."))
        #expect(arabic.text.contains("مرحبًا Salma Haddad"))
        #expect(!arabic.text.contains("Hello"))
        #expect(againEnglish.text.contains("Hello Salma Haddad"))
    }

    /// Fifteen items, the longest summaries: still far below Gmail's clipping.
    @Test func arabicMessageStaysUnder60KBFor15Items() async throws {
        let (store, composer, salma) = try await setUp(language: "ar")
        let summary = String(repeating: "ملخص طويل بالعربية عن الخبر ", count: 30)
        try store.upsert(
            (0..<15).map { index in
                ItemDraft(
                    kind: index < 10 ? .story : .post, title: "عنوان الخبر رقم \(index) في عمّان اليوم",
                    url: "https://courier.example/news/\(index)", summary: summary, author: "هيئة التحرير",
                    publishedAt: Fixtures.date("2026-11-23T12:00:00Z"), votes: 1000 + index)
            }, now: Self.now)
        let digest = try compose(store, composer, salma)
        #expect(digest.itemIDs.count == 15)
        #expect(digest.message.data.count < 60 * 1024, "\(digest.message.data.count) bytes")
    }

    @Test func confirmationMailGoldensInEnglishAndArabic() async throws {
        let configuration = try Fixtures.configuration(in: directory)
        let signer = try LinkSigner(secret: DigestRenderingTests.secret)
        let mail = try await ConfirmationMail(configuration: configuration, signer: signer)
        for language in ["en", "ar"] {
            let subscriber = Subscriber(
                id: 7, email: try EmailAddress("salma@example.com"), name: "Salma Haddad", language: language)
            let content = mail.content(for: subscriber, now: Self.now)
            try Golden.check(Array(("Subject: \(content.subject)\n\n" + content.text).utf8), "confirm-\(language).txt")
            try Golden.check(Array(try #require(content.html).utf8), "confirm-\(language).html")
        }
    }
}
