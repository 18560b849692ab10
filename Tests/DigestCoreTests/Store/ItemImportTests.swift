import Foundation
import Logging
import Testing

@testable import DigestCore

@Suite struct ItemImportTests {
    let directory = TemporaryDirectory("import")

    func importer(_ backend: StoreBackend = .sqlite) throws -> (ItemImporter, Store) {
        let store = try Fixtures.store(in: directory, backend)
        return (ItemImporter(store: store, logger: Logger(label: "test")), store)
    }

    @Test(arguments: StoreBackend.allCases) func importsTheExampleFile(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let counts = try importer.importFile(path: Fixtures.repositoryRoot + "/examples/items.json")
        #expect(counts.inserted > 12 && counts.updated == 0)
        let items = try store.items()
        #expect(items.count == counts.inserted)
        #expect(items.contains { $0.kind == .post })
        // Non-ASCII survives the round trip exactly.
        #expect(items.contains { $0.title == "عمّان تستضيف معرض الكتاب الدولي بمشاركة ٣٠٠ ناشر" })
        #expect(items.contains { $0.title.contains("🥾") })
    }

    @Test(arguments: StoreBackend.allCases) func reimportUpdatesVotesByURL(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let first = directory.write(
            "a.json",
            #"[{"kind":"story","title":"Old title","url":"https://n.example/1","publishedAt":"2026-11-23T10:00:00Z","votes":3}]"#)
        try importer.importFile(path: first)
        let second = directory.write(
            "b.json",
            #"[{"kind":"story","title":"New title","url":"https://n.example/1","publishedAt":"2026-11-23T10:00:00Z","votes":49},"#
                + #"{"kind":"post","title":"Other","url":"https://n.example/2","publishedAt":"2026-11-23T11:00:00+03:00"}]"#)
        let counts = try importer.importFile(path: second)
        #expect(counts == UpsertCounts(inserted: 1, updated: 1))
        let item = try #require(try store.item(url: "https://n.example/1"))
        #expect(item.votes == 49)
        #expect(item.title == "New title")
        #expect(try store.item(url: "https://n.example/2")?.votes == 0)
        #expect(try store.itemCount() == 2)
    }

    @Test(arguments: StoreBackend.allCases) func oneBadRecordRefusesTheWholeFileNamingEachProblem(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let file = directory.write(
            "bad.json",
            """
            [
              {"kind": "story", "title": "Fine", "url": "https://n.example/ok", "publishedAt": "2026-11-23T10:00:00Z"},
              {"kind": "story", "title": "No date", "url": "https://n.example/2"},
              {"kind": "video", "title": "Kind", "url": "https://n.example/3", "publishedAt": "2026-11-23T10:00:00Z"},
              {"kind": "story", "title": "Votes", "url": "https://n.example/4", "publishedAt": "2026-11-23T10:00:00Z",
               "votes": -1},
              {"kind": "story", "title": "URL", "url": "javascript:alert(1)", "publishedAt": "2026-11-23T10:00:00Z"},
              {"kind": "story", "title": "Typo", "url": "https://n.example/6", "publishedAt": "2026-11-23T10:00:00Z",
               "vote": 3}
            ]
            """)
        let error = try #require(throws: ItemFileError.self) { try importer.importFile(path: file) }
        #expect(error.errors.map(\.index) == [1, 2, 3, 4, 5])
        #expect(error.errors.map(\.line) == [3, 4, 5, 7, 8])
        #expect(error.errors.map(\.field) == ["publishedAt", "kind", "votes", "url", "vote"])
        #expect(error.description.contains("bad.json: record 1 (line 3): publishedAt: is required"))
        #expect(error.description.contains("nothing imported"))
        #expect(try store.itemCount() == 0)
    }

    @Test(arguments: StoreBackend.allCases) func badFilesAreClear(backend: StoreBackend) throws {
        let (importer, _) = try importer(backend)
        let notJSON = directory.write("x.json", "{ nope")
        #expect { try importer.importFile(path: notJSON) } throws: { "\($0)".contains("not valid JSON") }
        let scalar = directory.write("y.json", "42")
        #expect { try importer.importFile(path: scalar) } throws: { "\($0)".contains("expected an array") }
        #expect { try importer.importFile(path: directory.file("missing.json")) } throws: { "\($0)".contains("cannot be read") }
    }

    @Test(arguments: StoreBackend.allCases) func hostileTitlesAreFoldedToOneLine(backend: StoreBackend) throws {
        let (importer, store) = try importer(backend)
        let file = directory.write(
            "h.json",
            #"[{"kind":"story","title":"Breaking\r\nBcc: victim@example.com\t<script>x</script>","url":"https://n.example/h","publishedAt":"2026-11-23T10:00:00Z"}]"#
        )
        try importer.importFile(path: file)
        let item = try #require(try store.item(url: "https://n.example/h"))
        #expect(item.title == "Breaking Bcc: victim@example.com <script>x</script>")
    }

    @Test(arguments: StoreBackend.allCases) func duplicateURLsInOneFileAreRefused(backend: StoreBackend) throws {
        let (importer, _) = try importer(backend)
        let file = directory.write(
            "d.json",
            #"[{"kind":"story","title":"A","url":"https://n.example/1","publishedAt":"2026-11-23T10:00:00Z"},{"kind":"story","title":"B","url":"https://n.example/1","publishedAt":"2026-11-23T10:00:00Z"}]"#
        )
        #expect { try importer.importFile(path: file) } throws: { "\($0)".contains("same url as record 0") }
    }
}
