import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// Past editions on the web: the list, each edition's page (the generic copy: nothing personal, share
/// metadata, HEAD, 404 for a day with no closed edition), the Atom feed read by Python's feedparser, and
/// `web.archive: readers` (only through the key of an edition's link) and `off`.
@Suite struct ArchiveTests {
    /// Wednesday 25 November 2026, 10:00 UTC: the editions of the 23rd and 24th have closed; the 26th's,
    /// frozen ahead of time here, has not.
    static let now = Date(timeIntervalSince1970: 1_795_600_800)

    /// A store with the editions of 2026-11-23 and 2026-11-24 frozen (closed by `now`) and 2026-11-26's
    /// (not closed yet), each with a story and a post.
    static func fixture() throws -> SubscriptionFixture {
        let fixture = try SubscriptionFixture()
        let ranker = Ranker(digest: fixture.configuration.digest, timeZone: fixture.configuration.site.timeZone)
        for day in ["2026-11-23", "2026-11-24", "2026-11-26"] {
            let date = Day(day)!
            let window = ranker.window(for: date)
            try fixture.store.upsert([
                ItemDraft(
                    kind: .story, title: "Story of \(day) <b>&</b>", url: "https://courier.example/s/\(day)",
                    summary: "What happened on \(day).", publishedAt: window.lowerBound + 3600, votes: 40),
                ItemDraft(
                    kind: .post, title: "Post of \(day)", url: "https://courier.example/p/\(day)", summary: "",
                    publishedAt: window.lowerBound + 7200, votes: 12),
            ])
            _ = try ranker.edition(for: date, store: fixture.store, freeze: true, now: now)
        }
        return fixture
    }

    func app(_ fixture: SubscriptionFixture, archive: Configuration.Archive = .public) async throws
        -> Application<RouterResponder<WebRequestContext>>
    {
        var settings = WebSettings()
        settings.now = { Self.now }
        return try await fixture.app(settings: settings) { $0.web.archive = archive }
    }

    /// A weekly edition has a page of its own beside the day's (`/archive/DATE/weekly`), listed and in the feed;
    /// a catch-up, cut to each reader, has none.
    @Test func aWeeklyEditionHasItsOwnPage() async throws {
        let fixture = try Self.fixture()
        let ranker = Ranker(digest: fixture.configuration.digest, timeZone: fixture.configuration.site.timeZone)
        for kind in [EditionKind.weekly, .catchUp] {
            _ = try ranker.edition(for: Day("2026-11-24")!, kind: kind, store: fixture.store, freeze: true, now: Self.now)
        }
        try await app(fixture).test(.router) { client in
            let list = try await client.execute(uri: "/archive", method: .get) { $0.text }
            #expect(list.contains("<a href=\"archive/2026-11-24/weekly\">The week&#39;s best, November 24, 2026</a>"), "\(list)")
            #expect(!list.contains("catch-up"))
            let page = try await client.execute(uri: "/archive/2026-11-24/weekly", method: .get) { response in
                #expect(response.status == .ok)
                return response.text
            }
            #expect(page.contains("<h1>The week&#39;s best, Tuesday, November 24, 2026</h1>"))
            #expect(page.contains("Story of 2026-11-23") && page.contains("Story of 2026-11-24"))
            #expect(page.contains("href=\"../../archive\"") && page.contains("href=\"../../subscribe\""))
            #expect(page.contains("<link rel=\"canonical\" href=\"https://courier.example/digest/archive/2026-11-24/weekly\">"))
            for path in ["/archive/2026-11-24/catch-up", "/archive/2026-11-24/daily", "/archive/2026-11-24/yearly"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound, "\(path)") }
            }
            let feed = try await client.execute(uri: "/archive/feed.xml", method: .get) { $0.text }
            #expect(feed.contains("<id>https://courier.example/digest/archive/2026-11-24/weekly</id>"))
        }
    }

    @Test func theListAndEachEditionsPage() async throws {
        let fixture = try Self.fixture()
        try await app(fixture).test(.router) { client in
            let list = try await client.execute(uri: "/archive", method: .get) { response in
                #expect(response.status == .ok)
                return response.text
            }
            #expect(list.contains("<a href=\"archive/2026-11-24\">"))
            #expect(list.contains("<a href=\"archive/2026-11-23\">"))
            #expect(list.range(of: "archive/2026-11-24")!.lowerBound < list.range(of: "archive/2026-11-23")!.lowerBound)
            // Not closed yet: neither listed nor served.
            #expect(!list.contains("2026-11-26"))
            try await client.execute(uri: "/archive/2026-11-26", method: .get) { #expect($0.status == .notFound) }

            let page = try await client.execute(uri: "/archive/2026-11-24", method: .get) { response in
                #expect(response.status == .ok)
                return response.text
            }
            #expect(page.contains("<h1>Tuesday, November 24, 2026</h1>"))
            #expect(page.contains(">Story of 2026-11-24 &lt;b&gt;&amp;&lt;/b&gt;</a>"))
            #expect(page.contains("What happened on 2026-11-24."))
            #expect(page.contains(">Post of 2026-11-24</a>"))
            #expect(page.contains("40 readers voted"))
            // Share metadata, and an indexable page.
            #expect(page.contains("<link rel=\"canonical\" href=\"https://courier.example/digest/archive/2026-11-24\">"))
            #expect(page.contains("<meta property=\"og:title\" content=\"The Amman Courier: Tuesday, November 24, 2026\">"))
            #expect(page.contains("<meta name=\"description\" content=\"Story of 2026-11-24"))
            #expect(!page.contains("noindex"))
            // Nothing personal: no token, no reader, no preference or unsubscribe link.
            for personal in ["token=", "unsubscribe", "preferences", "@example.com"] {
                #expect(!page.contains(personal), "\(personal)")
            }
            try await client.execute(uri: "/archive/2026-11-24", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentLength] == "\(page.utf8.count)")
            }
            for missing in ["/archive/2026-11-25", "/archive/24.11.2026", "/archive/2026-02-30"] {
                try await client.execute(uri: missing, method: .get) { #expect($0.status == .notFound, "\(missing)") }
            }
        }
    }

    @Test(.requires(.feedparser)) func feedparserReadsTheFeedWithoutAnError() async throws {
        let fixture = try Self.fixture()
        try await app(fixture).test(.router) { client in
            let feed = try await client.execute(uri: "/archive/feed.xml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/atom+xml; charset=utf-8")
                return response.text
            }
            let script = """
                import feedparser, json, sys, calendar
                d = feedparser.parse(sys.stdin.buffer.read())
                print(json.dumps({"bozo": d.bozo, "title": d.feed.get("title"), "self": [l.href for l in d.feed.links if l.rel == "self"],
                    "entries": [{"title": e.title, "link": e.link, "id": e.id, "updated": calendar.timegm(e.updated_parsed),
                                 "content": e.content[0].value} for e in d.entries]}))
                """
            let result = try await Programs.run("python3", ["-c", script], input: Data(feed.utf8))
            #expect(result.status == 0, "\(result.standardError)")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(parsed["bozo"] as? Int == 0)
            #expect(parsed["title"] as? String == "The Amman Courier: past editions")
            #expect(parsed["self"] as? [String] == ["https://courier.example/digest/archive/feed.xml"])
            let entries = parsed["entries"] as? [[String: Any]] ?? []
            #expect(entries.map { $0["title"] as? String } == [
                "The Amman Courier: Tuesday, November 24, 2026", "The Amman Courier: Monday, November 23, 2026",
            ])
            #expect(entries.map { $0["link"] as? String } == [
                "https://courier.example/digest/archive/2026-11-24", "https://courier.example/digest/archive/2026-11-23",
            ])
            let ranker = Ranker(digest: fixture.configuration.digest, timeZone: fixture.configuration.site.timeZone)
            #expect(entries.map { $0["updated"] as? Int } == [
                Int(ranker.cutoff(for: Day("2026-11-24")!).timeIntervalSince1970),
                Int(ranker.cutoff(for: Day("2026-11-23")!).timeIntervalSince1970),
            ])
            #expect((entries.first?["content"] as? String)?.contains("<a href=\"https://courier.example/s/2026-11-24\">") == true)
        }
    }

    @Test func forReadersOnlyEachEditionNeedsTheKeyOfItsLink() async throws {
        let fixture = try Self.fixture()
        let key = fixture.signer.archiveKey(for: Day("2026-11-24")!)
        try await app(fixture, archive: .readers).test(.router) { client in
            for path in ["/archive", "/archive/feed.xml", "/archive/2026-11-24", "/archive/2026-11-24?key=wrong",
                         "/archive/2026-11-23?key=\(key)"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound, "\(path)") }
            }
            try await client.execute(uri: "/archive/2026-11-24?key=\(key)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("noindex"))
                #expect(!response.text.contains("All editions"))
            }
        }
        try await app(fixture, archive: .off).test(.router) { client in
            for path in ["/archive", "/archive/feed.xml", "/archive/2026-11-24?key=\(key)"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound, "\(path)") }
            }
        }
    }

    /// Every digest links to its edition's page at the top, text and HTML alike: the plain page for a public
    /// archive, the page with its key for readers only, nothing without an archive; the link opens the page.
    @Test(arguments: [Configuration.Archive.public, .readers, .off])
    func everyDigestLinksToItsPage(archive: Configuration.Archive) async throws {
        let fixture = try Self.fixture()
        var configuration = fixture.configuration
        configuration.web.archive = archive
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: WebFixture.secret])
        let reader = try fixture.add("reader@example.com", status: .active)
        let (_, digest) = try DigestPreview(composer: composer, store: fixture.store)
            .digest(date: Day("2026-11-24")!, subscriber: reader.email, now: Self.now)
        let page = "https://courier.example/digest/archive/2026-11-24"
        switch archive {
        case .public:
            #expect(digest.text.contains("View in your browser: \(page)\n"))
            #expect(digest.html?.contains("<a href=\"\(page)\" class=\"dd-link\"") == true)
        case .readers:
            let link = page + "?key=" + fixture.signer.archiveKey(for: Day("2026-11-24")!)
            // Too long for one line of the text part: the wrapping puts the link on a line of its own.
            #expect(digest.text.contains("View in your browser:\n\(link)\n"))
            try await app(fixture, archive: .readers).test(.router) { client in
                try await client.execute(uri: String(link.dropFirst("https://courier.example/digest".count)), method: .get) {
                    #expect($0.status == .ok)
                }
            }
        case .off:
            #expect(!digest.text.contains("View in your browser"))
            #expect(digest.html?.contains("View in your browser") == false)
        }
    }
}
