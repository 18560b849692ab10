import Foundation
import Testing

@testable import DigestCore
import DigestPostgres

/// Votes from the digest (issue 26): the signed link, one vote per reader per item on both stores, the
/// ranking's combined score, and the numbers printed beside the items read back from the ledger.
@Suite struct DigestVoteStoreTests {
    let directory = TemporaryDirectory("digest-votes")
    let day = Day("2026-11-24")!
    /// The edition of `day` closes at 06:00 in Amman (03:00Z).
    let closed = Fixtures.date("2026-11-24T03:00:00Z")

    /// A store with three stories and two posts in the window of `day`, its daily edition frozen, and two readers.
    struct World {
        let store: Store
        let composer: DigestComposer
        let edition: Edition
        let readers: [Subscriber]
        var edition26: EditionReference { EditionReference(date: edition.date, kind: edition.kind) }

        func vote(_ itemNumber: Int, by reader: Int = 0) -> DigestVote {
            DigestVote(edition: edition26, itemID: edition.candidates[itemNumber].itemID, subscriberID: readers[reader].id!)
        }
    }

    func world(_ backend: StoreBackend, weight: Double = 1) async throws -> World {
        let configuration = try Fixtures.configuration(in: directory) { json in
            json["database"] = try? backend.database(in: directory)
            var digest = json["digest"] as! [String: Any]
            digest["digestVoteWeight"] = weight
            json["digest"] = digest
        }
        let store = try Store.open(configuration.database)
        try store.upsert(
            (1...5).map { n in
                ItemDraft(
                    kind: n <= 3 ? .story : .post, title: "Item \(n)", url: "https://n.example/\(n)",
                    publishedAt: Fixtures.date("2026-11-23T1\(n):00:00Z"), votes: 10 * n)
            })
        let composer = try DigestComposer(
            configuration: configuration, templates: try await DigestTemplates(folder: configuration.templates),
            signer: try LinkSigner(secret: "digest-votes-secret-0123"))
        let edition = try composer.ranker.edition(for: day, store: store, freeze: true, now: closed)
        let readers = try ["a@example.com", "b@example.com"].map {
            try store.addSubscriber(Subscriber(email: try EmailAddress($0), status: .active))
        }
        return World(store: store, composer: composer, edition: edition, readers: readers)
    }

    @Test func aTokenNamesItsVoteAndNoChangedTokenNamesAny() throws {
        let link = DigestVoteLink(signer: try LinkSigner(secret: "digest-votes-secret-0123"))
        let vote = DigestVote(edition: EditionReference(date: day, kind: .weekly), itemID: 4021, subscriberID: 77)
        let token = link.token(for: vote)
        #expect(token.hasPrefix("20261124w-4021-77-"))
        #expect(link.vote(in: token) == vote)
        // Every character changed to every other character a token may hold: never a vote.
        let alphabet = Array("0123456789abcdefwmdcx-")
        let characters = Array(token)
        for index in characters.indices {
            for other in alphabet where other != characters[index] {
                var changed = characters
                changed[index] = other
                #expect(link.vote(in: String(changed)) == nil, "\(String(changed))")
            }
        }
        // Cut short, lengthened, with leading zeros, or signed with another secret.
        for count in 0..<token.count { #expect(link.vote(in: String(token.prefix(count))) == nil) }
        #expect(link.vote(in: token + "0") == nil)
        #expect(link.vote(in: token.replacingOccurrences(of: "-4021-", with: "-04021-")) == nil)
        let other = DigestVoteLink(signer: try LinkSigner(secret: "another-secret-0123456789"))
        #expect(other.vote(in: token) == nil)
        // Each kind of edition has its own letter, and the kind is signed.
        for kind in EditionKind.allCases {
            let each = DigestVote(edition: EditionReference(date: day, kind: kind), itemID: 1, subscriberID: 2)
            #expect(link.vote(in: link.token(for: each)) == each)
        }
    }

    @Test func aLinkLastsItsEditionsWindowAndTheGracePeriod() {
        let cutoff = closed
        #expect(
            DigestVoteLink.expiry(windowStart: cutoff - 86_400, cutoff: cutoff)
                == cutoff + 86_400 + DigestVoteLink.gracePeriod)
        #expect(
            DigestVoteLink.expiry(windowStart: cutoff - 7 * 86_400, cutoff: cutoff)
                == cutoff + 7 * 86_400 + DigestVoteLink.gracePeriod)
    }

    @Test(arguments: StoreBackend.allCases) func oneVotePerReaderPerItem(backend: StoreBackend) async throws {
        let world = try await world(backend)
        let store = world.store
        let now = closed + 3600
        let first = world.edition.candidates[0]
        #expect(try store.digestVoteTarget(world.vote(0))?.alreadyVoted == false)
        #expect(try store.recordDigestVote(world.vote(0), now: now) == .recorded(item: first, digestVotes: 1))
        #expect(try store.recordDigestVote(world.vote(0), now: now + 60) == .alreadyVoted(item: first))
        #expect(try store.digestVoteTarget(world.vote(0))?.alreadyVoted == true)
        #expect(try store.recordDigestVote(world.vote(0, by: 1), now: now + 120) == .recorded(item: first, digestVotes: 2))
        #expect(try store.item(url: first.url)?.digestVotes == 2)
        // The site's own count is untouched.
        #expect(try store.item(url: first.url)?.votes == first.votes)

        // The API's figures: what came since a time, with the totals.
        let counts = try store.digestVoteCounts(since: now + 90)
        #expect(counts.map(\.url) == [first.url])
        #expect(counts.first?.recent == 1)
        #expect(counts.first?.digestVotes == 2)
        #expect(try store.digestVoteCounts(since: now).first?.recent == 2)

        // Past the window and the grace period: refused, nothing written.
        let target = try #require(try store.digestVoteTarget(world.vote(1)))
        #expect(target.expires == DigestVoteLink.expiry(windowStart: world.edition.windowStart, cutoff: world.edition.cutoff))
        #expect(try store.recordDigestVote(world.vote(1), now: target.expires + 1) == .expired)
        #expect(try store.recordDigestVote(world.vote(1), now: target.expires) != .expired)

        // An item that is not in the edition, a reader or an edition that is not there: nothing.
        var stranger = world.vote(2)
        stranger.itemID = 999_999
        #expect(try store.recordDigestVote(stranger, now: now) == .notFound)
        stranger = world.vote(2)
        stranger.subscriberID = 999_999
        #expect(try store.recordDigestVote(stranger, now: now) == .notFound)
        stranger = world.vote(2)
        stranger.edition.kind = .weekly
        #expect(try store.recordDigestVote(stranger, now: now) == .notFound)
        #expect(try store.digestVoteTarget(stranger) == nil)

        // Erasing a reader keeps their vote in the count and forgets whose it was.
        #expect(try store.removeSubscriber(email: world.readers[1].email, now: now))
        #expect(try store.item(url: first.url)?.digestVotes == 2)
        let owners: [Int64?] = try store.database.read { db in
            try db.fetchAll("SELECT subscriberID FROM digest_votes WHERE itemID = ? ORDER BY id", first.itemID.sqlValue)
                .map { try $0["subscriberID"] }
        }
        #expect(owners == [world.readers[0].id, nil])
    }

    @Test(arguments: StoreBackend.allCases) func thirtyTwoVotesAtOnceCountOnce(backend: StoreBackend) async throws {
        let world = try await world(backend)
        let outcomes = LockedValue<[DigestVoteOutcome]>([])
        let store = world.store
        let vote = world.vote(0)
        DispatchQueue.concurrentPerform(iterations: 32) { _ in
            let outcome = (try? store.recordDigestVote(vote, now: closed + 60)) ?? .notFound
            outcomes.withLock { $0.append(outcome) }
        }
        let all = outcomes.withLock { $0 }
        #expect(all.filter { if case .recorded = $0 { true } else { false } }.count == 1, "\(all)")
        #expect(all.filter { if case .alreadyVoted = $0 { true } else { false } }.count == 31, "\(all)")
        #expect(try store.item(url: world.edition.candidates[0].url)?.digestVotes == 1)
    }

    /// The ranking adds digest votes at `digest.digestVoteWeight`: the pure ranker and the store's SQL agree.
    @Test(arguments: StoreBackend.allCases) func digestVotesCountInTheRanking(backend: StoreBackend) async throws {
        let world = try await world(backend, weight: 2)
        let store = world.store
        // Item 1 (10 votes) gets 11 digest votes: 10 + 2 × 11 = 32 beats item 3's 30.
        try store.database.write { db in
            _ = try db.execute("UPDATE items SET digestVotes = 11 WHERE url = 'https://n.example/1'")
        }
        let ranker = world.composer.ranker
        let ranked = try ranker.rank(date: day, store: store)
        #expect(ranked.candidates(of: .story).map(\.title) == ["Item 1", "Item 3", "Item 2"])
        let items = try store.items(since: nil)
        let pure = ranker.rank(date: day, items: Dictionary(grouping: items, by: \.kind))
        #expect(pure == ranked)
        #expect(ranker.score(try #require(items.first { $0.title == "Item 1" })) == 32)
        // Weight 0: the site's votes alone.
        var digest = ranker.digest
        digest.digestVoteWeight = 0
        let siteOnly = Ranker(digest: digest, timeZone: ranker.timeZone)
        #expect(try siteOnly.rank(date: day, store: store).candidates(of: .story).map(\.title) == ["Item 3", "Item 2", "Item 1"])
    }

    /// The numbers beside the items of a reader's digest, read back by `Store.digestItem(number:…)` (what reply
    /// commands use), are the ones the mail printed.
    @Test(arguments: StoreBackend.allCases) func theNumbersInTheMailNameTheItemsTheReaderGot(backend: StoreBackend) async throws {
        let world = try await world(backend)
        let store = world.store
        let reader = world.readers[0]
        // The reader already had item 3: their digest numbers the others 1 to 4, across both sections.
        let received: Set<Int64> = [world.edition.candidates[0].itemID]
        let digest = try #require(
            try world.composer.digest(for: reader, in: world.edition, alreadyReceived: received, now: closed))
        #expect(digest.itemIDs.count == 4)
        try store.queueDeliveries(editionID: world.edition.id!, date: day, now: closed)
        let deliveryID: Int64 = try #require(
            try store.database.read { db in
                try db.fetchValue("SELECT id FROM deliveries WHERE subscriberID = ?", reader.id!.sqlValue)
            })
        try store.recordDelivery(
            id: deliveryID, subscriberID: reader.id!, outcome: .sent(reply: "250 ok"), attempts: 1,
            messageID: digest.message.messageID, itemIDs: digest.itemIDs, retryAt: nil, bounceLimit: nil, now: closed)
        for number in 1...4 {
            let item = try #require(try store.digestItem(number: number, date: day, kind: .daily, subscriberID: reader.id!))
            #expect(digest.text.contains("\n\(number). \(item.title)\n"), "\(number): \(item.title)")
            #expect(try store.digestItem(number: number, date: day, kind: nil, subscriberID: reader.id!) == item)
            // Its vote link is the one printed under it.
            let url = world.composer.voteURL(for: reader, itemID: item.itemID, in: world.edition26)
            #expect(digest.text.contains("   Vote: \(url)\n"))
            #expect(digest.html?.contains("href=\"\(url)\"") == true)
        }
        #expect(try store.digestItem(number: 5, date: day, kind: .daily, subscriberID: reader.id!) == nil)
        #expect(try store.digestItem(number: 0, date: day, kind: .daily, subscriberID: reader.id!) == nil)
        #expect(try store.digestItem(number: 1, date: day, kind: .weekly, subscriberID: reader.id!) == nil)
        // The other reader was sent nothing.
        #expect(try store.digestItem(number: 1, date: day, kind: nil, subscriberID: world.readers[1].id!) == nil)
    }
}
