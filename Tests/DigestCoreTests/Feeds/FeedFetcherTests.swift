import Foundation
import Logging
import Testing

@testable import DigestCore

/// Feeds fetched over a real HTTP server on loopback.
@Suite struct FeedFetcherTests {
    static let rss = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:slash="http://purl.org/rss/1.0/modules/slash/"><channel><title>Served</title>
        <item><title>One</title><link>/one</link><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
          <slash:comments>5</slash:comments></item>
        <item><title>Two</title><link>https://served.example/two</link></item>
        </channel></rss>
        """

    let directory = TemporaryDirectory("feeds")
    let logger = Logger(label: "test")
    let now = Fixtures.date("2026-11-24T12:00:00Z")

    @Test func conditionalGetAnswersNotModifiedOnTheSecondFetch() async throws {
        directory.write("www/feed.xml", Self.rss)
        let server = try HTTPTestServer(root: directory.file("www"))
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: logger)
        let fetcher = FeedFetcher(store: store)

        let first = try await importer.importSource(server.url("feed.xml"), kind: .post, fetcher: fetcher, now: now)
        #expect(first.format == .feed(.rss2))
        #expect(first.counts == UpsertCounts(inserted: 2, updated: 0))
        // Relative links resolve against the URL the document was served from.
        let one = try #require(try store.item(url: server.url("one")))
        #expect(one.kind == .post)
        #expect(one.publishedAt == Fixtures.date("2026-11-23T10:00:00Z"))
        let state = try #require(try store.feedState(url: server.url("feed.xml")))
        #expect(state.etag?.hasPrefix("\"") == true)
        #expect(state.lastModified?.hasSuffix("GMT") == true)

        let second = try await importer.importSource(server.url("feed.xml"), kind: .post, fetcher: fetcher, now: now)
        #expect(second.format == .notModified)
        #expect(second.summary.contains("not modified"))
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].contains("inm=- ims=-"))
        #expect(requests[1].contains("inm=\(state.etag!)"))
        #expect(requests[1].contains("ae=") && requests[1].contains("gzip"))
    }

    @Test func redirectsAreFollowedAndLinksResolveAgainstTheFinalURL() async throws {
        directory.write("www/real/feed.xml", Self.rss.replacingOccurrences(of: "/one", with: "one"))
        let server = try HTTPTestServer(root: directory.file("www"))
        let fetcher = FeedFetcher(store: nil)
        guard case .fetched(let document) = try await fetcher.fetch(server.url("redirect/real/feed.xml")) else {
            Issue.record("expected a document")
            return
        }
        #expect(document.effectiveURL == server.url("real/feed.xml"))
        #expect(document.status == 200)
        let feed = try FeedParser(kind: .story).parse(document.data, url: document.effectiveURL)
        #expect(feed.drafts.first?.url == server.url("real/one"))
    }

    @Test func errorsNameTheURLAndStatus() async throws {
        let server = try HTTPTestServer(root: directory.path)
        let fetcher = FeedFetcher(store: nil, limits: .init(maxRedirects: 3))
        let missing = await #expect(throws: FeedFetchError.self) { try await fetcher.fetch(server.url("nope.xml")) }
        #expect(missing?.status == 404)
        #expect(missing?.description == "\(server.url("nope.xml")): the server answered HTTP 404 (Not Found)")
        let failing = await #expect(throws: FeedFetchError.self) { try await fetcher.fetch(server.url("status/503")) }
        #expect(failing?.status == 503)
        let loop = await #expect(throws: FeedFetchError.self) { try await fetcher.fetch(server.url("loop")) }
        #expect(loop?.isTooManyRedirects == true)
        let scheme = await #expect(throws: FeedFetchError.self) { try await fetcher.fetch("ftp://127.0.0.1/feed") }
        #expect(scheme?.isUnsupportedScheme == true)
    }

    @Test func theSizeLimitStopsLargeFeeds() async throws {
        directory.write("big.xml", String(repeating: "<!-- padding padding padding -->\n", count: 2000) + Self.rss)
        let server = try HTTPTestServer(root: directory.path)
        let fetcher = FeedFetcher(store: nil, limits: .init(maxBytes: 10_000))
        // Compressed the file is small; the limit applies to what is decoded, so ask without gzip too.
        let error = await #expect(throws: FeedFetchError.self) { try await fetcher.fetch(server.url("big.xml")) }
        #expect(error?.isTooLarge == true)
        let local = await #expect(throws: FeedFetchError.self) {
            try await fetcher.fetch("file://" + directory.file("big.xml"))
        }
        #expect(local?.isTooLarge == true)
    }

    @Test func fileURLsAndPathsAreRead() async throws {
        let path = directory.write("local.xml", Self.rss.replacingOccurrences(of: "/one", with: "https://x.example/1"))
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: logger)
        let byURL = try await importer.importSource("file://" + path, now: now)
        #expect(byURL.counts.inserted == 2)
        let byPath = try await importer.importSource(path, now: now)
        #expect(byPath.counts == UpsertCounts(inserted: 0, updated: 2))
        #expect(try store.feedState(url: "file://" + path) == nil)
        await #expect(throws: FeedFetchError.self) {
            try await importer.importSource("file://" + directory.file("missing.xml"), now: now)
        }
    }
}

@Suite struct FeedImportTests {
    let directory = TemporaryDirectory("feed-import")
    let logger = Logger(label: "test")

    @Test func jsonAndFeedsAreToldApartByContent() async throws {
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: logger)
        let json = directory.write(
            "items.xml",
            """
              [{"kind": "post", "title": "From JSON", "url": "https://j.example/1", "publishedAt": "2026-11-24T07:30:00Z", "votes": 3}]
            """)
        let report = try await importer.importSource(json)
        #expect(report.format == .json)
        #expect(try store.item(url: "https://j.example/1")?.votes == 3)

        let broken = directory.write("broken.json", "<rss><channel>")
        let error = await #expect(throws: ImportError.self) { try await importer.importSource(broken) }
        #expect(error?.description.hasPrefix(broken + ": not well-formed XML") == true)
    }

    @Test func reimportKeepsVotesAndDatesTheFeedDoesNotGive() async throws {
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: logger)
        let path = directory.write(
            "feed.xml",
            """
            <rss version="2.0"><channel>
            <item><title>Dated</title><link>https://k.example/1</link><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
            <item><title>Undated</title><link>https://k.example/2</link></item>
            </channel></rss>
            """)
        try await importer.importSource(path, now: Fixtures.date("2026-11-24T01:00:00Z"))
        // The undated entry is dated like the feed's oldest entry, never newer.
        let first = Fixtures.date("2026-11-23T10:00:00Z")
        #expect(try store.item(url: "https://k.example/2")?.publishedAt == first)
        _ = try store.applyVotes([VoteChange(url: "https://k.example/1", .set(17))])
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "Mon, 23 Nov 2026 10", with: "Tue, 24 Nov 2026 08")
            .write(toFile: path, atomically: true, encoding: .utf8)
        try await importer.importSource(path, now: Fixtures.date("2026-11-24T09:00:00Z"))
        #expect(try store.item(url: "https://k.example/1")?.votes == 17)
        #expect(try store.item(url: "https://k.example/1")?.publishedAt == Fixtures.date("2026-11-24T08:00:00Z"))
        #expect(try store.item(url: "https://k.example/2")?.publishedAt == first)
    }

    @Test func configuredFeedsImportWithTheirKindAndVotesElement() async throws {
        let feedPath = directory.write(
            "blog.atom",
            """
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x">
            <entry><title>Post</title><link href="https://blog.example/p"/><updated>2026-11-24T06:00:00Z</updated>
            <x:score>9</x:score></entry></feed>
            """)
        let configuration = try Fixtures.configuration(in: directory) { json in
            json["feeds"] = [["url": feedPath, "kind": "post", "votesElement": "x:score"]]
        }
        let store = try Store(path: configuration.database)
        let importer = ItemImporter(store: store, logger: logger)
        let report = try await importer.importFeed(configuration.feeds[0])
        #expect(report.format == .feed(.atom))
        let item = try #require(try store.item(url: "https://blog.example/p"))
        #expect(item.kind == .post)
        #expect(item.votes == 9)
        #expect(try store.appliedMigrations().contains("v2-feed-state"))
    }
}
