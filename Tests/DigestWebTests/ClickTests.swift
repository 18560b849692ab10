import DigestCore
import DigestPostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import DigestTestSupport

@testable import DigestWeb

/// `/r/TOKEN` (README "Clicks, counted privately"): the redirect, what it counts, and what it refuses.
@Suite struct ClickTests {
    static let secret = "click-web-secret-0123456789"
    static let now = DateParsing.iso8601("2026-11-24T03:00:00Z")!
    static let date = Day("2026-11-24")!

    /// A fresh store of `backend` with the example items frozen into the edition of 2026-11-24, two readers,
    /// the app, and the click counter it writes through (flushed by the tests, not by a timer).
    struct Setting {
        /// Removed with the last copy of the setting.
        let folder: TemporaryDirectory
        let directory: String
        let configuration: Configuration
        let store: Store
        let composer: DigestComposer
        let edition: Edition
        let readers: [Subscriber]
        let counter: ClickCounter

        init(_ counting: Configuration.ClickCounting, _ backend: StoreBackendName = .sqlite) async throws {
            folder = TemporaryDirectory("digest-clicks")
            directory = folder.path
            let example = try Data(contentsOf: URL(fileURLWithPath: ServeHarness.root + "/config.example.json"))
            var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
            json["database"] =
                backend == .postgres ? try PostgresServer.shared().createDatabase("clicks") : directory + "/digest.sqlite"
            json["databasePasswordEnv"] = nil
            json["templates"] = ServeHarness.root + "/templates"
            json["feeds"] = [Any]()
            json["privacy"] = ["clickCounting": counting.rawValue]
            var web = json["web"] as! [String: Any]
            web["adminListen"] = ""
            web["idleTimeoutSeconds"] = 300
            json["web"] = web
            let file = directory + "/config.json"
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
            configuration = try Configuration.load(path: file)
            store = try configuration.openStore(create: true)
            try store.upsert(
                try ItemRecordParser.parse(
                    Data(contentsOf: URL(fileURLWithPath: ServeHarness.root + "/examples/items.json")), source: "items"),
                now: ClickTests.now)
            composer = try await DigestComposer.make(
                configuration: configuration, environment: [configuration.web.secretEnv: ClickTests.secret])
            edition = try composer.ranker.edition(for: ClickTests.date, store: store, freeze: true, now: ClickTests.now)
            let store = store
            readers = try ["salma@example.com", "ines@example.com"].map {
                try store.addSubscriber(Subscriber(email: try EmailAddress($0), status: .active, format: .html))
            }
            counter = ClickCounter(
                database: StoreExecutor(store: store, threads: 1, timeout: .seconds(10), logger: Logger(label: "test")),
                logger: Logger(label: "test"))
        }

        func app() async throws -> Application<RouterResponder<WebRequestContext>> {
            // The morning after the edition: its vote links have not expired.
            var settings = WebSettings()
            settings.now = { ClickTests.now }
            return try await buildWebApplication(
                configuration: configuration, store: store,
                environment: [configuration.web.secretEnv: ClickTests.secret, configuration.web.adminTokenEnv: "t"],
                logger: Logger(label: "test"), settings: settings, clicks: counter)
        }

        /// The reader's digest of the edition.
        func digest(_ reader: Subscriber) throws -> ComposedDigest {
            try #require(try composer.digest(for: reader, in: edition, alreadyReceived: [], now: ClickTests.now))
        }

        /// Every link of the digest on this site, as a path the app serves (`/r/…`, `/unsubscribe?…`).
        func sitePaths(_ digest: ComposedDigest) -> [String] {
            let base = configuration.web.baseURL
            let text = digest.text.split(whereSeparator: \.isWhitespace).map(String.init)
            let html = (digest.html ?? "").components(separatedBy: "href=\"").dropFirst()
                .map { String($0.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") }
            var seen = Set<String>()
            return (text + html).filter { $0.hasPrefix(base + "/") }.map { String($0.dropFirst(base.count)) }
                .filter { seen.insert($0).inserted }
        }

        func clickPaths(_ reader: Subscriber) throws -> [String] { sitePaths(try digest(reader)).filter { $0.hasPrefix("/r/") } }

        func url(of path: String) throws -> String {
            let token = try #require(ClickToken.verify(path.dropFirst(3), signer: LinkSigner(secret: ClickTests.secret)))
            return try #require(edition.candidates.first { $0.itemID == token.itemID }?.url)
        }
    }

    @Test func getRedirectsAndCountsHeadOnlyRedirects() async throws {
        let setting = try await Setting(.aggregate)
        let paths = try setting.clickPaths(setting.readers[0])
        let path = try #require(paths.first)
        try await setting.app().test(.router) { client in
            let target = try setting.url(of: path)
            for method in [HTTPRequest.Method.head, .get, .get] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .found)
                    #expect(response.headers[.location] == target)
                    #expect(response.headers[.cacheControl] == "no-store")
                }
            }
        }
        let editionID = try #require(setting.edition.id)
        // The app's services ran with the test and flushed at its end; flushing again finds nothing.
        await setting.counter.flush()
        let token = try #require(ClickToken.verify(path.dropFirst(3), signer: LinkSigner(secret: Self.secret)))
        // Replayed: counted again (aggregate keeps no reader, so there is nothing to tell two readers apart).
        #expect(try setting.store.clicks(editionID: editionID) == [token.itemID: 2])
        #expect(try setting.store.readerClicks(editionID: editionID).isEmpty)
    }

    @Test func badSignaturesAndItemsOutsideTheEditionAre404() async throws {
        let setting = try await Setting(.aggregate)
        let path = try #require(try setting.clickPaths(setting.readers[0]).first)
        let signer = try LinkSigner(secret: Self.secret)
        let editionID = try #require(setting.edition.id)
        // Signed for the edition, but an item it does not hold.
        let outside = (setting.edition.candidates.map(\.itemID).max() ?? 0) + 1
        let bad = [
            String(path.dropLast()) + (path.last == "A" ? "B" : "A"), "/r/" + path.dropFirst(4), "/r/1.2.AAAAAAAAAAAAAAAA",
            "/r/" + ClickToken.item(editionID: editionID, itemID: outside, signer: signer),
            "/r/" + ClickToken.item(editionID: editionID + 1, itemID: setting.edition.candidates[0].itemID, signer: signer),
            "/r/" + ClickToken.item(editionID: editionID, itemID: 1, signer: try LinkSigner(secret: "other-secret-0123456789")),
            "/r/https:%2F%2Fevil.example",
        ]
        try await setting.app().test(.router) { client in
            for uri in bad {
                for method in [HTTPRequest.Method.get, .head] {
                    try await client.execute(uri: uri, method: method) { response in
                        #expect(response.status == .notFound, "\(method) \(uri)")
                        #expect(response.headers[.location] == nil)
                    }
                }
            }
        }
        await setting.counter.flush()
        #expect(try setting.store.clicks(editionID: editionID).isEmpty)
    }

    @Test(arguments: StoreBackendName.allCases)
    func perReaderRecordsTheReaderAggregateNone(backend: StoreBackendName) async throws {
        for counting in [Configuration.ClickCounting.perReader, .aggregate] {
            let setting = try await Setting(counting, backend)
            defer { try? FileManager.default.removeItem(atPath: setting.directory) }
            let editionID = try #require(setting.edition.id)
            // Each reader clicks the first item link of their digest.
            var paths: [Int64: String] = [:]
            for reader in setting.readers { paths[reader.id!] = try #require(try setting.clickPaths(reader).first) }
            try await setting.app().test(.router) { [paths] client in
                for path in paths.values {
                    try await client.execute(uri: path, method: .get) { #expect($0.status == .found) }
                }
            }
            await setting.counter.flush()
            #expect(setting.counter.pending.isEmpty)
            let clicks = try setting.store.clicks(editionID: editionID)
            #expect(clicks.values.reduce(0, +) == 2, "\(counting)")
            let readers = try setting.store.readerClicks(editionID: editionID)
            if counting == .perReader {
                #expect(Set(readers.map(\.subscriberID)) == Set(setting.readers.compactMap(\.id)))
            } else {
                #expect(readers.isEmpty)
            }
            // The reader's data download lists their clicks when, and only when, the site stored them.
            for reader in setting.readers {
                let clicks = try #require(try setting.store.readerData(id: reader.id!, now: Self.now)).clicks
                if counting == .perReader {
                    let url = try setting.url(of: try #require(paths[reader.id!]))
                    let title = try #require(setting.edition.candidates.first { $0.url == url }?.title)
                    #expect(
                        clicks.map { [$0.date, $0.kind.rawValue, $0.title, $0.url, "\($0.count)"] }
                            == [["2026-11-24", "daily", title, url, "1"]])
                } else {
                    #expect(clicks.isEmpty)
                }
            }
            #expect(try setting.store.metricsSnapshot().clicks == 2)
        }
    }

    /// An edition is its date and its kind: the weekly of the same date is another edition, with links, counts
    /// and an admin page of its own.
    @Test func aWeeklyEditionCountsApartFromTheDailyOfItsDate() async throws {
        let setting = try await Setting(.aggregate)
        let weekly = try setting.composer.ranker.edition(
            for: Self.date, kind: .weekly, store: setting.store, freeze: true, now: Self.now)
        let (dailyID, weeklyID) = (try #require(setting.edition.id), try #require(weekly.id))
        #expect(dailyID != weeklyID)
        let digest = try #require(
            try setting.composer.digest(for: setting.readers[0], in: weekly, alreadyReceived: [], now: Self.now))
        let path = try #require(setting.sitePaths(digest).first { $0.hasPrefix("/r/") })
        let key = try #require(ClickToken.verify(path.dropFirst(3), signer: LinkSigner(secret: Self.secret)))
        #expect(key.editionID == weeklyID)
        let target = try #require(weekly.candidates.first { $0.itemID == key.itemID }?.url)
        try await setting.app().test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == target)
            }
        }
        await setting.counter.flush()
        #expect(try setting.store.clicks(editionID: weeklyID) == [key.itemID: 1])
        #expect(try setting.store.clicks(editionID: dailyID).isEmpty)
        try await setting.app().test(.router) { client in
            for (uri, clicks) in ["/admin/editions/2026-11-24/weekly": 1, "/admin/editions/2026-11-24": 0] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer t"]) { response in
                    #expect(
                        String(buffer: response.body).contains(
                            "<span class=\"label\">Clicks</span><span class=\"value\">\(clicks)</span>"), "\(uri)")
                }
            }
        }
    }

    /// A `perReader` link mailed before the site went back to `aggregate` still leads on, and counts for the
    /// item alone: the setting of the day decides what is stored, not the link.
    @Test func aPerReaderLinkClickedUnderAggregateCountsForTheItemAlone() async throws {
        let setting = try await Setting(.aggregate)
        let signer = try LinkSigner(secret: Self.secret)
        let (editionID, item) = (try #require(setting.edition.id), setting.edition.candidates[0])
        let token =
            ClickToken.item(editionID: editionID, itemID: item.itemID, signer: signer)
            + ClickToken.readerSuffix(editionID: editionID, subscriberID: setting.readers[0].id!, signer: signer)
        try await setting.app().test(.router) { client in
            try await client.execute(uri: "/r/" + token, method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == item.url)
            }
        }
        await setting.counter.flush()
        #expect(try setting.store.clicks(editionID: editionID) == [item.itemID: 1])
        #expect(try setting.store.readerClicks(editionID: editionID).isEmpty)
    }

    @Test func offLinksDirectlyAndCountsNothing() async throws {
        let setting = try await Setting(.off)
        let digest = try setting.digest(setting.readers[0])
        #expect(setting.sitePaths(digest).allSatisfy { !$0.hasPrefix("/r/") })
        for item in setting.edition.candidates where digest.itemIDs.contains(item.itemID) {
            #expect(digest.text.contains(item.url))
        }
        // A link sent while counting was on still leads on, uncounted.
        let signer = try LinkSigner(secret: Self.secret)
        let item = setting.edition.candidates[0]
        try await setting.app().test(.router) { client in
            try await client.execute(
                uri: "/r/" + ClickToken.item(editionID: setting.edition.id!, itemID: item.itemID, signer: signer), method: .get
            ) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == item.url)
            }
        }
        #expect(setting.counter.pending.isEmpty)
    }

    /// What a mail scanner does: fetch every link of a digest with GET and HEAD. Only the GETs of `/r/`
    /// links count; no reader is unsubscribed, no mail is queued, nothing else changes.
    @Test func aScannerFetchingEveryLinkOnlyCountsTheClicks() async throws {
        let setting = try await Setting(.perReader)
        let reader = setting.readers[0]
        let paths = setting.sitePaths(try setting.digest(reader))
        let clicks = paths.filter { $0.hasPrefix("/r/") }
        #expect(clicks.count >= 3)
        #expect(paths.contains { $0.hasPrefix("/unsubscribe") } && paths.contains { $0.hasPrefix("/preferences") })
        let before = try setting.store.subscriber(id: reader.id!)
        try await setting.app().test(.router) { client in
            for path in paths {
                for method in [HTTPRequest.Method.get, .head] {
                    try await client.execute(uri: path, method: method) { response in
                        #expect([.ok, .found].contains(response.status), "\(method) \(path)")
                    }
                }
            }
        }
        await setting.counter.flush()
        let editionID = try #require(setting.edition.id)
        #expect(try setting.store.clicks(editionID: editionID).values.reduce(0, +) == clicks.count)
        #expect(try setting.store.readerClicks(editionID: editionID).allSatisfy { $0.subscriberID == reader.id && $0.count == 1 })
        #expect(try setting.store.subscriber(id: reader.id!) == before)
        #expect(try setting.store.outboxCounts().values.reduce(0, +) == 0)
    }

    @Test(.requires(.prometheusClient)) func metricsCountTheClicks() async throws {
        let setting = try await Setting(.aggregate)
        try setting.store.recordClicks([ClickKey(editionID: setting.edition.id!, itemID: 1): 5])
        try await setting.app().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer t"]) { response in
                let metrics = try await StatsFiguresTests.parsedMetrics(String(buffer: response.body))
                #expect(metrics["digest_clicks_total"] == 5)
            }
            try await client.execute(
                uri: "/admin/editions/2026-11-24", method: .get, headers: [.authorization: "Bearer t"]
            ) { response in
                #expect(String(buffer: response.body).contains("<span class=\"label\">Clicks</span><span class=\"value\">5</span>"))
            }
        }
    }
}

/// The in-memory tally's rules, without threads or a database.
@Suite struct ClickTallyTests {
    @Test func countsTakesAndPutsBackWithinItsLimit() {
        var tally = ClickTally(limit: 2)
        let (a, b, c) = (ClickKey(editionID: 1, itemID: 1), ClickKey(editionID: 1, itemID: 2), ClickKey(editionID: 1, itemID: 3))
        let counted = [tally.click(a), tally.click(a), tally.click(b), tally.click(c)]
        #expect(counted == [true, true, true, false])
        #expect(tally.dropped == 1)
        let batch = tally.take()
        #expect(batch == [a: 2, b: 1])
        #expect(tally.pending.isEmpty)
        tally.click(c)
        // The write failed: the batch comes back, added to what came meanwhile, within the limit.
        tally.restore(batch)
        #expect(tally.pending.values.reduce(0, +) + tally.dropped == 5)
        #expect(tally.pending.count == 2)
    }
}
