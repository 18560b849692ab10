import Foundation
import Logging
import Testing

@testable import DigestCore

/// The HTTP `Content-Type` charset, over a real HTTP server on loopback.
@Suite struct FeedCharsetTests {
    let directory = TemporaryDirectory("charset")

    /// An undeclared one-item RSS document with `title` as its title bytes.
    func write(_ name: String, title: [UInt8], contentType: String) {
        let bytes =
            Array("<rss version=\"2.0\"><channel><item><title>".utf8) + title
            + Array("</title><link>https://cs.example/\(name)</link></item></channel></rss>".utf8)
        try! FileManager.default.createDirectory(atPath: directory.file("www"), withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: directory.file("www/\(name)")))
        directory.write("www/\(name).content-type", contentType)
    }

    @Test func anUndeclaredDocumentIsReadInTheServersCharsetUnlessItIsUTF8() async throws {
        // "Новости" in windows-1251, served with its charset and no declaration.
        write("ru.xml", title: [0xCD, 0xEE, 0xE2, 0xEE, 0xF1, 0xF2, 0xE8], contentType: "text/xml; charset=\"windows-1251\"")
        // UTF-8 served with the usual default charset of a web server.
        write("utf8.xml", title: Array("Café – déjà".utf8), contentType: "text/xml; charset=ISO-8859-1")
        let server = try HTTPTestServer(root: directory.file("www"))
        let store = try Fixtures.store(in: directory)
        let importer = ItemImporter(store: store, logger: Logger(label: "test"))
        let fetcher = FeedFetcher(store: store)
        let ru = try await importer.importSource(server.url("ru.xml"), fetcher: fetcher)
        #expect(ru.warnings.isEmpty)
        #expect(try store.item(url: "https://cs.example/ru.xml")?.title == "Новости")
        try await importer.importSource(server.url("utf8.xml"), fetcher: fetcher)
        #expect(try store.item(url: "https://cs.example/utf8.xml")?.title == "Café – déjà")
        #expect(FeedFetcher.charset("application/rss+xml; Charset='koi8-r'; x=y") == "koi8-r")
        #expect(FeedFetcher.charset("text/xml") == nil)
    }
}
