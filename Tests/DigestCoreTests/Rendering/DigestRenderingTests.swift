import Crypto
import Foundation
import Testing

@testable import DigestCore

@Suite struct DigestRenderingTests {
    let directory = TemporaryDirectory("render")
    static let secret = "golden-secret-0123456789abcdef"
    static let now = Fixtures.date("2026-11-24T03:00:00Z")
    static let date = Day("2026-11-24")!

    /// A store with the example items, a composer over the real templates (clicks counted as configured by
    /// default, `aggregate`, unless `clickCounting` says otherwise), and one reader.
    func setUp(
        name: String? = "Salma Haddad", format: DigestFormat = .html, clickCounting: Configuration.ClickCounting? = nil
    ) async throws -> (Store, DigestComposer, Subscriber) {
        let configuration = try Fixtures.configuration(in: directory) { json in
            if let clickCounting { json["privacy"] = ["clickCounting": clickCounting.rawValue] }
        }
        let store = try Store(path: configuration.database)
        try store.upsert(try Fixtures.exampleItems(), now: Self.now)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: Self.secret])
        let subscriber = try store.addSubscriber(
            Subscriber(email: try EmailAddress("salma@example.com"), name: name, status: .active, format: format))
        return (store, composer, subscriber)
    }

    /// The reader's digest as `send` composes it: from the frozen edition, so its item links are the counted
    /// `/r/TOKEN` links a reader gets by default.
    func compose(_ store: Store, _ composer: DigestComposer, _ subscriber: Subscriber) throws -> ComposedDigest {
        let edition = try composer.ranker.edition(for: Self.date, store: store, freeze: true, now: Self.now)
        return try #require(try composer.digest(for: subscriber, in: edition, alreadyReceived: [], now: Self.now))
    }

    @Test func goldenTextHTMLAndEML() async throws {
        let (store, composer, subscriber) = try await setUp()
        let digest = try compose(store, composer, subscriber)
        try Golden.check(Array(digest.text.utf8), "digest.txt")
        try Golden.check(Array(try #require(digest.html).utf8), "digest.html")
        try Golden.check(digest.message.data, "digest.eml")
    }

    @Test func textIsWrappedAt72WithLinksWrittenOut() async throws {
        let (store, composer, subscriber) = try await setUp()
        let digest = try compose(store, composer, subscriber)
        for line in digest.text.split(separator: "\n") where !line.contains("://") {
            #expect(line.count <= 72, "too long: \(line)")
        }
        // Item links are written out, counted (`privacy.clickCounting` is `aggregate` by default).
        #expect(digest.text.contains("   https://courier.example/digest/r/"))
        #expect(digest.text.contains("Unsubscribe: https://courier.example/digest/unsubscribe?token="))
        #expect(digest.text.contains("Hello Salma Haddad,"))
        #expect(digest.text.contains("TOP STORIES"))
        #expect(digest.text.contains("184 readers voted"))
    }

    @Test func htmlHasLanguageDirectionPreheaderAndNoExternalRequirements() async throws {
        let (store, composer, subscriber) = try await setUp()
        let html = try #require(try compose(store, composer, subscriber).html)
        #expect(html.contains("<html lang=\"en\" dir=\"ltr\""))
        #expect(html.contains("<div class=\"dd-muted\" dir=\"auto\" style=\"max-width:600px;"))  // visible preheader
        #expect(html.contains("prefers-color-scheme: dark"))
        #expect(!html.contains("<img"))  // readable with images off: nothing depends on an image
        #expect(!html.contains("<script"))
    }

    @Test func sizeStaysFarBelowGmailClipping() async throws {
        let (store, composer, subscriber) = try await setUp()
        let digest = try compose(store, composer, subscriber)
        #expect(digest.message.data.count < 60 * 1024)
        #expect(digest.warnings.isEmpty)
    }

    @Test func readersWithoutANameAndTextOnlyReaders() async throws {
        let (store, composer, _) = try await setUp()
        let anonymous = try store.addSubscriber(
            Subscriber(email: try EmailAddress("anon@example.com"), status: .active, format: .text))
        let digest = try compose(store, composer, anonymous)
        #expect(digest.text.contains("Hello, here is what readers liked most."))
        #expect(digest.html == nil)
        let wire = String(decoding: digest.message.data, as: UTF8.self)
        #expect(!wire.contains("text/html"))
    }

    @Test func linksAreSignedPerReaderAndVerify() async throws {
        let (store, composer, subscriber) = try await setUp()
        let digest = try compose(store, composer, subscriber)
        let url = composer.unsubscribeURL(for: subscriber)
        #expect(digest.text.contains(url))
        let token = String(url.split(separator: "=").last!)
        let signer = try LinkSigner(secret: Self.secret)
        #expect(signer.verify(token, purpose: .unsubscribe, subscriberID: subscriber.id!, email: subscriber.email, now: Self.now) == .valid)
        #expect(signer.verify(token, purpose: .preferences, subscriberID: subscriber.id!, email: subscriber.email, now: Self.now) == .invalid)
        // The same reader and edition always get the same Message-ID.
        #expect(composer.messageID(date: Self.date, subscriberID: subscriber.id!) == digest.message.messageID)
        #expect(digest.message.messageID.hasPrefix("<digest.20261124.\(subscriber.id!)."))
    }

    @Test func macsFromThePreKeyedStateMatchAFreshHMAC() throws {
        let signer = try LinkSigner(secret: Self.secret)
        let key = SymmetricKey(data: Data(Self.secret.utf8))
        // Interleaved and repeated: no MAC may see another's bytes through the shared keyed state.
        for text in ["a", "2026-11-24|1", "", "2026-11-24|1", String(repeating: "x", count: 200), "a"] {
            let expected = HMAC<SHA256>.authenticationCode(for: Data(("fingerprint\n" + text).utf8), using: key)
            let hex = expected.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            #expect(signer.fingerprint(text, length: 64) == hex.joined())
        }
    }

    @Test func hostileTitlesNamesAndSummariesAreEscapedNeverInjected() async throws {
        // Counting off: the item's own URL reaches the HTML, where its escaping is seen.
        let (store, composer, _) = try await setUp(clickCounting: .off)
        try store.upsert(
            [
                ItemDraft(
                    kind: .story, title: "<script>alert('x')</script> & \"quotes\"\r\nBcc: victim@example.com",
                    url: "https://n.example/evil?a=1&b=\"2\"", summary: "<img src=x onerror=alert(1)> summary",
                    author: "Mallory\r\nX-Injected: yes", publishedAt: Fixtures.date("2026-11-23T12:00:00Z"), votes: 10_000),
                ItemDraft(
                    kind: .story, title: String(repeating: "Very long title ", count: 80), url: "https://n.example/long",
                    publishedAt: Fixtures.date("2026-11-23T12:00:00Z"), votes: 9_000),
                ItemDraft(
                    kind: .story, title: "مرحبا بالعالم 👋🏽 עברית", url: "https://n.example/rtl",
                    publishedAt: Fixtures.date("2026-11-23T12:00:00Z"), votes: 8_000),
            ], now: Self.now)
        let evil = try store.addSubscriber(
            Subscriber(email: try EmailAddress("evil@example.com"), name: "Eve <b>\"\r\nBcc: x@example.com", status: .active))
        let digest = try compose(store, composer, evil)
        let html = try #require(digest.html)
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("href=\"https://n.example/evil?a=1&amp;b=&quot;2&quot;\""))
        #expect(html.contains("Hello Eve &lt;b&gt;&quot; Bcc: x@example.com,"))
        // The subject (top title) and To name are single header lines: no injected header appears.
        let wire = String(decoding: digest.message.data, as: UTF8.self)
        let headerBlock = wire.components(separatedBy: "\r\n\r\n")[0]
        let headerNames = headerBlock.components(separatedBy: "\r\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") }
            .map { String($0.prefix { $0 != ":" }) }
        #expect(!headerNames.contains("Bcc"))
        #expect(!headerNames.contains("X-Injected"))
        #expect(digest.subject.contains("<script>"))  // the subject is plain text, shown as such
        #expect(!digest.subject.contains("\n") && !digest.subject.contains("\r"))
        // Long titles wrap in text; RTL and emoji survive.
        #expect(digest.text.contains("مرحبا بالعالم 👋🏽 עברית"))
        for line in digest.text.split(separator: "\n") where !line.contains("://") { #expect(line.count <= 72) }
        for line in wire.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
    }

    @Test func templateErrorsNameFileAndLine() async throws {
        let folder = TemporaryDirectory("templates")
        for name in ["digest.txt", "subject.txt"] {
            folder.write("\(name).mustache", "ok {{site.name}}\n")
        }
        folder.write("digest.html.mustache", "<p>\n{{#sections}}\n<b>{{title}}</b>\n{{/items}}\n")
        await #expect {
            try await DigestTemplates(folder: folder.path)
        } throws: { error in
            let error = error as! TemplateError
            return error.file.hasSuffix("digest.html.mustache") && error.line == 4
        }
        let missing = TemporaryDirectory("templates-missing")
        missing.write("digest.txt.mustache", "x")
        await #expect { try await DigestTemplates(folder: missing.path) } throws: { "\($0)".contains("is missing") }
    }

    @Test func missingSecretIsAClearError() async throws {
        let configuration = try Fixtures.configuration(in: directory)
        await #expect {
            try await DigestComposer.make(configuration: configuration, environment: [:])
        } throws: { "\($0)".contains("DIGEST_SECRET") }
    }
}

/// The composed digest, as a reader's mail program would see it, checked by Python's `email` package.
@Suite(.requires(.python3))
struct DigestIndependentParserTests {
    let directory = TemporaryDirectory("render-python")

    @Test func pythonFindsBothPartsWithTheRenderedTextAndNoDefects() async throws {
        let configuration = try Fixtures.configuration(in: directory)
        let store = try Store(path: configuration.database)
        try store.upsert(try Fixtures.exampleItems())
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: "python-check-secret-0123456789"])
        let reader = try store.addSubscriber(
            Subscriber(email: try EmailAddress("jurgen@bücher.example"), name: "Jürgen Müller «ليلى»", status: .active))
        let date = Day("2026-11-24")!
        let edition = try composer.ranker.edition(for: date, store: store, freeze: false)
        let digest = try composer.compose(
            selection: composer.selection(for: reader, in: edition, alreadyReceived: []), date: date, subscriber: reader,
            now: Fixtures.date("2026-11-24T03:00:00Z"))
        let python = MessageBuilderPythonTests()
        let parsed = try await python.parse(digest.message.data)
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        #expect(parsed.content_type == "multipart/alternative")
        #expect(parsed.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(python.unixLines(parsed.parts[0].text) == python.unixLines(digest.text))
        #expect(python.unixLines(parsed.parts[1].text) == python.unixLines(try #require(digest.html)))
        #expect(parsed.subject == digest.subject)
        #expect(parsed.to.name == "Jürgen Müller «ليلى»")
        #expect(parsed.to.address == "jurgen@xn--bcher-kva.example")
        #expect(parsed.headers["List-Unsubscribe"]?.contains(composer.unsubscribeURL(for: reader)) == true)
        #expect(parsed.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
        #expect(parsed.headers["Message-ID"] == digest.message.messageID)
    }
}
