import Foundation
import Testing

@testable import DigestCore

@Suite struct FeedDateFormTests {
    @Test(arguments: [
        // RFC 822/1123/2822 with obsolete and unusual zones
        ("Sun, 15 Jul 2012 01:16:00 UT", "2012-07-15T01:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 EDT", "2012-07-15T05:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 Z", "2012-07-15T01:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 A", "2012-07-15T01:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 +0000 (UTC)", "2012-07-15T01:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 GMT+2", "2012-07-14T23:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 Etc/GMT", "2012-07-15T01:16:00Z"),
        ("Sun, 15 Jul 2012 01:16:00 America/New_York", "2012-07-15T05:16:00Z"),
        ("Sun, 15-Jul-2012 01:16:00 GMT", "2012-07-15T01:16:00Z"),
        ("Sunday, July 15, 2012 1:16 PM EST", "2012-07-15T18:16:00Z"),
        ("15 Jul 12 01:16 PST", "2012-07-15T09:16:00Z"),
        // asctime and JavaScript
        ("Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z"),
        ("Sun Jul 15 01:16:00 2012", "2012-07-15T01:16:00Z"),
        ("Sun Jul  5 01:16:00 GMT 2012", "2012-07-05T01:16:00Z"),
        // "26 January 2004 16:31:00 ET"
        ("26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z"),
        ("26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"),
        ("January 26, 2004 16:31 CT", "2004-01-26T22:31:00Z"),
        // ISO 8601 / W3C-DTF, partial dates
        ("2003-12-31T10:14:55.1234-08:00", "2003-12-31T18:14:55Z"),
        ("2003-12-31T10:14Z", "2003-12-31T10:14:00Z"),
        ("2003-12-31", "2003-12-31T00:00:00Z"),
        ("2003-12", "2003-12-01T00:00:00Z"),
        ("2003", "2003-01-01T00:00:00Z"),
        ("20031231T101455Z", "2003-12-31T10:14:55Z"),
        ("2003-12-31 10:14:55 +01:00", "2003-12-31T09:14:55Z"),
        ("2003-335", "2003-12-01T00:00:00Z"),
        ("2004-366", "2004-12-31T00:00:00Z"),
        // MSSQL and Perforce
        ("2004-07-08 23:56:58.0", "2004-07-08T23:56:58Z"),
        ("Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"),
        // RFC 850
        ("Tuesday, 24-Nov-26 07:30:00 GMT", "2026-11-24T07:30:00Z"),
    ])
    func parses(_ text: String, _ expected: String) {
        #expect(FeedDate.parse(text) == Fixtures.date(expected), "\(text)")
    }

    @Test(arguments: [
        "2003-02-30", "Sun, 15 Jul 2012 25:00:00 GMT", "Marathon 15 2012", "15 Jul 2012 01:16 Mars/Base", "2003-366",
        "2006/13/15 08:19:53",
    ])
    func refusesImpossibleOrUnknown(_ text: String) {
        #expect(FeedDate.parse(text) == nil)
    }
}

@Suite struct FeedFallbackTests {
    let now = Fixtures.date("2026-11-24T12:00:00Z")

    func parse(_ xml: String) throws -> ParsedFeed {
        try FeedParser(kind: .story, now: now).parse(Data(xml.utf8), url: "https://fb.example/rss")
    }

    @Test func atomIdThatIsAWebURLServesAsTheLink() throws {
        let feed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
            <entry><title>Only an id</title><id>https://fb.example/posts/1</id><updated>2026-11-23T10:00:00Z</updated></entry>
            <entry><title>A tag id</title><id>tag:fb.example,2026:2</id><updated>2026-11-23T10:00:00Z</updated></entry>
            </feed>
            """)
        #expect(feed.drafts.map(\.url) == ["https://fb.example/posts/1"])
        #expect(feed.problems.map(\.description) == ["entry 2 (A tag id): has no link; skipped"])
    }

    @Test func titlesFromDublinCoreAndMediaRSS() throws {
        let feed = try parse(
            """
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:m="http://search.yahoo.com/mrss/">
            <channel>
            <item><dc:title>From Dublin Core</dc:title><link>https://fb.example/1</link></item>
            <item><m:group><m:title>From &lt;i&gt;Media&lt;/i&gt; RSS</m:title></m:group><link>https://fb.example/2</link></item>
            <item><title>Own title</title><dc:title>Not this</dc:title><link>https://fb.example/3</link></item>
            </channel></rss>
            """)
        #expect(feed.drafts.map(\.title) == ["From Dublin Core", "From Media RSS", "Own title"])
    }

    @Test func summariesFromEveryPlaceFeedReadersLook() throws {
        let feed = try parse(
            """
            <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
                 xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:media="http://search.yahoo.com/mrss/"
                 xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel>
            <item><title>1</title><link>https://fb.example/1</link>
              <content:encoded><![CDATA[<p>From <b>content:encoded</b></p>]]></content:encoded></item>
            <item><title>2</title><link>https://fb.example/2</link>
              <xhtml:body><xhtml:p>From <xhtml:b>xhtml:body</xhtml:b></xhtml:p></xhtml:body></item>
            <item><title>3</title><link>https://fb.example/3</link>
              <body xmlns="http://www.w3.org/1999/xhtml"><p>From a default-namespace body</p></body></item>
            <item><title>4</title><link>https://fb.example/4</link>
              <media:content url="https://fb.example/4.mp4"><media:description>From media:description</media:description></media:content></item>
            <item><title>5</title><link>https://fb.example/5</link>
              <itunes:summary>From itunes:summary</itunes:summary></item>
            <item><title>6</title><link>https://fb.example/6</link>
              <dc:description>From &lt;em&gt;dc:description&lt;/em&gt;</dc:description></item>
            <item><title>7</title><link>https://fb.example/7</link><description></description>
              <itunes:summary>An empty description does not hide this</itunes:summary></item>
            </channel></rss>
            """)
        #expect(
            feed.drafts.map(\.summary) == [
                "From content:encoded", "From xhtml:body", "From a default-namespace body", "From media:description",
                "From itunes:summary", "From dc:description", "An empty description does not hide this",
            ])
    }

    @Test func anEntryWithoutAReadableDateIsNeverNewerThanTheOthers() throws {
        let feed = try parse(
            """
            <rss version="2.0"><channel>
            <item><title>New</title><link>https://fb.example/new</link><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
            <item><title>Garbled</title><link>https://fb.example/garbled</link><pubDate>last Tuesday</pubDate></item>
            <item><title>Old</title><link>https://fb.example/old</link><pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item>
            <item><title>None</title><link>https://fb.example/none</link></item>
            </channel></rss>
            """)
        let dates = Dictionary(uniqueKeysWithValues: feed.drafts.map { ($0.title, $0.publishedAt) })
        #expect(dates["Garbled"] == Fixtures.date("2026-11-20T08:00:00Z"))
        #expect(dates["None"] == Fixtures.date("2026-11-20T08:00:00Z"))
        #expect(feed.undated == ["https://fb.example/garbled", "https://fb.example/none"])
        #expect(
            feed.problems.map(\.description) == [
                "entry 2 (Garbled): date \"last Tuesday\" is not understood; dated like the feed's oldest entry",
                "entry 4 (None): has no date; dated like the feed's oldest entry",
            ])
    }

    @Test func anUndatedEntryIsNotDatedAfterTheFetchEvenWhenTheOthersAre() throws {
        let feed = try parse(
            """
            <rss version="2.0"><channel>
            <item><title>Ahead</title><link>https://fb.example/ahead</link><pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate></item>
            <item><title>None</title><link>https://fb.example/none</link></item>
            </channel></rss>
            """)
        #expect(feed.drafts.last?.publishedAt == now)
    }

    @Test func aFeedWithoutAnyDateGetsTheFetchTime() throws {
        let feed = try parse(
            "<rss version=\"2.0\"><channel><item><title>A</title><link>https://fb.example/a</link></item></channel></rss>")
        #expect(feed.drafts.first?.publishedAt == now)
        #expect(feed.problems.first?.message == "has no date; using the fetch time")
    }
}

@Suite struct ImportedTextTests {
    @Test func bidiControlsAreStrippedAndEdgeMarksToo() {
        #expect(ImportedText.normalized("Sale ends \u{202E}2027\u{202C} now") == "Sale ends 2027 now")
        #expect(ImportedText.normalized("\u{2067}isolated\u{2069}") == "isolated")
        #expect(ImportedText.normalized("\u{200F} عمّان (AP)\u{200F} news \u{200E}") == "عمّان (AP)\u{200F} news")
        #expect(ImportedText.normalized("  plain\n text ") == "plain text")
    }

    @Test func feedsJSONAndTheAPIShareTheRule() throws {
        let feed = try FeedParser(kind: .story, now: Fixtures.date("2026-11-24T12:00:00Z")).parse(
            Data(
                "<rss version=\"2.0\"><channel><item><title>A &#x202E;2027</title><author>x@y.z (Jo&#x202E;e)</author><description>s&#x2066;um</description><link>https://b.example/1</link></item></channel></rss>"
                    .utf8), url: "https://b.example/rss")
        #expect(feed.drafts.first?.title == "A 2027")
        #expect(feed.drafts.first?.author == "Joe")
        #expect(feed.drafts.first?.summary == "sum")
        let record = try JSONValue.parse(
            Data(#"{"kind":"story","title":"B \u202E2027","url":"https://b.example/2","author":"\u2067Al","summary":"<p>Hello <b>there</b> &amp; \u202Eyou</p>","publishedAt":"2026-11-24T07:30:00Z"}"#.utf8))
        let draft = try ItemRecordParser.parse(record)
        #expect(draft.title == "B 2027")
        #expect(draft.author == "Al")
        #expect(draft.summary == "Hello there & you")
    }
}
