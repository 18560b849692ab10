// `digest-bench`: the measurements of `make bench` that need no SMTP server, kept out of the `digest`
// executable so no benchmark code sits on a user's path. Run by scripts/bench; see BENCHMARKS.md.
//
//   digest-bench render --config FILE --date D [--seconds S]
//       personalized digests per second on one thread (select, personalize, sign links, MIME + QP),
//       sending nothing and writing nothing
//   digest-bench record --config FILE --date D
//       microseconds per ledger write (claim in batches, one committed transaction per outcome)
//   digest-bench rank --config FILE --date D [--days N]
//       milliseconds to rank and freeze the editions of D, D-1, … D-(N-1) from the stored items
//   digest-bench transport --config FILE --message FILE.eml --count N
//       the transport-only reference: the project's own SMTP connections (CurlEasy, one per configured
//       connection, each on a thread of its own) sending one fixed message N times in all; no ranking,
//       composing or ledger. Against scripts/bench-curl.c (bare libcurl) it prices the wrapper
//   digest-bench summaries --config FILE
//       seconds to compute the admin summary rows from the rows they summarize (what an upgrade costs)
//   digest-bench queries --config FILE [--repeat N]
//       p50/p95 milliseconds of each Store query behind the admin console (scripts/bench-admin)
//   digest-bench dkim --config FILE --date D --rsa PEM --ed25519 PEM [--seconds S] [--threads N]
//       microseconds of CPU to DKIM-sign one composed digest with RSA-2048, Ed25519, and both, next to the
//       cost of composing it; the RSA primitive alone through OpenSSL (what digest uses) and through
//       swift-crypto's BoringSSL; and messages signed per second on N threads at once (default: the cores)
//   digest-bench plan --config FILE --date D [--readers N] [--nights K]
//       milliseconds of the plan stage (which reader is due which edition, editions frozen, rows queued) for N
//       readers (a fifth weekly, one in twenty paused) with K nights of history each: at the hour everyone is
//       due, and an hour later when nobody is
//   digest-bench feeds-corpus --base URL --root DIR FILE…   |   digest-bench feeds-corpus --dates FILE
//       not a timing: each feed file parsed as `digest import` reads it, one JSON line per file (titles,
//       links, dates, skipped entries, refusals), or each line of FILE read as a feed date, for
//       scripts/feed-corpus to compare with feedparser
import Crypto
import DigestCore
import DigestPostgres
import Foundation
import _CryptoExtras

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Composes HTML + text digests (the heavier format) for made-up readers until `duration` seconds have
/// passed, on the calling thread only.
func benchRender(configuration: Configuration, date: Day, duration: Double) async throws {
    let store = try configuration.openStore(create: true)
    let composer = try await DigestComposer.make(configuration: configuration)
    let ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
    let edition = try ranker.edition(for: date, store: store, freeze: false)
    let now = Date()
    var count = 0
    var bytes = 0
    // Warm-up: the first message renders the templates once; what follows is the per-reader cost.
    let first = try compose(composer, edition: edition, id: 1, now: now)
    let size = first.message.data.count
    let start = ContinuousClock.now
    var elapsed = 0.0
    while elapsed < duration {
        for _ in 0..<200 {
            count += 1
            bytes += try compose(composer, edition: edition, id: Int64(count + 1), now: now).message.data.count
        }
        elapsed = seconds(since: start)
    }
    print(String(format: "render: %d digests in %.2f s = %.0f digests/s (one thread), %d bytes each", count, elapsed,
                 Double(count) / elapsed, size))
    _ = bytes
}

func compose(_ composer: DigestComposer, edition: Edition, id: Int64, now: Date) throws -> ComposedDigest {
    let subscriber = Subscriber(
        id: id, email: try EmailAddress("reader\(id)@bench.example"), name: "Reader \(id)", status: .active)
    return try composer.digest(for: subscriber, in: edition, alreadyReceived: [], now: now, skippingEmpty: false)!
}

/// Ranks and freezes `days` editions ending at `date`, each from a window of the stored items.
func benchRank(configuration: Configuration, date: Day, days: Int) throws {
    let store = try configuration.openStore(create: true)
    let ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
    var times: [Double] = []
    var candidates = 0
    for offset in 0..<days {
        let day = date.adding(days: -offset)
        let start = ContinuousClock.now
        let edition = try ranker.edition(for: day, store: store, freeze: true)
        times.append(seconds(since: start) * 1000)
        candidates = edition.candidates.count
    }
    print(String(format: "rank: median %.2f ms to rank and freeze an edition (%d editions, min %.2f, max %.2f, %d candidates)",
                 median(times), days, times.min() ?? 0, times.max() ?? 0, candidates))
}

/// The plan stage on a list with history: `readers` readers, each with a sent delivery of each of the `nights`
/// editions before `date`; then the run at the site's send hour of `date` (everyone due) and the next hour's.
func benchPlan(configuration: Configuration, date: Day, readers: Int, nights: Int) throws {
    let store = try configuration.openStore(create: true)
    let ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
    var csv = "email,cadence,weekday,pausedUntil\n"
    for index in 0..<readers {
        let weekly = index % 5 == 1
        let paused = index % 20 == 3
        csv += "plan\(index)@bench.example,\(weekly ? "weekly" : "daily"),\(weekly ? "\(Weekday(date).rawValue)" : ""),"
            + (paused ? "\(date.adding(days: 14))" : "") + "\n"
    }
    var start = ContinuousClock.now
    let imported = try store.importSubscribers(csv: csv, confirmed: true).imported
    for night in stride(from: nights, through: 1, by: -1) {
        let day = date.adding(days: -night)
        let edition = try ranker.edition(for: day, store: store, freeze: true)
        try store.queueDeliveries(editionID: edition.id!, date: day, now: Date())
    }
    // As if each night had been sent: the rows straight to `sent` (SQLite only: this benchmark's store).
    let file = try SQLiteDatabase(path: store.path)
    try file.write { db in try db.execute("UPDATE deliveries SET status = 'sent', sentAt = updatedAt", []) }
    file.close()
    print(String(format: "plan: %d readers with %d nights of history made in %.1f s", imported, nights, seconds(since: start)))
    let planner = EditionPlanner(store: store, ranker: ranker)
    let due = ranker.cutoff(for: date).addingTimeInterval(60)
    for (label, now) in [("everyone due", due), ("an hour later, nobody due", due.addingTimeInterval(3600))] {
        start = ContinuousClock.now
        let outcome = try planner.plan(now: now, freeze: true) { try planner.queue($0, now: now) }
        let queued = outcome.queued.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
        print(String(format: "plan: %@: %.0f ms (%@; %d paused)", label, seconds(since: start) * 1000,
                     queued.isEmpty ? "none queued" : queued.joined(separator: ", "), outcome.paused))
    }
}

/// Ledger writes alone: claims the queued rows of `date` in batches and records each as sent, one
/// committed transaction per outcome as `digest send` does, on one thread. Needs a fresh database.
func benchRecord(configuration: Configuration, date: Day) throws {
    let store = try configuration.openStore(create: true)
    let ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
    let edition = try ranker.edition(for: date, store: store, freeze: true)
    try store.queueDeliveries(editionID: edition.id!, date: date, now: Date())
    var claimTime = 0.0
    var recordTime = 0.0
    var count = 0
    let itemIDs = edition.candidates.prefix(15).map(\.itemID)
    while true {
        var start = ContinuousClock.now
        let batch = try store.claimDeliveries(run: "bench", limit: 200, now: Date())
        claimTime += seconds(since: start)
        guard !batch.isEmpty else { break }
        start = ContinuousClock.now
        for row in batch {
            try store.recordDelivery(
                id: row.id, subscriberID: row.subscriber.id!, outcome: .sent(reply: "250 2.0.0 Ok: queued"), attempts: 1,
                messageID: "<digest.\(row.id)@bench.example>", itemIDs: itemIDs, retryAt: nil, bounceLimit: 3, now: Date())
        }
        recordTime += seconds(since: start)
        count += batch.count
    }
    print(String(format: "record: %d outcomes, %.1f µs per recorded outcome, %.1f µs per claimed row", count,
                 recordTime / Double(max(1, count)) * 1e6, claimTime / Double(max(1, count)) * 1e6))
}

/// CPU time of the calling thread, in seconds: steadier than wall time on a machine shared with other work.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// DKIM signing of one composed digest, repeated for `duration` seconds per key set, next to composing; the
/// RSA primitive alone; and signing on `threads` threads at once.
func benchDKIM(
    configuration: Configuration, date: Day, rsa: String, ed25519: String, duration: Double, threads: Int
) async throws {
    let store = try configuration.openStore(create: true)
    let composer = try await DigestComposer.make(configuration: configuration)
    let ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
    let edition = try ranker.edition(for: date, store: store, freeze: false)
    let now = Date()
    let message = try compose(composer, edition: edition, id: 1, now: now).message.data
    /// Microseconds of this thread's CPU per call of `body`.
    func perMessage(_ body: () throws -> Void) rethrows -> Double {
        var count = 0
        let start = ContinuousClock.now
        let cpu = threadCPUSeconds()
        while seconds(since: start) < duration {
            for _ in 0..<20 { try body() }
            count += 20
        }
        return (threadCPUSeconds() - cpu) / Double(count) * 1e6
    }
    var id: Int64 = 1
    let composing = try perMessage {
        id += 1
        _ = try compose(composer, edition: edition, id: id, now: now)
    }
    print(String(format: "dkim: composing one %d-byte digest (unsigned) %.1f µs CPU", message.count, composing))
    let rsaKey = try DKIMKey(domain: "bench.example", selector: "rsa", privateKeyFile: rsa)
    let edKey = try DKIMKey(domain: "bench.example", selector: "ed", privateKeyFile: ed25519)
    for (name, keys) in [("rsa-sha256 (2048)", [rsaKey]), ("ed25519-sha256", [edKey]), ("both", [rsaKey, edKey])] {
        let signer = DKIMSigner(keys: keys)
        let cost = perMessage { _ = signer.sign(message, time: now) }
        print(String(format: "dkim: %@: %.1f µs CPU per message (%.0f%% of composing)", name, cost, cost / composing * 100))
    }
    // The body hash alone (relaxed canonicalization, then SHA-256), and SHA-256 of as many bytes without it.
    let bodyHashing = perMessage { _ = DKIMSigner(keys: [rsaKey]).bodyHash(of: message) }
    let hashing = perMessage { _ = SHA256.hash(data: message) }
    print(String(format: "dkim: body hash %.1f µs CPU per message: SHA-256 of its bytes %.1f µs, canonicalizing the rest", bodyHashing, hashing))
    // The primitive: a message of one header field and no body, so hashing and canonicalizing cost ~nothing.
    let tiny = Array("From: a@bench.example\r\n\r\n".utf8)
    let rsaSigner = DKIMSigner(keys: [rsaKey])
    let openSSL = perMessage { _ = rsaSigner.sign(tiny, time: now) }
    let boringKey = try _RSA.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: rsa, encoding: .utf8))
    let digest = SHA256.hash(data: tiny)
    let boring = try perMessage { _ = try boringKey.signature(for: digest, padding: .insecurePKCS1v1_5) }
    print(String(format: "dkim: RSA-2048 primitive: OpenSSL (digest's) %.1f µs CPU, swift-crypto's BoringSSL %.1f µs CPU", openSSL, boring))
    // Every core: `threads` threads sign copies of the message for `duration` seconds.
    let signed = LockedCounter()
    let started = ContinuousClock.now
    let workers = (0..<threads).map { _ in
        let thread = Thread {
            var count = 0
            while seconds(since: started) < duration {
                _ = rsaSigner.sign(message, time: now)
                count += 1
            }
            signed.add(count)
        }
        thread.start()
        return thread
    }
    while workers.contains(where: { !$0.isFinished }) { usleep(1_000) }
    let elapsed = seconds(since: started)
    print(String(format: "dkim: rsa-sha256 on %d threads: %.0f messages/s (%.1f µs of wall time each)", threads,
                 Double(signed.value) / elapsed, elapsed / Double(max(1, signed.value)) * 1e6))
}

/// Sends `message` `count` times over the configured SMTP transport's connections, one thread each.
func benchTransport(configuration: Configuration, message path: String, count: Int) throws {
    let transport = try configuration.mail.makeTransport()
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    if !bytes.contains(13) {
        // smtp-source's copy has LF line ends: the wire wants CRLF.
        bytes = bytes.reduce(into: [UInt8]()) { out, byte in
            if byte == 10 { out.append(13) }
            out.append(byte)
        }
    }
    // `mail.from` is "Name <address>" or a bare address.
    let from = configuration.mail.from
    let address = from.firstMatch(of: /<([^>]+)>/).map { String($0.1) } ?? from
    let sender = try EmailAddress(address.trimmingCharacters(in: .whitespaces))
    let message = MailMessage(
        sender: sender, recipient: try EmailAddress("reader1@bench.example"), messageID: "<bench@bench.example>",
        data: bytes)
    let connections = max(1, transport.connections)
    let failures = LockedCounter()
    let started = ContinuousClock.now
    let threads = (0..<connections).map { index in
        let share = count / connections + (index < count % connections ? 1 : 0)
        let thread = Thread {
            guard let connection = try? transport.makeConnection() else {
                failures.add(share)
                return
            }
            for _ in 0..<share {
                if case .sent = connection.send(message) {} else { failures.add(1) }
            }
        }
        thread.start()
        return thread
    }
    while threads.contains(where: { !$0.isFinished }) { usleep(1_000) }
    let elapsed = seconds(since: started)
    guard failures.value == 0 else { throw BenchFailure(description: "\(failures.value) of \(count) messages not sent") }
    print(String(format: "transport: %d messages on %d connections in %.2f s (%.0f msg/s)", count, connections, elapsed, Double(count) / elapsed))
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ n: Int) { lock.withLock { count += n } }
}

/// Times `store.rebuildSummaries()`.
func benchSummaries(configuration: Configuration) throws {
    let store = try configuration.openStore(create: false)
    let start = ContinuousClock.now
    try store.rebuildSummaries()
    print(String(format: "summaries: rebuilt in %.1f s", seconds(since: start)))
}

/// Each admin query `count` times in turn; a Markdown row per query: p50 and p95 in milliseconds.
func benchQueries(configuration: Configuration, count: Int) throws {
    let store = try configuration.openStore(create: false)
    let schedule = DeliverySchedule(ranker: Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone))
    let now = Date()
    let newest = try store.editionStats(limit: 1).first.flatMap { Day($0.date) } ?? Day(now, in: .gmt)
    let readers = try store.readerCounts().total
    // A reader with reports about them past the middle of the list, as scripts/bench-admin picks one.
    let found = try store.searchSubscribers(query: "reader\(readers / 2 + 7)@", status: nil, limit: 1).subscribers.first
    let reader = found?.id ?? 1
    let email = try found.map(\.email) ?? EmailAddress("reader1@mail1.example")
    let queries: [(String, () throws -> Void)] = [
        ("statsReport(days: 30)", { _ = try store.statsReport(days: 30, now: now, schedule: schedule) }),
        ("statsReport(days: 365)", { _ = try store.statsReport(days: 365, now: now, schedule: schedule) }),
        ("metricsSnapshot()", { _ = try store.metricsSnapshot() }),
        ("readerSummary(days: 30)", { _ = try store.readerSummary(days: 30, now: now) }),
        ("backlog()", { _ = try store.backlog() }),
        ("dueHours(now:)", { _ = try store.dueHours(now: now, schedule: schedule) }),
        ("editionStats(limit: 30)", { _ = try store.editionStats(limit: 30, offset: 0) }),
        ("editionReport(date:)", { _ = try store.editionReport(date: newest) }),
        ("searchSubscribers(\"reader12\")", { _ = try store.searchSubscribers(query: "reader12", status: nil) }),
        ("searchSubscribers(\"mail7.\", active)", { _ = try store.searchSubscribers(query: "mail7.", status: .active) }),
        ("searchSubscribers(\"Reader 31337\")", { _ = try store.searchSubscribers(query: "Reader 31337", status: nil) }),
        ("searchSubscribers(EMAIL)", { _ = try store.searchSubscribers(query: email.description, status: nil) }),
        ("searchSubscribers(nil, bounced)", { _ = try store.searchSubscribers(query: nil, status: .bounced) }),
        ("searchSubscribers(nil, offset 50000)", { _ = try store.searchSubscribers(query: nil, status: nil, offset: 50_000) }),
        ("searchSubscribers(nil, last page)", {
            _ = try store.searchSubscribers(query: nil, status: nil, offset: max(0, (readers - 1) / 50 * 50))
        }),
        ("subscriberDetail(id:)", { _ = try store.subscriberDetail(id: reader) }),
        ("auditLog(subscriberID:)", { _ = try store.auditLog(limit: 50, subscriberID: reader) }),
        ("subscriber(email:)", { _ = try store.subscriber(email: email) }),
        ("receivedItemIDs (preview)", {
            _ = try store.receivedItemIDs(subscriberID: reader, before: newest.adding(days: 1), since: newest.adding(days: -2))
        }),
        ("databaseSize()", { _ = try store.databaseSize() }),
        ("appliedMigrations()", { _ = try store.appliedMigrations() }),
        ("runs(limit: 1)", { _ = try store.runs(limit: 1) }),
        ("bestItems(matching:)", {
            _ = try store.bestItems(
                kind: .story, in: now.addingTimeInterval(-86_400 * 2)..<now, digestVoteWeight: 1, matching: "item 1",
                limit: 200)
        }),
    ]
    print("| query | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for (name, query) in queries {
        try query()
        var times: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            try query()
            times.append(seconds(since: start) * 1000)
        }
        times.sort()
        let p95 = times[min(times.count - 1, Int((Double(times.count) * 0.95).rounded(.up)) - 1)]
        print(String(format: "| `%@` | %.1f | %.1f |", name, median(times), p95))
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "summaries" || arguments.first == "queries" {
        let path = Configuration.resolvePath(explicit: option("--config", in: arguments), environment: ProcessInfo.processInfo.environment)
        let configuration = try Configuration.load(path: path)
        if arguments.first == "summaries" {
            try benchSummaries(configuration: configuration)
        } else {
            try benchQueries(configuration: configuration, count: Int(option("--repeat", in: arguments) ?? "20") ?? 20)
        }
        exit(0)
    }
    if arguments.first == "feeds-corpus", let dates = option("--dates", in: arguments) {
        try benchFeedDates(file: dates)
        exit(0)
    }
    if arguments.first == "feeds-corpus" {
        let files = arguments.dropFirst().enumerated().filter { index, argument in
            !argument.hasPrefix("--") && (index == 0 || !["--base", "--root"].contains(arguments[index]))
        }.map(\.element)
        try benchFeedsCorpus(
            files: files, base: option("--base", in: arguments) ?? "http://corpus.invalid/",
            root: option("--root", in: arguments) ?? FileManager.default.currentDirectoryPath)
        exit(0)
    }
    if arguments.first == "transport" {
        let path = Configuration.resolvePath(explicit: option("--config", in: arguments), environment: ProcessInfo.processInfo.environment)
        guard let message = option("--message", in: arguments), let count = option("--count", in: arguments).flatMap(Int.init)
        else { throw BenchFailure(description: "transport needs --message FILE.eml and --count N") }
        try benchTransport(configuration: try Configuration.load(path: path), message: message, count: count)
        exit(0)
    }
    guard let command = arguments.first else { throw BenchFailure(description: "usage: digest-bench render|record|rank --config FILE --date D") }
    let path = Configuration.resolvePath(explicit: option("--config", in: arguments), environment: ProcessInfo.processInfo.environment)
    let configuration = try Configuration.load(path: path)
    guard let date = option("--date", in: arguments).flatMap(Day.init) else { throw BenchFailure(description: "--date YYYY-MM-DD is required") }
    switch command {
    case "render":
        try await benchRender(configuration: configuration, date: date, duration: Double(option("--seconds", in: arguments) ?? "5") ?? 5)
    case "record":
        try benchRecord(configuration: configuration, date: date)
    case "dkim":
        guard let rsa = option("--rsa", in: arguments), let ed25519 = option("--ed25519", in: arguments) else {
            throw BenchFailure(description: "dkim needs --rsa PEM and --ed25519 PEM (openssl genrsa 2048, openssl genpkey -algorithm ed25519)")
        }
        try await benchDKIM(
            configuration: configuration, date: date, rsa: rsa, ed25519: ed25519,
            duration: Double(option("--seconds", in: arguments) ?? "3") ?? 3,
            threads: Int(option("--threads", in: arguments) ?? "") ?? ProcessInfo.processInfo.activeProcessorCount)
    case "rank":
        try benchRank(configuration: configuration, date: date, days: Int(option("--days", in: arguments) ?? "7") ?? 7)
    case "plan":
        try benchPlan(
            configuration: configuration, date: date, readers: Int(option("--readers", in: arguments) ?? "") ?? 100_000,
            nights: Int(option("--nights", in: arguments) ?? "") ?? 30)
    default:
        throw BenchFailure(description: "unknown benchmark \(command): render, record, rank, plan or dkim")
    }
} catch {
    FileHandle.standardError.write(Data("digest-bench: \(error)\n".utf8))
    exit(1)
}
