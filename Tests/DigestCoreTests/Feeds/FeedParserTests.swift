import Foundation
import Testing

@testable import DigestCore

@Suite struct FeedParserTests {
    let now = Fixtures.date("2026-11-24T12:00:00Z")

    func parse(
        _ xml: String, url: String = "https://news.example/feed.xml", kind: ItemKind = .story,
        votesElement: String? = nil
    ) throws -> ParsedFeed {
        try FeedParser(kind: kind, votesElement: votesElement, now: now).parse(Data(xml.utf8), url: url)
    }

    @Test func rss2WithCDATAEntitiesRelativeLinksDuplicatesAndVotes() throws {
        let feed = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
                 xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:atom="http://www.w3.org/2005/Atom">
              <channel>
                <title>The Courier</title>
                <link>https://news.example/</link>
                <item>
                  <title>Caf&amp;eacute; &amp;amp; bar</title>
                  <atom:link href="https://news.example/self" rel="self"/>
                  <link>/stories/1</link>
                  <description><![CDATA[<p>Hello <b>world</b> &amp; &eacute;t&eacute; &#8212; &#x263A;</p><script>alert(1)</script>]]></description>
                  <dc:creator>Rania Haddad</dc:creator>
                  <pubDate>Tue, 24 Nov 2026 07:30:00 EST</pubDate>
                  <slash:comments>42</slash:comments>
                  <enclosure url="https://news.example/1.jpg" type="image/jpeg" length="1"/>
                </item>
                <item>
                  <title>No link here</title>
                  <description>lost</description>
                </item>
                <item>
                  <title>Same story again</title>
                  <link>https://news.example/stories/1</link>
                </item>
                <item>
                  <link>https://news.example/untitled</link>
                </item>
                <item>
                  <title>Undated</title>
                  <guid>https://news.example/stories/2</guid>
                  <author>desk@news.example (News Desk)</author>
                </item>
              </channel>
            </rss>
            """, votesElement: "slash:comments")
        #expect(feed.format == .rss2)
        #expect(feed.title == "The Courier")
        #expect(feed.drafts.count == 2)
        let first = try #require(feed.drafts.first)
        #expect(first.title == "Café & bar")
        #expect(first.url == "https://news.example/stories/1")
        #expect(first.summary == "Hello world & été — ☺")
        #expect(first.author == "Rania Haddad")
        #expect(first.publishedAt == Fixtures.date("2026-11-24T12:30:00Z"))
        #expect(first.votes == 42)
        #expect(first.imageURL == "https://news.example/1.jpg")
        #expect(first.kind == .story)

        let undated = feed.drafts[1]
        #expect(undated.url == "https://news.example/stories/2")
        // Never newer than the feed's dated entries, nor than the fetch (the dated entry is ahead of `now`).
        #expect(undated.publishedAt == now)
        #expect(undated.author == "News Desk")
        #expect(undated.votes == 0)
        #expect(feed.undated == ["https://news.example/stories/2"])

        let skipped = feed.problems.filter(\.skipped)
        #expect(skipped.map(\.entry) == [2, 3, 4])
        #expect(skipped[0].message == "has no link")
        #expect(skipped[1].message == "same link as entry 1")
        #expect(skipped[2].message == "has no title")
        #expect(feed.problems.contains { !$0.skipped && $0.entry == 5 && $0.message.contains("no date") })
    }

    @Test func rss1RDF() throws {
        let feed = try parse(
            """
            <?xml version="1.0"?>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
                     xmlns:dc="http://purl.org/dc/elements/1.1/">
              <channel rdf:about="https://blog.example/">
                <title>A Blog</title>
                <link>https://blog.example/</link>
              </channel>
              <item rdf:about="https://blog.example/a">
                <title>First post</title>
                <link>https://blog.example/a</link>
                <description>Plain &amp; simple</description>
                <dc:date>2026-11-23T18:05+02:00</dc:date>
                <dc:creator>Omar</dc:creator>
              </item>
              <item rdf:about="https://blog.example/b">
                <title>Second post</title>
                <link>b</link>
                <dc:date>2026-11-22</dc:date>
              </item>
            </rdf:RDF>
            """, url: "https://blog.example/index.rdf", kind: .post)
        #expect(feed.format == .rss1)
        #expect(feed.title == "A Blog")
        #expect(feed.drafts.map(\.url) == ["https://blog.example/a", "https://blog.example/b"])
        #expect(feed.drafts[0].summary == "Plain & simple")
        #expect(feed.drafts[0].author == "Omar")
        #expect(feed.drafts[0].publishedAt == Fixtures.date("2026-11-23T16:05:00Z"))
        #expect(feed.drafts[1].publishedAt == Fixtures.date("2026-11-22T00:00:00Z"))
        #expect(feed.drafts.allSatisfy { $0.kind == .post })
    }

    @Test func atomWithXMLBaseContentTypesAndAuthors() throws {
        let feed = try parse(
            """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/blog/">
              <title type="text">Atom &amp; Eve</title>
              <link rel="self" href="https://atom.example/feed.atom"/>
              <entry>
                <title type="html">&lt;em&gt;Bold&lt;/em&gt; claims &amp;amp; more</title>
                <link rel="self" href="https://atom.example/api/1"/>
                <link rel="alternate" type="text/html" href="posts/1"/>
                <id>tag:atom.example,2026:1</id>
                <published>2026-11-24T09:15:00+01:00</published>
                <updated>2026-11-24T10:00:00Z</updated>
                <author><name>Lina</name><email>lina@atom.example</email></author>
                <summary type="html">&lt;p&gt;It&amp;rsquo;s &lt;a href="x"&gt;here&lt;/a&gt;&lt;/p&gt;</summary>
              </entry>
              <entry xml:base="https://other.example/base/">
                <title>1 &lt; 2</title>
                <link href="../two"/>
                <updated>2026-11-23T21:00:00.250Z</updated>
                <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two</p></div></content>
              </entry>
            </feed>
            """, url: "https://atom.example/feed.atom")
        #expect(feed.format == .atom)
        #expect(feed.title == "Atom & Eve")
        #expect(feed.drafts.count == 2)
        #expect(feed.drafts[0].title == "Bold claims & more")
        #expect(feed.drafts[0].url == "https://atom.example/blog/posts/1")
        #expect(feed.drafts[0].publishedAt == Fixtures.date("2026-11-24T08:15:00Z"))
        #expect(feed.drafts[0].author == "Lina")
        #expect(feed.drafts[0].summary == "It’s here")
        #expect(feed.drafts[1].title == "1 < 2")
        #expect(feed.drafts[1].url == "https://other.example/two")
        #expect(feed.drafts[1].publishedAt == Fixtures.date("2026-11-23T21:00:00Z"))
        #expect(feed.drafts[1].summary == "One Two")
        #expect(feed.problems.isEmpty)
    }

    @Test func latin1PrologIsTranscoded() throws {
        var bytes = Array(
            """
            <?xml version="1.0" encoding="ISO-8859-1"?>
            <rss version="2.0"><channel><title>Caf
            """.utf8)
        bytes += [0xE9]
        bytes +=
            Array(
                "</title><item><title>Cr".utf8) + [0xE8, 0x6D, 0x65] + Array(" br".utf8) + [0xFB, 0x6C, 0xE9, 0x65]
            + Array("</title><link>https://latin.example/1</link></item></channel></rss>".utf8)
        let feed = try FeedParser(kind: .story, now: now).parse(Data(bytes), url: "https://latin.example/rss")
        #expect(feed.title == "Café")
        #expect(feed.drafts.first?.title == "Crème brûlée")
    }

    @Test func windows1252PrologIsTranscoded() throws {
        let bytes =
            Array("<?xml version='1.0' encoding='windows-1252'?><rss version=\"2.0\"><channel><item><title>".utf8)
            + [0x93] + Array("Quoted".utf8) + [0x94, 0x20, 0x96, 0x20, 0x80, 0x35]
            + Array("</title><link>https://cp.example/1</link></item></channel></rss>".utf8)
        let feed = try FeedParser(kind: .story, now: now).parse(Data(bytes), url: "https://cp.example/rss")
        #expect(feed.drafts.first?.title == "“Quoted” – €5")
    }

    @Test func localFileFeedResolvesRelativeLinksAgainstTheSiteLink() throws {
        let feed = try parse(
            """
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
            <atom:link href="file:///elsewhere/feed.xml" rel="self"/><link>https://site.example/news/</link>
            <item><title>Relative</title><link>story?id=7</link></item></channel></rss>
            """, url: "file:///tmp/feed.xml")
        #expect(feed.drafts.first?.url == "https://site.example/news/story?id=7")
    }

    @Test func fileLinksAreNotItems() throws {
        let feed = try parse(
            "<rss version=\"2.0\"><channel><item><title>Local</title><link>notes.html</link></item></channel></rss>",
            url: "file:///tmp/feed.xml")
        #expect(feed.drafts.isEmpty)
        #expect(feed.problems.first?.message.contains("is not an http(s) URL") == true)
    }

    @Test func brokenDocumentsAreRefused() throws {
        #expect(throws: FeedError.self) { try parse("<rss><channel><item></channel></rss>") }
        let notFeed = #expect(throws: FeedError.self) { try parse("<html><body>hi</body></html>") }
        #expect(notFeed?.isNotAFeed == true)
        #expect(notFeed?.description == "not an RSS or Atom feed: the root element at line 1, column 1 is <html>")
        let notXML = #expect(throws: FeedError.self) { try parse("this is not xml") }
        #expect(notXML?.isNotXML == true)
        let encoding = #expect(throws: FeedError.self) {
            try parse("<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?><rss/>")
        }
        #expect(encoding?.description.contains("iso-2022-kr") == true)
    }
}

@Suite struct FeedDateTests {
    @Test(arguments: [
        ("Tue, 24 Nov 2026 07:30:00 GMT", "2026-11-24T07:30:00Z"),
        ("Tue, 24 Nov 2026 07:30:00 +0200", "2026-11-24T05:30:00Z"),
        ("24 Nov 2026 07:30 PST", "2026-11-24T15:30:00Z"),
        ("Tue, 24 Nov 26 07:30:00 EDT", "2026-11-24T11:30:00Z"),
        ("Tuesday, 24 November 2026 07:30:00 UT", "2026-11-24T07:30:00Z"),
        ("Tue, 24 Nov 2026 07:30:00 -05:00", "2026-11-24T12:30:00Z"),
        ("Tue, 24 Nov 2026 07:30:00", "2026-11-24T07:30:00Z"),
        ("2026-11-24T07:30:00Z", "2026-11-24T07:30:00Z"),
        ("2026-11-24T07:30Z", "2026-11-24T07:30:00Z"),
        ("2026-11-24T07:30:00.123456+03:00", "2026-11-24T04:30:00Z"),
        ("2026-11-24 07:30:00+0100", "2026-11-24T06:30:00Z"),
        ("2026-11-24T07:30:00", "2026-11-24T07:30:00Z"),
        ("2026-11-24", "2026-11-24T00:00:00Z"),
    ])
    func parses(_ text: String, _ expected: String) {
        #expect(FeedDate.parse(text) == Fixtures.date(expected))
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01", "31 Feb 2026 10:00 GMT", "Tue, 24 Nov 2026 25:61 GMT", "24 Nov 2026 07:30 XYZ",
    ])
    func refuses(_ text: String) {
        #expect(FeedDate.parse(text) == nil)
    }
}

@Suite struct HTMLTextTests {
    @Test func stripsTagsAndDecodesEntities() {
        #expect(HTMLText.plainText("<p>One</p><p>Two &amp; <i>three</i></p>") == "One Two & three")
        #expect(HTMLText.plainText("a < b &lt; c") == "a < b < c")
        #expect(HTMLText.plainText("<style>p{}</style>Text<!-- hidden -->!") == "Text!")
        #expect(HTMLText.plainText("&#8220;q&#x201D; &nbsp;&unknown; &#150;") == "“q” &unknown; –")
        #expect(HTMLText.plainText("line\n\n  break<br/>here") == "line break here")
    }
}

@Suite struct FeedEncodingTests {
    @Test func undeclaredHTMLEntitiesDoNotBreakTheFeed() throws {
        let feed = try FeedParser(kind: .story).parse(
            Data(
                """
                <rss version="2.0"><channel><item><title>Caf&eacute;&nbsp;&amp;&#160;bar &mdash; ok</title>
                <link>https://e.example/1</link><description><![CDATA[Keep &eacute; as written]]></description>
                </item></channel></rss>
                """.utf8), url: "https://e.example/rss")
        #expect(feed.drafts.first?.title == "Café & bar — ok")
        #expect(feed.drafts.first?.summary == "Keep é as written")
    }
}
