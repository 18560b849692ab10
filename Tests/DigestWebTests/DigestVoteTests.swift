import DigestPostgres
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import DigestCore
@testable import DigestWeb

/// Votes from the digest (issue 26), over the web app on both stores: a GET or HEAD of any link of a digest
/// (what a mail scanner does) changes nothing; a POST votes once, however many arrive at once; a token
/// changed anywhere, or past its edition's window and the grace period, votes for nothing.
@Suite struct DigestVoteTests {
    /// The daily edition of 2026-11-24 (closing 03:00Z in Amman) with five items, and one reader.
    struct World {
        let web: WebFixture
        let store: Store
        let composer: DigestComposer
        let edition: Edition
        let reader: Subscriber
        static let now = DateParsing.iso8601("2026-11-24T04:00:00Z")!

        init(_ backend: StoreBackendName) async throws {
            web = try WebFixture()
            store =
                backend == .postgres ? try Store.open(try PostgresServer.shared().createDatabase("votes")) : web.store
            try store.upsert(
                (1...5).map { n in
                    ItemDraft(
                        kind: n <= 3 ? .story : .post, title: "Story \(n)", url: "https://courier.example/news/\(n)",
                        publishedAt: DateParsing.iso8601("2026-11-23T1\(n):00:00Z")!, votes: n)
                })
            composer = try DigestComposer(
                configuration: web.configuration, templates: try await DigestTemplates(folder: web.configuration.templates),
                signer: try LinkSigner(secret: WebFixture.secret))
            edition = try composer.ranker.edition(for: Day("2026-11-24")!, store: store, freeze: true, now: Self.now)
            reader = try store.addSubscriber(Subscriber(email: try EmailAddress("reader@example.com"), status: .active))
        }

        func app(now: Date = World.now, databaseTimeout: Double? = nil) async throws
            -> Application<RouterResponder<WebRequestContext>>
        {
            var configuration = web.configuration
            if let databaseTimeout { configuration.web.databaseTimeoutSeconds = databaseTimeout }
            var settings = WebSettings()
            settings.now = { now }
            // Thirty-two POSTs from one test client: the per-client limit is not what is tested here.
            settings.ipLimit = (1000, 1)
            return try await buildWebApplication(
                configuration: configuration, store: store,
                environment: [configuration.web.secretEnv: WebFixture.secret, configuration.web.adminTokenEnv: WebFixture.token],
                logger: Logger(label: "test"), settings: settings)
        }

        /// The reader's vote link token for the edition's candidate `index`.
        func token(_ index: Int) -> String {
            composer.voteLink.token(
                for: DigestVote(
                    edition: EditionReference(date: edition.date, kind: edition.kind),
                    itemID: edition.candidates[index].itemID, subscriberID: reader.id!))
        }

        func digestVotes(_ index: Int) throws -> Int { try store.item(url: edition.candidates[index].url)?.digestVotes ?? -1 }

        /// Every row of every table, as text: what "no change at all in the database" compares.
        func dump() throws -> [String] {
            try store.database.read { db in
                try StoreCopy.tables.flatMap { table in
                    try db.fetchAll("SELECT * FROM \(table) ORDER BY 1").map { row in "\(table): \(row.values)" }
                }
            }
        }
    }

    @Test(arguments: StoreBackendName.allCases) func thirtyTwoPOSTsAtOnceCountOneVote(backend: StoreBackendName) async throws {
        let world = try await World(backend)
        let token = world.token(0)
        let pages = try await world.app().test(.router) { client in
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        try await client.execute(
                            uri: "/vote", method: .post, headers: formHeaders, body: form([("token", token)])
                        ) { response in
                            #expect(response.status == .ok)
                            return response.text
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(pages.filter { $0.contains("Thank you for your vote") }.count == 1)
        #expect(pages.filter { $0.contains("You already voted") }.count == 31)
        #expect(try world.digestVotes(0) == 1)
    }

    @Test(arguments: StoreBackendName.allCases) func changedReplayedAndExpiredTokensVoteForNothing(
        backend: StoreBackendName
    ) async throws {
        let world = try await World(backend)
        let good = world.token(1)
        // Each character changed in turn (a digit to the next, a letter or hyphen to another), another secret,
        // a test send's inert token, an item that is not in the edition.
        var bad: [String] = Array(good).indices.map { index in
            var characters = Array(good)
            let character = characters[index]
            characters[index] =
                character.isNumber ? Character(String((Int(String(character))! + 1) % 10))
                : character == "-" ? "0" : character == "a" ? "b" : "a"
            return String(characters)
        }
        bad.append(
            DigestVoteLink(signer: try LinkSigner(secret: "another-secret-0123456789")).token(
                for: try #require(world.composer.voteLink.vote(in: good))))
        bad.append(DigestComposer.inertLinkToken)
        var stranger = try #require(world.composer.voteLink.vote(in: good))
        stranger.itemID = 999_999
        bad.append(world.composer.voteLink.token(for: stranger))
        let before = try world.dump()
        try await world.app().test(.router) { [bad] client in
            for token in bad {
                try await client.execute(uri: "/v/\(token)", method: .get) { #expect($0.status == .notFound, "GET \(token)") }
                try await client.execute(uri: "/v/\(token)", method: .head) { #expect($0.status == .notFound, "HEAD \(token)") }
                try await client.execute(
                    uri: "/vote", method: .post, headers: formHeaders, body: form([("token", token)])
                ) { response in
                    #expect(response.status == .notFound, "POST \(token)")
                    #expect(response.text.contains("This vote link does not work"))
                }
            }
        }
        #expect(try world.dump() == before)

        // Replayed: the second POST of the same link counts nothing more and says so.
        try await world.app().test(.router) { client in
            for expected in ["Thank you for your vote", "You already voted"] {
                try await client.execute(
                    uri: "/vote?token=\(good)", method: .post, headers: formHeaders, body: form([])
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains(expected))
                }
            }
            try await client.execute(uri: "/v/\(good)", method: .get) { response in
                #expect(response.text.contains("You voted for this story"))
                #expect(!response.text.contains("<button"))
            }
        }
        #expect(try world.digestVotes(1) == 1)

        // Past the edition's window and the grace period: 410 for the page and the POST, for a link used before
        // and one never used.
        let expiry = DigestVoteLink.expiry(windowStart: world.edition.windowStart, cutoff: world.edition.cutoff)
        let fresh = world.token(2)
        let afterExpiry = try world.dump()
        try await world.app(now: expiry + 1).test(.router) { client in
            for token in [good, fresh] {
                try await client.execute(uri: "/v/\(token)", method: .get) { response in
                    #expect(response.status == .gone)
                    #expect(response.text.contains("This vote link has expired"))
                }
                try await client.execute(
                    uri: "/vote", method: .post, headers: formHeaders, body: form([("token", token)])
                ) { #expect($0.status == .gone) }
            }
        }
        #expect(try world.dump() == afterExpiry)
        // Until the last second of it, the link works.
        try await world.app(now: expiry).test(.router) { client in
            try await client.execute(uri: "/vote", method: .post, headers: formHeaders, body: form([("token", fresh)])) {
                #expect($0.text.contains("Thank you for your vote"))
            }
        }
        #expect(try world.digestVotes(2) == 1)
    }

    /// The vote page speaks the reader's language (Arabic here, digits too), and its form keeps it for the answer;
    /// a vote link's 404 and 410 and a click link's 404 come in the language the browser asks for.
    @Test func theVotePagesSpeakTheReadersLanguage() async throws {
        let world = try await World(.sqlite)
        var reader = world.reader
        reader.language = "ar"
        try world.store.update(reader)
        let token = world.token(0)
        try await world.app().test(.router) { client in
            let page = try await client.execute(uri: "/v/\(token)", method: .get) { $0.text }
            #expect(page.contains("<html lang=\"ar\" dir=\"rtl\">") && page.contains("أتصوّت لهذه المادة؟"))
            #expect(page.contains("من عدد ٢٠٢٦-١١-٢٤ من النشرة اليومية."), "\(page)")
            #expect(page.contains("action=\"../vote?lang=ar\"") && !page.contains("Vote for this story"))
            for expected in ["شكرًا لتصويتك", "سبق أن صوّتَّ"] {
                try await client.execute(
                    uri: "/vote?lang=ar", method: .post, headers: formHeaders, body: form([("token", token)])
                ) { response in
                    #expect(response.status == .ok && response.text.contains(expected), "\(response.text)")
                    #expect(response.text.contains("اقرأ المادة"))
                }
            }
            try await client.execute(
                uri: "/v/\(DigestComposer.inertLinkToken)", method: .get, headers: [.acceptLanguage: "ar"]
            ) { response in
                #expect(response.status == .notFound && response.text.contains("رابط التصويت هذا لا يعمل"))
            }
            try await client.execute(uri: "/r/1.2.AAAAAAAAAAAAAAAA", method: .get, headers: [.acceptLanguage: "ar"]) {
                response in
                #expect(response.status == .notFound && response.text.contains("هذا الرابط غير صالح"))
                #expect(response.text.contains("الأعداد السابقة"))
            }
            // An English browser on a click link still reads what it always did.
            try await client.execute(uri: "/r/1.2.AAAAAAAAAAAAAAAA", method: .get) { response in
                #expect(response.text.contains("This link is not valid") && response.text.contains("See past editions"))
            }
        }
        #expect(try world.digestVotes(0) == 1)
        let expiry = DigestVoteLink.expiry(windowStart: world.edition.windowStart, cutoff: world.edition.cutoff)
        try await world.app(now: expiry + 1).test(.router) { client in
            try await client.execute(uri: "/v/\(world.token(1))", method: .get, headers: [.acceptLanguage: "ar"]) {
                response in
                #expect(response.status == .gone && response.text.contains("انتهت صلاحية رابط التصويت هذا"))
            }
        }
    }

    /// A mail scanner fetches every link of a digest, with GET and with HEAD: nothing votes, nobody is
    /// unsubscribed, no row of any table changes.
    @Test(arguments: StoreBackendName.allCases) func aScannerFollowingEveryLinkChangesNothing(backend: StoreBackendName)
        async throws
    {
        let world = try await World(backend)
        let digest = try #require(
            try world.composer.digest(for: world.reader, in: world.edition, alreadyReceived: [], now: World.now))
        let base = world.web.configuration.web.baseURL
        let html = try #require(digest.html)
        let hrefs = html.matches(of: /href="([^"]+)"/).map { String($0.1).replacingOccurrences(of: "&amp;", with: "&") }
        let texts = digest.text.matches(of: /https?:\/\/\S+/).map { String($0.0) }
        let header = String(decoding: digest.message.data, as: UTF8.self).matches(of: /<(https:\/\/[^>]+)>/).map { String($0.1) }
        let links = Set(hrefs + texts + header).filter { $0.hasPrefix(base + "/") }
        // The reader's vote links, unsubscribe, preferences, the edition's page.
        #expect(links.filter { $0.contains("/v/") }.count == digest.itemIDs.count)
        #expect(links.contains { $0.contains("/unsubscribe?token=") })
        #expect(links.contains { $0.contains("/preferences?token=") })
        let before = try world.dump()
        try await world.app().test(.router) { client in
            for link in links.sorted() {
                let path = String(link.dropFirst(base.count))
                for method in [HTTPRequest.Method.get, .head] {
                    try await client.execute(uri: path, method: method) { response in
                        // Item links are counted redirects (`privacy.clickCounting`, aggregate by default).
                        #expect(response.status == (path.hasPrefix("/r/") ? .found : .ok), "\(method) \(path)")
                    }
                }
            }
        }
        // Nothing changes but the clicks: one per item link the scanner GETs (README "Clicks, counted privately").
        func unclicked(_ rows: [String]) -> [String] { rows.filter { !$0.hasPrefix("clicks: ") } }
        #expect(unclicked(try world.dump()) == unclicked(before))
        let counted = try world.store.clicks(editionID: world.edition.id!).values.reduce(0, +)
        #expect(counted == links.filter { $0.hasPrefix(base + "/r/") }.count)
        #expect(try world.store.subscriber(id: world.reader.id!)?.status == .active)
    }

    /// The votes show in the items API, on the admin's edition page and in the reader's data export.
    @Test func votesFromTheDigestShowWhereTheyAreCounted() async throws {
        let world = try await World(.sqlite)
        try await world.app().test(.router) { client in
            try await client.execute(uri: "/vote?token=\(world.token(0))", method: .post, headers: formHeaders, body: form([])) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/items/votes?since=2026-11-24T00:00:00Z", method: .get, headers: authorized) {
                response in
                #expect(response.status == .ok)
                let reply = try #require(object(response))
                #expect(reply["since"] as? String == "2026-11-24T00:00:00Z")
                let items = try #require(reply["items"] as? [[String: Any]])
                #expect(items.count == 1)
                #expect(items.first?["url"] as? String == world.edition.candidates[0].url)
                #expect(items.first?["digestVotes"] as? Int == 1)
                #expect(items.first?["digestVotesSince"] as? Int == 1)
                #expect(items.first?["votes"] as? Int == world.edition.candidates[0].votes)
            }
            // Nothing since a later time; a bad time and a missing token are refused.
            try await client.execute(uri: "/api/items/votes?since=2026-11-25T00:00:00Z", method: .get, headers: authorized) {
                #expect((object($0)?["items"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/api/items/votes?since=yesterday", method: .get, headers: authorized) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/items/votes", method: .get) { #expect($0.status == .unauthorized) }
            // The admin's edition page counts the votes from its links.
            try await client.execute(
                uri: "/admin/editions/2026-11-24", method: .get, headers: [.authorization: "Bearer \(WebFixture.token)"]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("From this digest"))
                // From this digest: 1; Clicks: 0.
                #expect(response.text.contains("<td class=\"num\">1</td><td class=\"num\">0</td></tr>"))
            }
            // The reader's "download my data" file lists what they voted for.
            let preferences = try LinkSigner(secret: WebFixture.secret)
                .token(.preferences, subscriberID: world.reader.id!, email: world.reader.email)
            try await client.execute(uri: "/preferences/data?token=\(preferences)", method: .get) { response in
                let votes = try #require(object(response)?["votes"] as? [[String: Any]])
                #expect(votes.map { $0["url"] as? String } == [world.edition.candidates[0].url])
            }
            // `GET /api/items` carries both counts.
            try await client.execute(uri: "/api/items", method: .get, headers: authorized) { response in
                let first = try #require(array(response)?.first { $0["url"] as? String == world.edition.candidates[0].url })
                #expect(first["digestVotes"] as? Int == 1)
            }
        }
    }

    /// The vote's store call runs on the web's store threads with the request's deadline: while another process
    /// holds SQLite's write lock, the POST answers the styled 503 with `Retry-After` in about that time. The call
    /// itself may still finish once the lock is gone (`StoreExecutor`: a running call runs to its end, its
    /// result dropped); the reader who sends the form again learns which it was, and the vote counts once.
    @Test func aVoteWhileTheDatabaseIsLockedIsA503AndCountsNothing() async throws {
        let world = try await World(.sqlite)
        let token = world.token(0)
        try await world.app(databaseTimeout: 1).test(.router) { client in
            // Held from here until released, however long the machine takes to get to the POST.
            let lock = try SQLiteWriteLock(path: world.web.configuration.database)
            defer { lock.release() }
            let started = ContinuousClock.now
            try await client.execute(uri: "/vote", method: .post, headers: formHeaders, body: form([("token", token)])) {
                response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(response.text.contains("Please try again in a moment"))
            }
            // The deadline answered, not SQLite's 10 s busy timeout (on a loaded 2-core machine a 1 s deadline
            // took 3.4 s to answer once, with the rest of the suite running beside it).
            #expect(ContinuousClock.now - started < .seconds(8))
        }
        try await world.app().test(.router) { client in
            try await client.execute(uri: "/vote", method: .post, headers: formHeaders, body: form([("token", token)])) {
                #expect($0.status == .ok)
                #expect($0.text.contains("Thank you for your vote") || $0.text.contains("You already voted"))
            }
        }
        #expect(try world.digestVotes(0) == 1)
    }
}
