import Foundation
import Testing

@testable import DigestCore

// One fixture per class of issue 29: what other feed readers (feedparser among them) read and DailyDigest
// did not. Bytes of other encodings are written here as Python's codecs encode them.

private let now = Fixtures.date("2026-11-24T12:00:00Z")

private func parse(_ data: Data) throws -> ParsedFeed {
    try FeedParser(kind: .story, now: now).parse(data, url: "https://parity.example/feed")
}

private func parse(_ xml: String) throws -> ParsedFeed { try parse(Data(xml.utf8)) }

@Suite struct FeedUndeclaredEncodingTests {
    /// A one-item RSS document with no XML declaration whose title is `titleBytes`.
    func feed(_ titleBytes: [UInt8]) -> Data {
        Data(
            Array("<rss version=\"2.0\"><channel><title>T</title><item><title>".utf8) + titleBytes
                + Array("</title><link>https://enc.example/1</link></item></channel></rss>".utf8))
    }

    @Test(arguments: [
        ("big5", [187, 79, 165, 95, 165, 171, 172, 70, 169, 178, 164, 181, 164, 209, 171, 197, 165, 172, 183, 115, 170, 186, 165, 230, 179, 113, 172, 70, 181, 166], "臺北市政府今天宣布新的交通政策"),
        ("shift_jis", [147, 140, 139, 158, 147, 115, 130, 205, 141, 161, 147, 250, 144, 86, 130, 181, 130, 162, 140, 240, 146, 202, 144, 173, 141, 244, 130, 240, 148, 173, 149, 92, 130, 181, 130, 220, 130, 181, 130, 189], "東京都は今日新しい交通政策を発表しました"),
        ("euc-kr", [188, 173, 191, 239, 189, 195, 180, 194, 32, 191, 192, 180, 195, 32, 187, 245, 183, 206, 191, 238, 32, 177, 179, 197, 235, 32, 193, 164, 195, 165, 192, 187, 32, 185, 223, 199, 165, 199, 223, 189, 192, 180, 207, 180, 217], "서울시는 오늘 새로운 교통 정책을 발표했습니다"),
        ("koi8-r", [237, 220, 210, 201, 209, 32, 237, 207, 211, 203, 215, 217, 32, 207, 194, 223, 209, 215, 201, 204, 193, 32, 207, 32, 206, 207, 215, 207, 202, 32, 212, 210, 193, 206, 211, 208, 207, 210, 212, 206, 207, 202, 32, 208, 207, 204, 201, 212, 201, 203, 197], "Мэрия Москвы объявила о новой транспортной политике"),
    ] as [(String, [UInt8], String)])
    func isDetectedAndSaidInTheWarning(_ encoding: String, _ bytes: [UInt8], _ expected: String) throws {
        let parsed = try parse(feed(bytes))
        #expect(parsed.drafts.first?.title == expected)
        #expect(parsed.encoding == encoding)
        #expect(
            parsed.warnings == ["declares no encoding and is not UTF-8; read as \(encoding), which uchardet detected"])
    }

    /// A UTF-8 document with a stray Latin-1 byte is still UTF-8 to the detector: only that byte is windows-1252.
    @Test func mostlyUTF8KeepsItsUTF8() throws {
        let parsed = try parse(feed(Array("Мэрия Москвы объявила о новой политике, caf".utf8) + [0xE9]))
        #expect(parsed.drafts.first?.title == "Мэрия Москвы объявила о новой политике, café")
        #expect(parsed.encoding == "windows-1252")
    }

    /// The detector's guesses between Latin code pages are not trusted: "Tom’s blog" is not MAC-CENTRALEUROPE.
    @Test func westernTextStaysWindows1252() throws {
        let parsed = try parse(feed(Array("Tom".utf8) + [0x92] + Array("s blog: caf".utf8) + [0xE9]))
        #expect(parsed.drafts.first?.title == "Tom’s blog: café")
        #expect(parsed.encoding == "windows-1252")
    }
}

@Suite struct FeedCodePagesOutsideTheStandardTests {
    /// DOS and EBCDIC code pages browsers never learnt, read with iconv as Python's codecs read them.
    @Test func aDOSCodePageIsReadAsDeclared() throws {
        let bytes =
            Array("<?xml version=\"1.0\" encoding=\"cp437\"?><rss version=\"2.0\"><channel><title>".utf8) + [0x80, 0x82]
            + Array("</title></channel></rss>".utf8)
        let parsed = try parse(Data(bytes))
        #expect(parsed.title == "Çé")
        #expect(parsed.encoding == "cp437")
    }

    @Test func anEBCDICDocumentIsToldByItsFirstBytes() throws {
        // "<?xml version="1.0" encoding="cp037"?><rss><channel><title>Ø</title></channel></rss>" in IBM037.
        let text = "<?xml version=\"1.0\" encoding=\"cp037\"?><rss><channel><title>Ø</title></channel></rss>"
        let ibm037: [Character: UInt8] = [
            "<": 0x4C, "?": 0x6F, "x": 0xA7, "m": 0x94, "l": 0x93, " ": 0x40, "v": 0xA5, "e": 0x85, "r": 0x99,
            "s": 0xA2, "i": 0x89, "o": 0x96, "n": 0x95, "=": 0x7E, "\"": 0x7F, "1": 0xF1, ".": 0x4B, "0": 0xF0,
            "c": 0x83, "d": 0x84, "g": 0x87, "p": 0x97, "3": 0xF3, "7": 0xF7, ">": 0x6E, "h": 0x88, "a": 0x81,
            "t": 0xA3, "/": 0x61, "Ø": 0x80,
        ]
        let parsed = try parse(Data(text.map { ibm037[$0]! }))
        #expect(parsed.title == "Ø")
    }
}

@Suite struct FeedUTF32Tests {
    static let text =
        "<?xml version=\"1.0\" encoding=\"UTF-32\"?><rss version=\"2.0\"><channel><item><title>Ωμέγα 日本 𝄞</title>"
        + "<link>https://enc.example/1</link></item></channel></rss>"

    static func bytes(bigEndian: Bool) -> [UInt8] {
        text.unicodeScalars.flatMap { scalar -> [UInt8] in
            let v = scalar.value
            let big = [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            return bigEndian ? big : big.reversed()
        }
    }

    @Test(arguments: [
        ("big-endian with a byte order mark", [0x00, 0x00, 0xFE, 0xFF] + bytes(bigEndian: true), "utf-32be"),
        ("little-endian with a byte order mark", [0xFF, 0xFE, 0x00, 0x00] + bytes(bigEndian: false), "utf-32le"),
        ("big-endian, told by its first bytes", bytes(bigEndian: true), "utf-32be"),
        ("little-endian, told by its first bytes", bytes(bigEndian: false), "utf-32le"),
    ] as [(String, [UInt8], String)])
    func isRead(_ form: String, _ bytes: [UInt8], _ encoding: String) throws {
        let parsed = try parse(Data(bytes))
        #expect(parsed.drafts.first?.title == "Ωμέγα 日本 𝄞", "\(form)")
        #expect(parsed.encoding == encoding)
    }
}

@Suite struct FeedNamespacedRSSTests {
    @Test func rss1WithEveryElementPrefixed() throws {
        let parsed = try parse(
            """
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rss="http://purl.org/rss/1.0/"
                xmlns:x="http://example.com/other/">
              <rss:channel rdf:about="https://ns.example/"><rss:title>Prefixed</rss:title>
                <rss:link>https://ns.example/</rss:link></rss:channel>
              <rss:item rdf:about="https://ns.example/1">
                <rss:title>First item</rss:title><rss:link>https://ns.example/1</rss:link>
                <x:description>not the description</x:description>
                <rss:description>the description</rss:description>
              </rss:item>
            </rdf:RDF>
            """)
        #expect(parsed.format == .rss1)
        #expect(parsed.title == "Prefixed")
        #expect(parsed.drafts.map(\.title) == ["First item"])
        #expect(parsed.drafts.first?.url == "https://ns.example/1")
        #expect(parsed.drafts.first?.summary == "the description")
    }

    @Test func rss2InTheUserlandNamespace() throws {
        let parsed = try parse(
            """
            <r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel><r:title>NS</r:title>
              <r:item><r:title>Second</r:title><r:link>https://ns.example/2</r:link>
                <r:pubDate>Sat, 28 Sep 2002 21:00:02 GMT</r:pubDate></r:item>
            </r:channel></r:rss>
            """)
        #expect(parsed.drafts.map(\.url) == ["https://ns.example/2"])
        #expect(parsed.drafts.first?.publishedAt == Fixtures.date("2002-09-28T21:00:02Z"))
    }
}

@Suite struct FeedBase64Tests {
    @Test func atom03ModeBase64() throws {
        let parsed = try parse(
            """
            <feed version="0.3" xmlns="http://purl.org/atom/ns#"><title mode="base64">RmVlZCDigJQgdGl0bGU=</title>
              <entry><title mode="base64">
                RXhhbXBsZSA8Yj5BdG9tPC9iPg==
              </title><link rel="alternate" href="https://b64.example/1"/>
              <summary type="text/html" mode="base64">PHA+SGlzdG9yeSBvZiB0aGUgJmx0O2JsaW5rJmd0OyB0YWc8L3A+</summary>
              </entry>
            </feed>
            """)
        #expect(parsed.title == "Feed — title")
        #expect(parsed.drafts.first?.title == "Example <b>Atom</b>")
        #expect(parsed.drafts.first?.summary == "History of the <blink> tag")
    }

    @Test func atom10ContentOfANonTextType() throws {
        let parsed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Binary</title>
              <link href="https://b64.example/2"/>
              <content type="application/octet-stream">
                RXhhbXBsZSA8Yj5BdG9tPC9iPg==
              </content>
            </entry></feed>
            """)
        #expect(parsed.drafts.first?.summary == "Example <b>Atom</b>")
    }
}

@Suite struct FeedLinksAndContentTests {
    @Test func atomLinkWithTheAddressAsText() throws {
        let parsed = try parse(
            """
            <feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title>Text link</title>
              <link rel="alternate" type="text/html">https://links.example/text</link>
            </entry></feed>
            """)
        #expect(parsed.drafts.first?.url == "https://links.example/text")
    }

    @Test func rssItemLinkWrittenTheAtomWay() throws {
        let parsed = try parse(
            """
            <rss version="2.0"><channel><item><title>Fiat Lux</title>
              <link href="https://links.example/podcast/1"/>
              <link rel="enclosure" type="audio/mpeg" href="https://links.example/1.mp3"/>
            </item></channel></rss>
            """)
        #expect(parsed.drafts.first?.url == "https://links.example/podcast/1")
    }

    @Test func theFirstAlternateAmongSeveral() throws {
        let parsed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Links</title>
              <link rel="self" href="https://links.example/self"/>
              <link rel="related" href="https://links.example/related"/>
              <link rel="alternate" type="text/html" href="https://links.example/first"/>
              <link rel="alternate" type="application/pdf" href="https://links.example/second"/>
            </entry></feed>
            """)
        #expect(parsed.drafts.first?.url == "https://links.example/first")
    }

    @Test func anXHTMLFeedTitleReadsAsItsTextWithoutScripts() throws {
        let parsed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">\
            Example <a href="t.html">test</a><script>alert(1)</script></div></title></feed>
            """)
        #expect(parsed.title == "Example test")
    }

    @Test func xhtmlBodyAndFullItemAreTheSummaryWhenThereIsNoDescription() throws {
        let parsed = try parse(
            """
            <rss version="2.0"><channel>
              <item><title>Body</title><link>https://links.example/body</link>
                <body xmlns="http://www.w3.org/1999/xhtml"><p>Read <b>all</b> of it</p></body></item>
              <item><title>Full</title><link>https://links.example/full</link>
                <fullitem>&lt;p&gt;The whole &lt;i&gt;item&lt;/i&gt;&lt;/p&gt;</fullitem></item>
            </channel></rss>
            """)
        #expect(parsed.drafts.map(\.summary) == ["Read all of it", "The whole item"])
    }
}

@Suite struct FeedDateLanguageTests {
    @Test(arguments: [
        // Greek, Hungarian and Korean month and day names (feedparser's forms)
        ("Κυρ, 11 Ιούλ 2004 12:00:00 EST", "2004-07-11T17:00:00Z"),
        ("Τρι, 04 Μαΐ 2004 08:00:00 +0300", "2004-05-04T05:00:00Z"),
        ("2004-július-13T9:15-05:00", "2004-07-13T14:15:00Z"),
        ("13 szeptember 2004 10:00 GMT", "2004-09-13T10:00:00Z"),
        ("2004년 05월 28일  01:31:15", "2004-05-27T16:31:15Z"),
        ("2004-05-25 오후 11:23:17", "2004-05-25T14:23:17Z"),
        ("2004-05-25 오전 12:05:00", "2004-05-24T15:05:00Z"),
        // Two-digit years, ISO 8601 ordinal and reduced forms
        ("Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z"),
        ("03-12-31", "2003-12-31T00:00:00Z"),
        ("031231", "2003-12-31T00:00:00Z"),
        ("03335", "2003-12-01T00:00:00Z"),
        ("-03-12", "2003-12-01T00:00:00Z"),
        ("-0312", "2003-12-01T00:00:00Z"),
        ("2003-335T10:00Z", "2003-12-01T10:00:00Z"),
        ("2003335", "2003-12-01T00:00:00Z"),
        ("2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z"),
    ])
    func parses(_ text: String, _ expected: String) {
        #expect(FeedDate.parse(text) == Fixtures.date(expected), "\(text)")
    }

    /// Years before 1000 as written, in the proleptic Gregorian calendar (not Foundation's Julian one).
    @Test func yearsBefore1000() {
        // 0099-12-31T23:00:01Z; Python: calendar.timegm((99, 12, 31, 23, 0, 1))
        #expect(FeedDate.parse("Thu, 01 Jan 0100 00:00:01 +0100") == Date(timeIntervalSince1970: -59_011_462_799))
        #expect(FeedDate.parse("0999-06-01") == Date(timeIntervalSince1970: -30_628_713_600))
    }

    @Test(arguments: [
        "2013-01-27-01", "-03-13", "03-02-30", "2003-000", "Κυρ, 11 Xyz 2004 12:00:00 EST", "2004-05-25 오후 13:00:00",
    ])
    func refuses(_ text: String) {
        #expect(FeedDate.parse(text) == nil, "\(text)")
    }
}

@Suite struct FeedTruncatedEndTests {
    /// A file that lost its last byte (`</rss` with no `>`) reads as other readers read it; a file cut off
    /// anywhere else is still refused with its place.
    @Test func theLastEndTagWithoutItsBracketIsClosed() throws {
        let parsed = try parse(
            "<rss version=\"2.0\"><channel><title>Cut</title><item><title>Kept</title>"
                + "<link>https://cut.example/1</link></item></channel></rss\n")
        #expect(parsed.drafts.map(\.title) == ["Kept"])
        #expect(throws: FeedError.self) {
            try parse("<rss version=\"2.0\"><channel><title>Cut</title><item><title>Kept</tit")
        }
    }
}

@Suite struct FeedCodecAliasTests {
    /// Code page names that Python's codecs know and glibc's iconv spells otherwise: byte 0x80 read as that page.
    @Test(arguments: [
        ("macroman", "Ä"), ("maccentraleurope", "Ä"), ("maclatin2", "Ä"), ("maciceland", "Ä"), ("cp_is", "Ç"),
        ("csibm861", "Ç"),
    ])
    func aPythonCodecNameIsReadAsThatCodePage(_ label: String, _ expected: String) throws {
        let bytes =
            Array("<?xml version=\"1.0\" encoding=\"\(label)\"?><rss version=\"2.0\"><channel><title>".utf8) + [0x80]
            + Array("</title></channel></rss>".utf8)
        let parsed = try parse(Data(bytes))
        #expect(parsed.title == expected, "\(label)")
    }
}

@Suite struct FeedCDFTests {
    /// Microsoft's Channel Definition Format: link and date as attributes, `BASE` for xml:base, `ABSTRACT` for
    /// the summary, items in sub-channels too.
    @Test func channelsAndItemsAreRead() throws {
        let parsed = try parse(
            """
            <?xml version="1.0"?>
            <CHANNEL BASE="https://cdf.example/" HREF="https://cdf.example/home" LASTMOD="2004-04-06T23:05:43-05:00">
              <TITLE>Channel title</TITLE>
              <ABSTRACT>What the channel is about</ABSTRACT>
              <ITEM HREF="/item/1" LASTMOD="2004-04-06T23:05:43-05:00" PRECACHE="No">
                <TITLE>First item</TITLE>
                <ABSTRACT>The first abstract</ABSTRACT>
              </ITEM>
              <CHANNEL HREF="https://cdf.example/sub"><TITLE>Sub-channel</TITLE>
                <item href="https://cdf.example/item/2"><title>Second item</title></item>
              </CHANNEL>
            </CHANNEL>
            """)
        #expect(parsed.format == .cdf)
        #expect(parsed.title == "Channel title")
        #expect(parsed.drafts.map(\.title) == ["First item", "Second item"])
        #expect(parsed.drafts.map(\.url) == ["https://cdf.example/item/1", "https://cdf.example/item/2"])
        #expect(parsed.drafts.first?.summary == "The first abstract")
        #expect(parsed.drafts.first?.publishedAt == Fixtures.date("2004-04-07T04:05:43Z"))
    }

    /// A CDF item without HREF is skipped like any entry without a link; a cut CDF document is refused with its place.
    @Test func anItemWithoutHREFAndACutDocument() throws {
        let parsed = try parse("<CHANNEL><ITEM><TITLE>No link</TITLE></ITEM></CHANNEL>")
        #expect(parsed.problems.map(\.description) == ["entry 1 (No link): has no link; skipped"])
        let error = #expect(throws: FeedError.self) {
            try parse("<CHANNEL>\n<ITEM HREF=\"https://cdf.example/1\"><TITLE>Cut</TITLE>\n")
        }
        #expect(error?.line == 2)
        #expect(error?.description.contains("inside <ITEM> from line 2") == true)
    }
}

@Suite struct FeedElementCaseTests {
    /// `<TiTlE>`, `<Link>`, `<PubDate>`: element names in any case, as feedparser and iTunes read them.
    @Test func coreElementsInAnyCase() throws {
        let parsed = try parse(
            """
            <rss version="2.0"><channel><TiTlE>Shouting feed</TiTlE>
              <Item><Title>Capitals</Title><LINK>https://case.example/1</LINK>
                <PubDate>Sat, 28 Sep 2002 21:00:02 GMT</PubDate><Description>Said loudly</Description></Item>
            </channel></rss>
            """)
        #expect(parsed.title == "Shouting feed")
        #expect(parsed.drafts.first?.title == "Capitals")
        #expect(parsed.drafts.first?.url == "https://case.example/1")
        #expect(parsed.drafts.first?.summary == "Said loudly")
        #expect(parsed.drafts.first?.publishedAt == Fixtures.date("2002-09-28T21:00:02Z"))
    }

    /// The votes element is matched in any case too.
    @Test func theVotesElementInAnyCase() throws {
        let parsed = try FeedParser(kind: .story, votesElement: "commentCount", now: now).parse(
            Data(
                """
                <rss version="2.0"><channel><item><title>Votes</title><link>https://case.example/2</link>
                  <CommentCount>12</CommentCount></item></channel></rss>
                """.utf8), url: "https://parity.example/feed")
        #expect(parsed.drafts.first?.votes == 12)
    }
}

@Suite struct FeedAtomItemTests {
    /// An Atom feed written with RSS's habit, `<item>` for `<entry>`.
    @Test func atomEntriesWrittenAsItems() throws {
        let parsed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>Mixed</title>
              <item><title>Item in Atom</title><link href="https://mixed.example/1"/></item>
            </feed>
            """)
        #expect(parsed.drafts.map(\.url) == ["https://mixed.example/1"])
    }
}

@Suite struct FeedAtomIDLinkTests {
    /// An `<id>` that is a path on the feed's site is the link; a bare word or a tag URI makes none up.
    @Test func aPathIDIsTheLinkAndABareWordIsNot() throws {
        let parsed = try parse(
            """
            <feed xmlns="http://www.w3.org/2005/Atom">
              <entry><title>Path</title><id>/2004/05/path</id></entry>
              <entry><title>Word</title><id>1</id></entry>
              <entry><title>Tag</title><id>tag:id.example,2004:3</id></entry>
              <entry><title>Network path</title><id>//other.example/4</id></entry>
            </feed>
            """)
        #expect(parsed.drafts.map(\.url) == ["https://parity.example/2004/05/path"])
        #expect(parsed.problems.filter(\.skipped).map(\.message) == ["has no link", "has no link", "has no link"])
    }
}

@Suite struct FeedPrologTests {
    /// A comment (a generator's banner) before the XML declaration, and `--` inside comments: XML forbids
    /// both, every feed reader reads past them.
    @Test func aCommentBeforeTheDeclarationAndDashesInComments() throws {
        let parsed = try parse(
            """
            <!-- Generated by FeedMaker -- version 2 --->
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0"><channel><title>Banner</title><!-- items -- newest first -->
              <item><title>After the banner</title><link>https://prolog.example/1</link></item>
            </channel></rss>
            """)
        #expect(parsed.title == "Banner")
        #expect(parsed.drafts.map(\.title) == ["After the banner"])
    }

    /// The declaration after a comment still names the encoding.
    @Test func theMisplacedDeclarationStillNamesTheEncoding() throws {
        let bytes =
            Array("<!-- banner -->\n<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss><channel><title>".utf8)
            + [0xCC, 0xEE, 0xF1, 0xEA, 0xE2, 0xE0] + Array("</title></channel></rss>".utf8)
        #expect(try parse(Data(bytes)).title == "Москва")
    }

    /// A comment that never ends is still refused, with its place.
    @Test func anUnterminatedCommentIsRefused() throws {
        let error = #expect(throws: FeedError.self) {
            try parse("<rss version=\"2.0\"><channel>\n<title>T</title><!-- never -- closed\n</channel></rss>")
        }
        #expect(error?.description.hasPrefix("not well-formed XML at line") == true)
    }
}

@Suite struct FeedMacCodePageTests {
    /// Mac Greek and Mac Turkish: glibc's iconv has neither table, Python's codecs (and feedparser) read both.
    @Test(arguments: [
        ("macgreek", [0x80, 0xA1, 0xE1, 0xFB] as [UInt8], "ÄΓαϊ", "macgreek"),
        ("x-mac-greek", [0xC5, 0xCC], "≈Χ", "x-mac-greek"),
        ("macturkish", [0x80, 0xDA, 0xDD, 0xDE], "ÄĞıŞ", "macturkish"),
        ("mac_turkish", [0xDC, 0xDF], "İş", "mac_turkish"),
    ])
    func isReadAsDeclared(_ label: String, _ bytes: [UInt8], _ expected: String, _ encoding: String) throws {
        let document =
            Array("<?xml version=\"1.0\" encoding=\"\(label)\"?><rss version=\"2.0\"><channel><title>".utf8) + bytes
            + Array("</title></channel></rss>".utf8)
        let parsed = try parse(Data(document))
        #expect(parsed.title == expected, "\(label)")
        #expect(parsed.encoding == encoding)
        #expect(parsed.warnings.isEmpty)
    }
}

@Suite struct FeedUndeclaredPrefixTests {
    /// `dc:creator` or `itunes:subtitle` in a feed that never declares `xmlns:dc`: XML is still well-formed, only
    /// Namespaces in XML is broken. Read with a warning that says where, the element in its usual meaning.
    @Test func anUndeclaredPrefixIsAWarning() throws {
        let parsed = try parse(
            """
            <rss version="2.0"><channel><title>Careless</title><itunes:subtitle>Sub</itunes:subtitle>
            <item><title>Prefixed</title><link>https://ns.example/1</link><dc:creator>Jo Doe</dc:creator></item>
            </channel></rss>
            """)
        #expect(parsed.drafts.first?.author == "Jo Doe")
        #expect(parsed.warnings.count == 1)
        #expect(parsed.warnings.first?.hasPrefix("line 1, column ") == true)
        #expect(
            parsed.warnings.first?.hasSuffix(
                "a namespace prefix that is not declared (no xmlns: for it); read as if it were declared") == true)
    }

    /// The same document with a broken element is still refused, with the place and reason of the break.
    @Test func aRealErrorAfterItIsStillRefused() throws {
        let error = #expect(throws: FeedError.self) {
            try parse("<rss version=\"2.0\"><channel><dc:title>T</dc:title>\n<item><title>x</item></channel></rss>")
        }
        #expect(error?.line == 2)
        #expect(error?.description.contains("an end tag that does not match the element it closes") == true)
    }

    /// A document of nothing but a comment says so, rather than that it was cut off.
    @Test func aDocumentOfOnlyACommentSaysSo() throws {
        let error = #expect(throws: FeedError.self) { try parse("<!-- nothing here -->\n") }
        #expect(error?.description.hasSuffix("the document has no element (nothing but comments and white space)") == true)
    }
}

@Suite struct FeedParameterEntityTests {
    /// An internal subset that pulls in the XHTML entity sets, never loaded: the reference is dropped and the
    /// HTML entities read as HTML's. An entity neither declared nor HTML's is still refused with its place.
    @Test func anExternalEntitySetIsNotHeldAgainstTheDocument() throws {
        let parsed = try parse(
            """
            <?xml version="1.0"?>
            <!DOCTYPE rss [
            <!ENTITY % HTMLlat1 PUBLIC "-//W3C//ENTITIES Latin 1 for XHTML//EN"
             "http://www.w3.org/TR/xhtml1/DTD/xhtml-lat1.ent">
            %HTMLlat1;
            <!ENTITY site "The Courier">
            ]>
            <rss version="2.0"><channel><title>&site; &eacute;t&eacute;</title></channel></rss>
            """)
        #expect(parsed.title == "The Courier été")
        let error = #expect(throws: FeedError.self) {
            try parse("<!DOCTYPE rss [ %lat1; ]>\n<rss version=\"2.0\"><channel><title>&nope;</title></channel></rss>")
        }
        #expect(error?.description.hasPrefix("unknown entity &nope; at line 2, column 36") == true)
    }
}
