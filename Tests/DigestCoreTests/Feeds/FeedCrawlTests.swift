import Foundation
import Logging
import Testing

@testable import DigestCore

/// A crawl in miniature: 200 generated feed files mixing encodings, entities, date forms, fallbacks
/// and broken documents, imported one after the other into one database as `digest import` does.
@Suite struct FeedCrawlTests {
    let directory = TemporaryDirectory("crawl")

    /// One feed document, and whether it must be refused.
    struct Generated {
        var bytes: [UInt8]
        var refused: Bool
        var entries: Int
    }

    static func generate(_ number: Int) -> Generated {
        let site = "https://site\(number).example"
        func rss(_ items: String, declaration: String = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>") -> [UInt8] {
            Array(
                """
                \(declaration)
                <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"
                     xmlns:content="http://purl.org/rss/1.0/modules/content/">
                <channel><title>Site \(number)</title><link>\(site)/</link>
                \(items)
                </channel></rss>
                """.utf8)
        }
        switch number % 12 {
        case 0:
            // Declared ISO-8859-1, written by a windows-1252 CMS.
            let head = Array(
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><item><title>It".utf8)
            return Generated(
                bytes: head + [0x92] + Array("s a ".utf8) + [0x93] + Array("test".utf8) + [0x94, 0x20, 0x96, 0x20]
                    + Array("caf".utf8) + [0xE9]
                    + Array("</title><link>\(site)/a</link><pubDate>26 January 2004 16:31:00 ET</pubDate></item></channel></rss>".utf8),
                refused: false, entries: 1)
        case 1:
            return Generated(
                bytes: Array(
                    """
                    <feed xmlns="http://www.w3.org/2005/Atom"><title>&Alpha;tom \(number)</title><link href="\(site)/"/>
                    <entry><title type="html">&rArr; &amp;sigma; &hArr;</title><id>\(site)/e1</id><updated>2003-12</updated></entry>
                    <entry><title>Two</title><link href="/e2"/><id>tag:x,2003:2</id><published>Sun Jul 15 01:16:00 +0000 2012</published>
                    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body &eacute;</p></div></content></entry>
                    </feed>
                    """.utf8), refused: false, entries: 2)
        case 2:
            return Generated(
                bytes: rss(
                    """
                    <item><dc:title>Dublin \(number)</dc:title><link>\(site)/dc</link><dc:date>2003-12-31T10:14:55Z</dc:date>
                    <content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded></item>
                    <item><media:title>Media \(number)</media:title><link>\(site)/m</link><pubDate>garbled</pubDate>
                    <media:description>Described</media:description></item>
                    """), refused: false, entries: 2)
        case 3:
            return Generated(
                bytes: Array("<?xml version=\"1.0\" encoding=\"big5\"?><rss version=\"2.0\"><channel><item><title>".utf8)
                    + [0xBB, 0x4F, 0xA5, 0x5F, 0xB7, 0x73, 0xBB, 0x44]
                    + Array("</title><link>\(site)/big5</link></item></channel></rss>".utf8),
                refused: false, entries: 1)
        case 4:
            // No declaration, Latin-1 bytes: read as windows-1252 with a warning.
            return Generated(
                bytes: Array("<rss version=\"2.0\"><channel><item><title>Caf".utf8) + [0xE9, 0x20, 0x80]
                    + Array("</title><link>\(site)/w</link></item></channel></rss>".utf8),
                refused: false, entries: 1)
        case 5:
            return Generated(
                bytes: rss("<item><title>Bad &bogus\(number); entity</title><link>\(site)/x</link></item>"),
                refused: true, entries: 0)
        case 6:
            return Generated(bytes: Array(rss("<item><title>Cut</title><link>\(site)/c</link></item>").prefix(200)), refused: true, entries: 0)
        case 7:
            return Generated(bytes: Array("<html><body><p>Not a feed \(number)</p></body></html>".utf8), refused: true, entries: 0)
        case 8:
            let text = "<rss version=\"2.0\"><channel><item><title>Ωμέγα \(number)</title><link>\(site)/u16</link></item></channel></rss>"
            return Generated(bytes: [0xFF, 0xFE] + Array(text.data(using: .utf16LittleEndian)!), refused: false, entries: 1)
        case 9:
            return Generated(
                bytes: Array("<?xml version=\"1.0\" encoding=\"windows-1256\"?><rss version=\"2.0\"><channel><item><title>".utf8)
                    + [0xC3, 0xCE, 0xC8, 0xC7, 0xD1, 0x20, 0xDA, 0xE3, 0xC7, 0xE4]
                    + Array("</title><link>\(site)/ar</link><pubDate>Sun, 15 Jul 2012 01:16:00 Etc/GMT</pubDate></item></channel></rss>".utf8),
                refused: false, entries: 1)
        case 10:
            return Generated(
                bytes: Array("<?xml version=\"1.0\" encoding=\"hz-gb-2312\"?><rss version=\"2.0\"/>".utf8), refused: true,
                entries: 0)
        default:
            return Generated(
                bytes: rss(
                    """
                    <item><title>AT&T &amp; a < b \u{1}</title><link>\(site)/amp?a=1&b=2</link>
                    <pubDate>Sun, 15 Jul 2012 01:16:00 A</pubDate><description>\u{93}C1\u{94} quotes</description></item>
                    <item><title>No link</title></item>
                    """), refused: false, entries: 1)
        }
    }

    @Test func twoHundredFeedsImportWithoutACrashAndEveryRefusalSaysWhereAndWhy() async throws {
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: Logger(label: "test"))
        var imported = 0
        var refused = 0
        for number in 0..<200 {
            let generated = Self.generate(number)
            let path = directory.file("feed-\(number).xml")
            try Data(generated.bytes).write(to: URL(fileURLWithPath: path))
            do {
                let report = try await importer.importSource(path, now: Fixtures.date("2026-11-24T12:00:00Z"))
                #expect(!generated.refused, "feed \(number) was imported: \(report.summary)")
                #expect(report.counts.inserted == generated.entries, "feed \(number): \(report.summary)")
                imported += 1
            } catch {
                let message = "\(error)"
                #expect(generated.refused, "feed \(number) was refused: \(message)")
                #expect(message.hasPrefix(path + ": "), "\(message)")
                #expect(message.range(of: #"line \d+"#, options: .regularExpression) != nil, "\(message)")
                #expect(!message.contains("ErrorDomain") && !message.contains("error 26"), "\(message)")
                refused += 1
            }
        }
        #expect(imported + refused == 200)
        #expect(refused == (0..<200).filter { Self.generate($0).refused }.count)
        let items = try store.items()
        #expect(items.contains { $0.title == "It’s a “test” – café" })
        #expect(items.contains { $0.title == "臺北新聞" })
        #expect(items.contains { $0.title == "أخبار عمان" })
        #expect(items.contains { $0.title == "AT&T & a < b" && $0.summary == "“C1” quotes" })
        #expect(items.contains { $0.title == "⇒ σ ⇔" && $0.publishedAt == Fixtures.date("2003-12-01T00:00:00Z") })
    }
}
