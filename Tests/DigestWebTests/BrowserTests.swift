import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@testable import DigestWeb

/// A reader in headless Chromium at 375 px with JavaScript off (`Browser/reader.py`, Selenium with
/// Debian's chromium and chromedriver, installed by `scripts/setup --test`): signs up by reading and
/// answering the question, confirms from the mail in the Maildir, then, from tonight's digest, takes
/// "the weekly edition instead" on the unsubscribe page, pauses for a month in preferences and resumes,
/// changes preferences and unsubscribes. Every page fits the screen; the sign-up, unsubscribe, preferences
/// and confirmation pages pass axe-core with no serious or critical violation. The app runs in this
/// process on a free port. `DIGEST_SCREENSHOTS=FOLDER` keeps a screenshot of the unsubscribe page with its
/// offers (docs/unsubscribe-375.png comes from there).
@Suite struct BrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Browser/reader.py"

    /// Runs `reader.py` with `arguments` (through `Programs.run`: waited for on a thread of its own, not
    /// on the pool the server runs on); its output, also kept in `log`, and whether it succeeded.
    func reader(_ arguments: [String], log: String) async throws -> (Bool, String) {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) missing: run scripts/setup --test")
        }
        // The python3 on PATH: the one `scripts/setup --test` installed Selenium for.
        let result = try await Programs.run("python3", [Self.script] + arguments, timeout: 240)
        let output = result.standardOutput + "\n--stderr--\n" + result.standardError
        try? output.write(toFile: log, atomically: true, encoding: .utf8)
        return (result.status == 0 && ("\n" + result.standardOutput).contains("\ndone"), output)
    }

    /// The fixture's configuration on a free port of 127.0.0.1, mail to a Maildir in `directory`.
    static func configuration(_ fixture: SubscriptionFixture, mailIn directory: TemporaryDirectory) -> Configuration {
        var configuration = fixture.configuration
        configuration.web.port = Int(FreePort.next())
        configuration.web.baseURL = "http://127.0.0.1:\(configuration.web.port)"
        configuration.mail.transport = .maildir
        configuration.mail.maildir = directory.file("mail")
        return configuration
    }

    /// The app of `configuration` serving on its port in this process, until `stop()`.
    struct Server {
        let group: ServiceGroup
        let task: Task<Void, any Error>

        static func start(_ configuration: Configuration, store: Store, environment: [String: String]) async throws -> Server {
            let app = try await buildApplication(
                configuration: configuration, store: store, environment: environment, logger: Logger(label: "browser"))
            let group = ServiceGroup(services: [app], logger: Logger(label: "browser"))
            let server = Server(group: group, task: Task { try await group.run() })
            #expect(await FreePort.listening(UInt16(configuration.web.port)))
            return server
        }

        /// A graceful stop: the app's services finish (the outbox, the click counter's last write).
        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    @Test func aReaderSignsUpConfirmsChangesPreferencesAndLeavesInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser")
        let configuration = Self.configuration(fixture, mailIn: directory)
        let base = configuration.web.baseURL
        let environment = [configuration.web.secretEnv: WebFixture.secret]
        let server = try await Server.start(configuration, store: fixture.store, environment: environment)
        defer { server.task.cancel() }
        let address = "rana@example.com"

        let (signedUp, signUpLog) = try await reader(
            ["signup", base, configuration.mail.maildir, address], log: directory.file("signup.log"))
        #expect(signedUp, "\(signUpLog)")
        let subscriber = try #require(try fixture.subscriber(address))
        #expect(subscriber.status == .active)
        #expect(subscriber.name == "Rana")

        // Tonight's digest reaches the reader's mailbox, as `digest send` would deliver it.
        try fixture.store.upsert([
            ItemDraft(
                kind: .story, title: "A story", url: "https://courier.example/1", summary: "Summary",
                publishedAt: Date() - 3600, votes: 3)
        ])
        let composer = try await DigestComposer.make(configuration: configuration, environment: environment)
        let (_, digest) = try DigestPreview(composer: composer, store: fixture.store)
            .digest(date: nil, subscriber: subscriber.email, now: Date())
        let result = try await SenderPool(mail: configuration.mail, environment: environment, logger: Logger(label: "browser"))
            .sendOne(digest.message)
        #expect(result.outcome == .sent(reply: result.outcome.text))

        let shots = ProcessInfo.processInfo.environment["DIGEST_SCREENSHOTS"] ?? ""
        let (chose, choicesLog) = try await reader(
            ["choices", configuration.mail.maildir, address, shots], log: directory.file("choices.log"))
        #expect(chose, "\(choicesLog)")
        let chosen = try #require(try fixture.subscriber(address))
        #expect(chosen.cadence == .weekly && chosen.weekday == .mon)
        #expect(chosen.pausedUntil == nil && chosen.status == .active)

        let (managed, manageLog) = try await reader(
            ["manage", configuration.mail.maildir, address], log: directory.file("manage.log"))
        #expect(managed, "\(manageLog)")
        let after = try #require(try fixture.subscriber(address))
        #expect(after.sections == [.story])
        #expect(after.format == .text)
        #expect(after.timeZone == "Europe/Berlin")
        #expect(after.deliveryHour == 7)
        #expect(after.status == .unsubscribed)
        #expect(after.cadence == .weekly)

        try await server.stop()
    }

    /// A click from the mailed digest (`privacy.clickCounting: aggregate`, the default): the reader opens the
    /// digest's HTML in Chromium with JavaScript off and clicks the first item; the click goes through
    /// `/r/TOKEN` on the app over a real socket and lands on the item's page on the news site (served by
    /// `reader.py`), and the edition's count for that item is one once the app has stopped (it flushes then).
    @Test func aReaderClicksAnItemOfTheMailedDigestInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser-click")
        let configuration = Self.configuration(fixture, mailIn: directory)
        let sitePort = Int(FreePort.next())
        #expect(configuration.privacy.clickCounting == .aggregate)
        let environment = [configuration.web.secretEnv: WebFixture.secret]
        let reader = try fixture.store.addSubscriber(
            Subscriber(email: try EmailAddress("karim@example.com"), status: .active, format: .html))
        let itemURL = "http://127.0.0.1:\(sitePort)/news/1"
        try fixture.store.upsert([
            ItemDraft(kind: .story, title: "A story", url: itemURL, summary: "Summary", publishedAt: Date() - 3600, votes: 3)
        ])
        // Tonight's edition frozen and mailed, as `digest send` does.
        let composer = try await DigestComposer.make(configuration: configuration, environment: environment)
        let edition = try composer.ranker.edition(
            for: composer.ranker.upcomingDate(now: Date()), store: fixture.store, freeze: true, now: Date())
        let editionID = try #require(edition.id)
        let digest = try #require(try composer.digest(for: reader, in: edition, alreadyReceived: [], now: Date()))
        let sent = try await SenderPool(mail: configuration.mail, environment: environment, logger: Logger(label: "browser"))
            .sendOne(digest.message)
        #expect(sent.outcome == .sent(reply: sent.outcome.text))

        let server = try await Server.start(configuration, store: fixture.store, environment: environment)
        defer { server.task.cancel() }
        let (clicked, clickLog) = try await self.reader(
            ["click", configuration.mail.maildir, "karim@example.com", "\(sitePort)"], log: directory.file("click.log"))
        #expect(clicked, "\(clickLog)")
        #expect(clickLog.contains("landed \(itemURL)\n"), "\(clickLog)")
        try await server.stop()

        let item = try #require(edition.candidates.first { $0.url == itemURL })
        #expect(try fixture.store.clicks(editionID: editionID) == [item.itemID: 1])
        #expect(try fixture.store.readerClicks(editionID: editionID).isEmpty)
    }
}
