import Foundation
import Testing

@testable import DigestCore

/// One feed per encoding family, the bytes written here as Python's codecs encode them (an
/// implementation independent of the iconv tables the program decodes with).
@Suite struct FeedEncodingFamilyTests {
    let now = Fixtures.date("2026-11-24T12:00:00Z")

    /// A one-item RSS document whose title is `titleBytes`, declared as `label` (nil: no declaration).
    func feed(label: String?, titleBytes: [UInt8]) -> Data {
        let declaration = label.map { "<?xml version=\"1.0\" encoding=\"\($0)\"?>\n" } ?? ""
        return Data(
            Array("\(declaration)<rss version=\"2.0\"><channel><title>T</title><item><title>".utf8) + titleBytes
                + Array("</title><link>https://enc.example/1</link></item></channel></rss>".utf8))
    }

    func parse(_ data: Data) throws -> ParsedFeed {
        try FeedParser(kind: .story, now: now).parse(data, url: "https://enc.example/rss")
    }

    @Test(arguments: [
        ("ISO-8859-1", [0x49, 0x74, 0x92, 0x73, 0x20, 0x61, 0x20, 0x93, 0x74, 0x65, 0x73, 0x74, 0x94, 0x20, 0x96, 0x20, 0x63, 0x61, 0x66, 0xE9], "It’s a “test” – café"),
        ("US-ASCII", [0x64, 0x6F, 0x6E, 0x92, 0x74], "don’t"),
        ("latin1", [0x93, 0x51, 0x94], "“Q”"),
        ("big5", [0xBB, 0x4F, 0xA5, 0x5F, 0xB7, 0x73, 0xBB, 0x44], "臺北新聞"),
        ("euc-kr", [0xC7, 0xD1, 0xB1, 0xB9, 0xBE, 0xEE, 0x20, 0xB4, 0xBA, 0xBD, 0xBA], "한국어 뉴스"),
        ("gb2312", [0xD6, 0xD0, 0xCE, 0xC4, 0xD0, 0xC2, 0xCE, 0xC5], "中文新闻"),
        ("gb18030", [0xD6, 0xD0, 0xCE, 0xC4, 0x95, 0x32, 0x82, 0x36], "中文𠀀"),
        ("Shift_JIS", [0x93, 0xFA, 0x96, 0x7B, 0x8C, 0xEA, 0x82, 0xCC, 0x83, 0x6A, 0x83, 0x85, 0x81, 0x5B, 0x83, 0x58], "日本語のニュース"),
        ("EUC-JP", [0xC6, 0xFC, 0xCB, 0xDC, 0xB8, 0xEC, 0xA4, 0xCE, 0xB5, 0xAD, 0xBB, 0xF6], "日本語の記事"),
        ("ISO-2022-JP", [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x4B, 0x5C, 0x38, 0x6C, 0x24, 0x4E, 0x35, 0x2D, 0x3B, 0x76, 0x1B, 0x28, 0x42], "日本語の記事"),
        ("iso-8859-7", [0xC5, 0xEB, 0xEB, 0xE7, 0xED, 0xE9, 0xEA, 0xDC, 0x20, 0xED, 0xDD, 0xE1], "Ελληνικά νέα"),
        ("iso-8859-15", [0xA4, 0x20, 0xBD, 0x75, 0x76, 0x72, 0x65], "€ œuvre"),
        ("windows-1256", [0xC3, 0xCE, 0xC8, 0xC7, 0xD1, 0x20, 0xDA, 0xE3, 0xF8, 0xC7, 0xE4], "أخبار عمّان"),
        ("koi8-r", [0xEE, 0xCF, 0xD7, 0xCF, 0xD3, 0xD4, 0xC9], "Новости"),
        ("cp1250", [0x5A, 0x70, 0x72, 0xE1, 0x76, 0x61, 0x20, 0x64, 0x6E, 0x65], "Zpráva dne"),
    ] as [(String, [UInt8], String)])
    func declaredLegacyEncodingsDecodeAsBrowsersDo(_ label: String, _ bytes: [UInt8], _ expected: String) throws {
        let parsed = try parse(feed(label: label, titleBytes: bytes))
        #expect(parsed.drafts.first?.title == expected)
        #expect(parsed.warnings.isEmpty)
    }

    @Test func utf16WithAndWithoutByteOrderMark() throws {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel><item><title>Ωμέγα 日本</title><link>https://enc.example/1</link></item></channel></rss>"
        let littleWithBOM = Data([0xFF, 0xFE] + Array(text.data(using: .utf16LittleEndian)!))
        let bigWithoutBOM = text.data(using: .utf16BigEndian)!
        #expect(try parse(littleWithBOM).drafts.first?.title == "Ωμέγα 日本")
        #expect(try parse(bigWithoutBOM).drafts.first?.title == "Ωμέγα 日本")
    }

    @Test func undeclaredBytesThatAreNotUTF8AreReadAsWindows1252WithAWarning() throws {
        let parsed = try parse(feed(label: nil, titleBytes: Array("It".utf8) + [0x92] + Array("s caf".utf8) + [0xE9]))
        #expect(parsed.drafts.first?.title == "It’s café")
        #expect(parsed.encoding == "windows-1252")
        #expect(parsed.warnings == [
            "declares no encoding and is not UTF-8 (2 bytes, the first on line 1); read those as windows-1252"
        ])
    }

    @Test func mostlyUTF8WithAStrayLatin1ByteKeepsItsUTF8() throws {
        let parsed = try parse(feed(label: "utf-8", titleBytes: Array("Ünïcode ok".utf8) + [0xE9]))
        #expect(parsed.drafts.first?.title == "Ünïcode oké")
        #expect(parsed.warnings.first?.hasPrefix("declares \"utf-8\" but is not UTF-8 (1 byte") == true)
    }

    @Test func aDeclarationAfterALineBreakStillCounts() throws {
        let bytes =
            Array("\n  <?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<rss version=\"2.0\"><channel><item><title>".utf8)
            + [0xCD, 0xEE, 0xE2, 0xEE, 0xF1, 0xF2, 0xE8] + Array("</title><link>https://enc.example/1</link>\n&bad;".utf8)
        let error = #expect(throws: FeedError.self) { try parse(Data(bytes)) }
        #expect(error?.line == 4)
        let fixed = try parse(Data(Array(bytes.dropLast(6)) + Array("</item></channel></rss>".utf8)))
        #expect(fixed.drafts.first?.title == "Новости")
    }

    @Test func c1ControlsInUTF8AreWindows1252() throws {
        let parsed = try parse(feed(label: "UTF-8", titleBytes: Array("\u{93}quoted\u{94} \u{96} \u{80}5".utf8)))
        #expect(parsed.drafts.first?.title == "“quoted” – €5")
        #expect(parsed.warnings.isEmpty)
    }

    @Test func anUnknownLabelIsReadAsUTF8WithAWarning() throws {
        let parsed = try parse(feed(label: "x-klingon", titleBytes: Array("Qapla’".utf8)))
        #expect(parsed.drafts.first?.title == "Qapla’")
        #expect(parsed.warnings == [
            "line 1: declares the encoding \"x-klingon\", which is not a known name; read as utf-8"
        ])
    }

    @Test func theReplacementEncodingsAreRefusedNamingTheLabel() throws {
        let error = #expect(throws: FeedError.self) { try parse(feed(label: "iso-2022-kr", titleBytes: [0x41])) }
        #expect(error?.line == 1)
        #expect(error?.column == 21)
        #expect(error?.description.hasPrefix("line 1, column 21: declares the encoding \"iso-2022-kr\"") == true)
    }

    @Test func bytesALegacyDecoderCannotReadBecomeReplacementCharactersWithAWarning() throws {
        // 0xFF is not a lead byte in Shift_JIS.
        let parsed = try parse(feed(label: "shift_jis", titleBytes: [0x82, 0xA0, 0xFF, 0x41]))
        #expect(parsed.drafts.first?.title == "あ\u{FFFD}A")
        #expect(parsed.warnings == ["1 byte is not valid shift_jis; shown as �"])
    }
}

@Suite struct FeedEntityTests {
    func parse(_ xml: String) throws -> ParsedFeed {
        try FeedParser(kind: .story, now: Fixtures.date("2026-11-24T12:00:00Z"))
            .parse(Data(xml.utf8), url: "https://ent.example/rss")
    }

    @Test func theWholeHTML5TableIsKnown() {
        #expect(HTMLEntities.count == 2125)
        #expect(HTMLEntities.table["rArr"] == "⇒")
        #expect(HTMLEntities.table["NotEqualTilde"] == "≂\u{338}")
        #expect(HTMLText.plainText("&sigma;&Alpha;&hArr;&fjlig;") == "σΑ⇔fj")
    }

    @Test func uncommonHTMLEntitiesInTheDocumentAreRead() throws {
        let feed = try parse(
            """
            <rss version="2.0"><channel><title>&Alpha;&rArr;</title><item>
            <title>&sigma; &hArr; &Alpha; &NotEqualTilde; &amp;amp; &#150; &#x263A;</title>
            <link>https://ent.example/1?a=1&b=2</link>
            <description>AT&T &lt;b&gt;bold&lt;/b&gt; &copy 2026 a < b</description>
            </item></channel></rss>
            """)
        #expect(feed.title == "Α⇒")
        let entry = try #require(feed.drafts.first)
        #expect(entry.title == "σ ⇔ Α ≂\u{338} & – ☺")
        #expect(entry.url == "https://ent.example/1?a=1&b=2")
        #expect(entry.summary == "AT&T bold &copy 2026 a < b")
    }

    @Test func anUnknownEntityRefusesTheDocumentSayingWhereAndWhat() throws {
        let error = #expect(throws: FeedError.self) {
            try parse("<rss version=\"2.0\"><channel>\n<item>\n  <title>ok &foo; no</title></item></channel></rss>")
        }
        #expect(error?.line == 3)
        #expect(error?.column == 13)
        #expect(error?.description.hasPrefix("unknown entity &foo; at line 3, column 13") == true)
    }

    @Test func entitiesTheDocumentDeclaresStayTheParsers() throws {
        let feed = try parse(
            """
            <?xml version="1.0"?>
            <!DOCTYPE rss [ <!ENTITY site "The Courier"> ]>
            <rss version="2.0"><channel><item><title>&site; &eacute;</title>
            <link>https://ent.example/2</link></item></channel></rss>
            """)
        #expect(feed.drafts.first?.title == "The Courier é")
    }

    @Test(arguments: [
        ("<rss version=\"2.0\"><channel>\n<item><title>x</title>\n</channel></rss>", 3,
         "an end tag that does not match the element it closes"),
        ("<rss version=\"2.0\"><channel><item><title>cut", 1,
         "the document ends before its elements are closed (cut off?) (inside <title> from line 1)"),
        ("<rss version=\"2.0\"><channel><item a=\"1\" a=\"2\"/></channel></rss>", 1, "the same attribute twice in one tag"),
        ("", 1, "the document is empty"),
        ("  \n", 1, "the document is empty"),
    ] as [(String, Int, String)])
    func brokenDocumentsAreRefusedInWords(_ xml: String, _ line: Int, _ reason: String) throws {
        let error = #expect(throws: FeedError.self) { try parse(xml) }
        #expect(error?.line == line)
        #expect(error?.description.hasPrefix("not well-formed XML at line \(line), column ") == true)
        #expect(error?.description.hasSuffix(": " + reason) == true, "\(error?.description ?? "nothing thrown")")
        #expect(error?.description.contains("NSXMLParserErrorDomain") == false)
    }

    @Test func controlCharactersXMLForbidsAreDropped() throws {
        let feed = try parse(
            "<rss version=\"2.0\"><channel><item><title>bell\u{7} and escape\u{1B} &#x1B;</title><link>https://ent.example/3</link></item></channel></rss>")
        #expect(feed.drafts.first?.title == "bell and escape \u{FFFD}")
    }
}
