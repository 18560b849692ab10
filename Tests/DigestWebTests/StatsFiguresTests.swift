import DigestCore
import DigestPostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import DigestTestSupport

@testable import DigestWeb

/// Four nights of a small list, made through the code that runs in production: web sign-ups and
/// confirmations, an unsubscribe, `digest send` (the real process, into a Maildir) each morning, and
/// bounce and complaint notices applied as `POST /api/bounces` applies them. Every figure of
/// `digest stats --json`, `GET /admin/api/stats`, `GET /metrics` and `digest runs --json` must be what
/// the story put there, on both stores.
///
///     11-20 09:00  s0…s4 sign up; 10:00 s0…s3 confirm; 11:00 cli@ added active by the command line
///     11-21 07:00  send 11-21 → 5;  12:00 s3 unsubscribes
///     11-22 07:00  send 11-22 → 4
///     11-23 07:00  send 11-23 → 4;  09:00 s1 hard-bounces (3 messages: bounced), s2 complains about
///                  11-22 (unsubscribed), s0 soft-bounces 11-21
///     11-24 07:00  send 11-24 → 2 (s0, cli)
@Suite(.serialized) struct StatsFiguresTests {
    static let binary = ServeHarness.root + "/.build/debug/digest"
    static let secret = "stats-test-secret-0123456789"
    static let now = date("2026-11-24T08:00:00Z")

    static func date(_ text: String) -> Date { DateParsing.iso8601(text)! }

    /// A configuration file over a fresh database of `backend`, site and sends in UTC at 06:00.
    struct Story {
        /// Removed with the last copy of the story.
        let folder: TemporaryDirectory
        let directory: String
        let config: String
        let configuration: Configuration
        let store: Store

        init(_ backend: StoreBackendName) throws {
            folder = TemporaryDirectory("digest-stats")
            directory = folder.path
            let example = try Data(contentsOf: URL(fileURLWithPath: ServeHarness.root + "/config.example.json"))
            var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
            json["database"] =
                backend == .postgres ? try PostgresServer.shared().createDatabase("stats") : directory + "/digest.sqlite"
            json["databasePasswordEnv"] = nil
            json["templates"] = ServeHarness.root + "/templates"
            json["feeds"] = [Any]()
            var site = json["site"] as! [String: Any]
            site["timeZone"] = "UTC"
            json["site"] = site
            var mail = json["mail"] as! [String: Any]
            mail["maildir"] = directory + "/outbox"
            json["mail"] = mail
            var web = json["web"] as! [String: Any]
            web["adminListen"] = ""
            web["idleTimeoutSeconds"] = 300
            json["web"] = web
            config = directory + "/config.json"
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
            configuration = try Configuration.load(path: config)
            store = try configuration.openStore(create: true)
        }

        func digest(_ arguments: [String]) async throws -> String {
            try #require(FileManager.default.isExecutableFile(atPath: StatsFiguresTests.binary), "swift build --product digest")
            var environment = ProcessInfo.processInfo.environment
            environment["DIGEST_SECRET"] = StatsFiguresTests.secret
            let result = try await Programs.run(
                StatsFiguresTests.binary, arguments + ["--config", config], environment: environment)
            #expect(result.status == 0 || arguments.first == "send", "digest \(arguments): \(result.standardError)")
            return result.standardOutput
        }

        func signUp(_ email: String, at time: Date) throws -> Subscriber {
            let outcome = try store.signUp(
                Subscriber(email: try EmailAddress(email)), challenge: UsedChallenge(id: "q-\(email)", expiresAt: time + 600),
                now: time, resendInterval: 600
            ) { subscriber in
                MailMessage(
                    sender: try EmailAddress("digest@courier.example"), recipient: subscriber.email,
                    messageID: "<confirm.\(email)>", data: Array("Subject: Confirm\r\n\r\nconfirm\r\n".utf8))
            }
            guard case .queued(let subscriber) = outcome else { throw SubscriberError("not queued: \(outcome)") }
            return subscriber
        }

        func items(on day: String) throws {
            try store.upsert(
                (0..<3).map { n in
                    ItemDraft(
                        kind: .story, title: "Story \(day) \(n)", url: "https://news.example/\(day)/\(n)",
                        summary: "Summary", publishedAt: StatsFiguresTests.date("\(day)T12:0\(n):00Z"), votes: 10 - n)
                }, now: StatsFiguresTests.date("\(day)T12:30:00Z"))
        }

        /// The message a reader got of the edition of `day`.
        func messageID(_ email: String, _ day: String) throws -> String {
            try #require(try store.deliveries(date: Day(day)!).first { $0.email == email }?.messageID)
        }

        /// Tells the whole story.
        func tell() async throws {
            let readers = try (0..<5).map { try signUp("s\($0)@reader.example", at: StatsFiguresTests.date("2026-11-20T09:00:00Z")) }
            for reader in readers.prefix(4) {
                #expect(try store.confirmSubscriber(id: reader.id!, now: StatsFiguresTests.date("2026-11-20T10:00:00Z")) == .changed(try store.subscriber(id: reader.id!)!))
            }
            try store.addSubscriber(
                Subscriber(email: try EmailAddress("cli@reader.example"), status: .active, createdAt: StatsFiguresTests.date("2026-11-20T11:00:00Z"),
                    confirmedAt: StatsFiguresTests.date("2026-11-20T11:00:00Z")))
            for day in ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"] { try items(on: day) }
            _ = try await digest(["send", "--now", "2026-11-21T07:00:00Z"])
            _ = try store.unsubscribeSubscriber(id: readers[3].id!, now: StatsFiguresTests.date("2026-11-21T12:00:00Z"))
            _ = try await digest(["send", "--now", "2026-11-22T07:00:00Z"])
            _ = try await digest(["send", "--now", "2026-11-23T07:00:00Z"])
            let importer = BounceImporter(store: store, bounceAddress: nil)
            let bounceTime = StatsFiguresTests.date("2026-11-23T09:00:00Z")
            for day in ["2026-11-21", "2026-11-22", "2026-11-23"] {
                _ = try importer.apply(
                    BounceNotice(email: nil, messageID: try messageID("s1@reader.example", day), kind: .hard, reason: "5.2.1 mailbox disabled"),
                    now: bounceTime)
            }
            _ = try importer.apply(
                BounceNotice(email: nil, messageID: try messageID("s2@reader.example", "2026-11-22"), kind: .complaint, reason: "abuse"),
                now: bounceTime)
            _ = try importer.apply(
                BounceNotice(email: nil, messageID: try messageID("s0@reader.example", "2026-11-21"), kind: .soft, reason: "4.2.2 full"),
                now: bounceTime)
            _ = try await digest(["send", "--now", "2026-11-24T07:00:00Z"])
            // Clicks on item links, as `digest serve` writes them: three on the 22nd's first item, one on the 23rd's.
            for (day, count) in [("2026-11-22", 3), ("2026-11-23", 1)] {
                let edition = try #require(try store.edition(date: Day(day)!, kind: .daily))
                try store.recordClicks([ClickKey(editionID: edition.id!, itemID: edition.candidates[0].itemID): count])
            }
        }

        func app() async throws -> Application<RouterResponder<WebRequestContext>> {
            var settings = WebSettings()
            settings.now = { StatsFiguresTests.now }
            return try await buildWebApplication(
                configuration: configuration, store: store,
                environment: [configuration.web.secretEnv: StatsFiguresTests.secret, configuration.web.adminTokenEnv: "stats-token"],
                logger: Logger(label: "test"), settings: settings)
        }
    }

    /// The report's figures, each compared with what the story put there.
    static func checkWeek(_ report: [String: Any]) {
        #expect(report["days"] as? Int == 7)
        #expect(report["from"] as? String == "2026-11-18")
        #expect(report["through"] as? String == "2026-11-24")
        let readers = report["readers"] as? [String: Any]
        let current = readers?["current"] as? [String: Int]
        #expect(current == ["pending": 1, "active": 2, "unsubscribed": 2, "bounced": 1])
        #expect(readers?["change"] as? [String: Int] == ["pending": 1, "active": 2, "unsubscribed": 2, "bounced": 1])
        #expect(readers?["previous"] as? [String: Int] == ["pending": 0, "active": 0, "unsubscribed": 0, "bounced": 0])
        let totals = report["totals"] as? [String: Any] ?? [:]
        for (key, value) in [
            "signups": 6, "confirmations": 4, "unsubscribes": 2, "bounced": 1, "reactivated": 0, "removed": 0,
            "hardBounces": 3, "softBounces": 1, "otherBounces": 0, "complaints": 1, "editions": 4, "recipients": 15,
            "sent": 15, "deferred": 0, "failed": 0, "skipped": 0,
        ] {
            #expect(totals[key] as? Int == value, "totals.\(key)")
        }
        #expect(abs((totals["complaintRate"] as? Double ?? 0) - 1.0 / 15) < 1e-9)
        #expect(abs((totals["hardBounceRate"] as? Double ?? 0) - 3.0 / 15) < 1e-9)
        let daily = report["daily"] as? [[String: Any]] ?? []
        #expect(daily.map { $0["day"] as? String } == (18...24).map { "2026-11-\($0)" })
        func day(_ text: String) -> [String: Any] { daily.first { $0["day"] as? String == text } ?? [:] }
        #expect(day("2026-11-20")["signups"] as? Int == 6)
        #expect(day("2026-11-20")["confirmations"] as? Int == 4)
        #expect(day("2026-11-20")["change"] as? [String: Int] == ["pending": 1, "active": 5, "unsubscribed": 0, "bounced": 0])
        #expect(day("2026-11-21")["unsubscribes"] as? Int == 1)
        #expect(day("2026-11-21")["change"] as? [String: Int] == ["pending": 0, "active": -1, "unsubscribed": 1, "bounced": 0])
        for (key, value) in ["bounced": 1, "unsubscribes": 1, "hardBounces": 3, "softBounces": 1, "complaints": 1, "signups": 0] {
            #expect(day("2026-11-23")[key] as? Int == value, "2026-11-23 \(key)")
        }
        #expect(day("2026-11-23")["change"] as? [String: Int] == ["pending": 0, "active": -2, "unsubscribed": 1, "bounced": 1])
        #expect(day("2026-11-24")["signups"] as? Int == 0)
        let editions = report["editions"] as? [[String: Any]] ?? []
        #expect(editions.map { $0["date"] as? String } == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"])
        let expected: [[String: Int]] = [
            ["recipients": 5, "sent": 5, "hardBounces": 1, "softBounces": 1, "complaints": 0],
            ["recipients": 4, "sent": 4, "hardBounces": 1, "softBounces": 0, "complaints": 1],
            ["recipients": 4, "sent": 4, "hardBounces": 1, "softBounces": 0, "complaints": 0],
            ["recipients": 2, "sent": 2, "hardBounces": 0, "softBounces": 0, "complaints": 0],
        ]
        for (edition, figures) in zip(editions, expected) {
            for (key, value) in figures { #expect(edition[key] as? Int == value, "\(edition["date"] ?? "?") \(key)") }
            for key in ["queued", "deferred", "failed", "skipped"] { #expect(edition[key] as? Int == 0) }
        }
        let run = report["lastRun"] as? [String: Any] ?? [:]
        #expect(run["editions"] as? [String] == ["2026-11-24"])
        #expect(run["sent"] as? Int == 2)
        #expect(run["exitStatus"] as? Int == 0)
        #expect(run["startedAt"] as? String == "2026-11-24T07:00:00Z")
        let backlog = report["backlog"] as? [String: Int]
        #expect(
            backlog == [
                "ledgerQueued": 0, "ledgerDeferred": 0, "ledgerSending": 0, "outboxQueued": 5, "outboxDeferred": 0,
                "outboxSending": 0, "outboxFailed": 0,
            ])
        let due = report["dueHours"] as? [[String: Any]] ?? []
        #expect(due.count == 1)
        #expect(due.first?["start"] as? String == "2026-11-25T06:00:00Z")
        #expect(due.first?["readers"] as? Int == 2)
        #expect(due.first?["editions"] as? [String] == ["2026-11-25"])
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// `/metrics` as Prometheus's own Python parser reads it: `name{label="v",…}` → value.
    static func parsedMetrics(_ text: String) async throws -> [String: Double] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(sys.stdin.read()):
                assert family.documentation, family.name
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    out[s.name + ("{" + labels + "}" if labels else "")] = s.value
            print(json.dumps(out))
            """
        let result = try await Programs.run("python3", ["-c", script], input: Data(text.utf8))
        #expect(result.status == 0, "prometheus_client: \(result.standardError)")
        return (try? JSONSerialization.jsonObject(with: result.standardOutputData)) as? [String: Double] ?? [:]
    }

    @Test(.requires(.prometheusClient, .promtool), arguments: StoreBackendName.allCases)
    func everyFigureIsWhatTheStoryPutThere(backend: StoreBackendName) async throws {
        let story = try Story(backend)
        defer { try? FileManager.default.removeItem(atPath: story.directory) }
        try await story.tell()

        let commandText = try await story.digest(["stats", "--json", "--days", "7", "--now", "2026-11-24T08:00:00Z"])
        Self.checkWeek(Self.json(commandText))
        let text = try await story.digest(["stats", "--days", "7", "--now", "2026-11-24T08:00:00Z"])
        #expect(text.contains("active       2 (+2)"))
        #expect(text.contains("15 sent"))

        // Two days: the change is the period's, and the period before is summed apart.
        let short = Self.json(try await story.digest(["stats", "--json", "--days", "2", "--now", "2026-11-24T08:00:00Z"]))
        let readers = short["readers"] as? [String: Any]
        #expect(readers?["change"] as? [String: Int] == ["pending": 0, "active": -2, "unsubscribed": 1, "bounced": 1])
        #expect(readers?["previous"] as? [String: Int] == ["pending": 1, "active": 4, "unsubscribed": 1, "bounced": 0])
        let previous = short["previousTotals"] as? [String: Any]
        #expect(previous?["unsubscribes"] as? Int == 1)
        #expect(previous?["sent"] as? Int == 9)
        #expect(previous?["editions"] as? Int == 2)

        // `digest runs --json` carries the reports its text shows.
        let runs = (try? JSONSerialization.jsonObject(with: Data(try await story.digest(["runs", "--json"]).utf8))) as? [[String: Any]] ?? []
        #expect(runs.count == 4)
        let reported = Dictionary(uniqueKeysWithValues: runs.map {
            (($0["summary"] as? [String: Any])?["editions"] as? [String] ?? [], $0["reported"] as? [String: Int] ?? [:])
        }.map { ($0.0.joined(), $0.1) })
        #expect(reported["2026-11-21"] == ["hard": 1, "soft": 1, "failed": 0, "complaints": 0])
        #expect(reported["2026-11-22"] == ["hard": 1, "soft": 0, "failed": 0, "complaints": 1])
        #expect(reported["2026-11-24"] == ["hard": 0, "soft": 0, "failed": 0, "complaints": 0])

        let app = try await story.app()
        try await app.test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer stats-token"]
            try await client.execute(uri: "/admin/api/stats?days=7", method: .get, headers: bearer) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                // The app's outbox worker is sending the five confirmation mails meanwhile: the outbox's
                // figures move; every other is the command's, figure for figure.
                var api = Self.json(response.text)
                var command = Self.json(commandText)
                let outbox = ["outboxQueued", "outboxSending", "outboxDeferred", "outboxFailed"]
                api["backlog"] = (api["backlog"] as? [String: Int] ?? [:]).filter { !outbox.contains($0.key) }
                command["backlog"] = (command["backlog"] as? [String: Int] ?? [:]).filter { !outbox.contains($0.key) }
                #expect(NSDictionary(dictionary: api).isEqual(to: command))
            }
            try await client.execute(uri: "/admin/api/stats?days=0", method: .get, headers: bearer) {
                #expect($0.status == .badRequest)
            }
            for uri in ["/admin/api/stats", "/metrics"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized, "\(uri)") }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer wrong"]) {
                    #expect($0.status == .unauthorized, "\(uri)")
                }
            }
            let text = try await client.execute(uri: "/metrics", method: .get, headers: bearer) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                return response.text
            }
            let metrics = try await Self.parsedMetrics(text).filter { !$0.key.hasPrefix("digest_outbox_backlog") }
            let expected: [String: Double] = [
                #"digest_readers{status="pending"}"#: 1, #"digest_readers{status="active"}"#: 2,
                #"digest_readers{status="unsubscribed"}"#: 2, #"digest_readers{status="bounced"}"#: 1,
                #"digest_messages_total{status="sent"}"#: 15, #"digest_messages_total{status="failed"}"#: 0,
                #"digest_messages_total{status="skipped"}"#: 0, "digest_recipients_total": 15, "digest_editions_total": 4,
                "digest_clicks_total": 4,
                #"digest_bounce_reports_total{kind="hard"}"#: 3, #"digest_bounce_reports_total{kind="soft"}"#: 1,
                #"digest_bounce_reports_total{kind="other"}"#: 0, "digest_complaints_total": 1,
                #"digest_list_events_total{event="signup"}"#: 6, #"digest_list_events_total{event="confirmation"}"#: 4,
                #"digest_list_events_total{event="unsubscribe"}"#: 2, #"digest_list_events_total{event="bounced"}"#: 1,
                #"digest_list_events_total{event="reactivated"}"#: 0, #"digest_list_events_total{event="removed"}"#: 0,
                #"digest_ledger_backlog{status="queued"}"#: 0, #"digest_ledger_backlog{status="deferred"}"#: 0,
                #"digest_ledger_backlog{status="sending"}"#: 0,
                "digest_last_run_timestamp_seconds": Self.date("2026-11-24T07:00:00Z").timeIntervalSince1970,
                "digest_last_run_finished": 1, "digest_last_run_exit_status": 0, "digest_last_run_duration_seconds": 0,
                #"digest_last_run_messages{status="sent"}"#: 2, #"digest_last_run_messages{status="deferred"}"#: 0,
                #"digest_last_run_messages{status="failed"}"#: 0, #"digest_last_run_messages{status="skipped"}"#: 0,
            ]
            #expect(metrics == expected)
            let check = try await Programs.run("promtool", ["check", "metrics"], input: Data(text.utf8))
            #expect(check.status == 0, "promtool: \(check.standardOutput) \(check.standardError)")
            try await Self.checkDashboard(client, headers: bearer)
        }
    }

    /// On the loopback admin listener `/metrics` and `/admin/api/stats` answer without the token.
    @Test func theAdminListenerNeedsNoToken() async throws {
        let story = try Story(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: story.directory) }
        let port = Int(FreePort.next())
        var configuration = story.configuration
        configuration.web.adminListen = Configuration.Listen(host: "127.0.0.1", port: port)
        configuration.web.port = 0
        var settings = WebSettings()
        settings.now = { StatsFiguresTests.now }
        let app = try await buildWebApplication(
            configuration: configuration, store: story.store,
            environment: [configuration.web.secretEnv: Self.secret, configuration.web.adminTokenEnv: "stats-token"],
            logger: Logger(label: "test"), settings: settings)
        try await app.test(.live) { _ in
            var metrics = ""
            for _ in 0..<100 {
                if let text = try? await Programs.output("curl", ["-sf", "http://127.0.0.1:\(port)/metrics"]) {
                    metrics = text
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(metrics.contains("# TYPE digest_readers gauge"))
            let stats = try await Programs.output("curl", ["-sf", "http://127.0.0.1:\(port)/admin/api/stats?days=3"])
            #expect(Self.json(stats)["days"] as? Int == 3)
        }
    }
}

/// The two stores, for the tests of this target (as `StoreBackend` is for DigestCoreTests).
enum StoreBackendName: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}
