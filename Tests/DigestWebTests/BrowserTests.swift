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
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Browser"

    /// Runs `Browser/SCRIPT` (`reader.py`, `arabic.py`) with `arguments` (through `Programs.run`: waited for on a
    /// thread of its own, not on the pool the server runs on); its output, also kept in `log`, and whether it
    /// succeeded.
    func reader(_ arguments: [String], log: String, script: String = "reader.py") async throws -> (Bool, String) {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) missing: run scripts/setup --test")
        }
        // The python3 on PATH: the one `scripts/setup --test` installed Selenium for.
        let scratch = TemporaryDirectory("digest-chromium")
        let result = try await Programs.run(
            "python3", [Self.folder + "/" + script] + arguments, environment: scratch.environment, timeout: 240)
        let output = result.standardOutput + "\n--stderr--\n" + result.standardError
        try? output.write(toFile: log, atomically: true, encoding: .utf8)
        return (result.status == 0 && ("\n" + result.standardOutput).contains("\ndone"), output)
    }

    @Test func aReaderSignsUpConfirmsChangesPreferencesAndLeavesInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser")
        try await serving(fixture, in: directory) { configuration, environment in
            let base = configuration.web.baseURL
            let address = "rana@example.com"

            let (signedUp, signUpLog) = try await reader(
                ["signup", base, configuration.mail.maildir, address], log: directory.file("signup.log"))
            #expect(signedUp, "\(signUpLog)")
            let subscriber = try #require(try fixture.subscriber(address))
            #expect(subscriber.status == .active)
            #expect(subscriber.name == "Rana")

            // Tonight's digest reaches the reader's mailbox, as `digest send` would deliver it.
            try await deliverDigest(to: subscriber, fixture, configuration, environment)

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
        }
    }

    /// Votes from the digest (issue 26): the reader opens the first item's vote link from the plain-text
    /// digest in Chromium with JavaScript off, presses the one button, reads the thanks; the page passes
    /// axe-core; the vote is counted once.
    @Test func aReaderVotesFromTheDigestInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser-vote")
        try await serving(fixture, in: directory) { configuration, environment in
            let reader = try fixture.add("vote@example.com", status: .active)
            try fixture.store.upsert([
                ItemDraft(
                    kind: .story, title: "A story worth a vote", url: "https://courier.example/1", summary: "Summary",
                    publishedAt: Date() - 3600, votes: 3)
            ])
            // Tonight's edition, frozen as `digest send` freezes it, and the reader's digest of it in their mailbox.
            let composer = try await DigestComposer.make(configuration: configuration, environment: environment)
            let date = DigestPreview(composer: composer, store: fixture.store).upcomingDate(now: Date())
            let edition = try composer.ranker.edition(for: date, store: fixture.store, freeze: true)
            let digest = try #require(try composer.digest(for: reader, in: edition, alreadyReceived: [], now: Date()))
            let pool = try SenderPool(mail: configuration.mail, environment: environment, logger: Logger(label: "browser"))
            let result = try await pool.sendOne(digest.message)
            #expect(result.outcome == .sent(reply: result.outcome.text))

            let (voted, voteLog) = try await self.reader(
                ["vote", configuration.mail.maildir, reader.email.description], log: directory.file("vote.log"))
            #expect(voted, "\(voteLog)")
            #expect(try fixture.store.item(url: "https://courier.example/1")?.digestVotes == 1)
        }
    }

    /// A click from the mailed digest (`privacy.clickCounting: aggregate`, the default): the reader opens the
    /// digest's HTML in Chromium with JavaScript off and clicks the first item; the click goes through
    /// `/r/TOKEN` on the app over a real socket and lands on the item's page on the news site (served by
    /// `reader.py`), and the edition's count for that item is one once the app has stopped (it flushes then).
    @Test func aReaderClicksAnItemOfTheMailedDigestInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser-click")
        let sitePort = Int(FreePort.next())
        let itemURL = "http://127.0.0.1:\(sitePort)/news/1"
        var frozen: Edition?
        try await serving(fixture, in: directory) { configuration, environment in
            #expect(configuration.privacy.clickCounting == .aggregate)
            let reader = try fixture.add("karim@example.com", status: .active)
            try fixture.store.upsert([
                ItemDraft(kind: .story, title: "A story", url: itemURL, summary: "Summary", publishedAt: Date() - 3600, votes: 3)
            ])
            // Tonight's edition frozen and mailed, as `digest send` does.
            let composer = try await DigestComposer.make(configuration: configuration, environment: environment)
            let date = DigestPreview(composer: composer, store: fixture.store).upcomingDate(now: Date())
            let edition = try composer.ranker.edition(for: date, store: fixture.store, freeze: true)
            frozen = edition
            let digest = try #require(try composer.digest(for: reader, in: edition, alreadyReceived: [], now: Date()))
            let pool = try SenderPool(mail: configuration.mail, environment: environment, logger: Logger(label: "browser"))
            let result = try await pool.sendOne(digest.message)
            #expect(result.outcome == .sent(reply: result.outcome.text))

            let (clicked, clickLog) = try await self.reader(
                ["click", configuration.mail.maildir, reader.email.description, "\(sitePort)"],
                log: directory.file("click.log"))
            #expect(clicked, "\(clickLog)")
            #expect(clickLog.contains("landed \(itemURL)\n"), "\(clickLog)")
        }
        let edition = try #require(frozen)
        let item = try #require(edition.candidates.first { $0.url == itemURL })
        #expect(try fixture.store.clicks(editionID: edition.id!) == [item.itemID: 1])
        #expect(try fixture.store.readerClicks(editionID: edition.id!).isEmpty)
    }

    /// An Arabic reader (the browser asks for Arabic): signs up on the Arabic form, answering in Arabic-Indic
    /// digits, confirms from the Arabic mail, then reads the Arabic digest and its preferences page; every page
    /// right to left, fitting 375 px, axe-core clean. `DIGEST_SCREENSHOTS=FOLDER` keeps signup-ar-375.png,
    /// digest-ar-375.png and preferences-ar-375.png (docs/ has them).
    @Test func anArabicReaderSignsUpAndReadsTheirDigestInChromium() async throws {
        let fixture = try SubscriptionFixture()
        let directory = TemporaryDirectory("browser-ar")
        try await serving(fixture, in: directory) { configuration, environment in
            let address = "rana.ar@example.com"
            let shots = ProcessInfo.processInfo.environment["DIGEST_SCREENSHOTS"] ?? ""
            let (signedUp, signUpLog) = try await reader(
                ["signup", configuration.web.baseURL, configuration.mail.maildir, address, shots],
                log: directory.file("signup.log"), script: "arabic.py")
            #expect(signedUp, "\(signUpLog)")
            let subscriber = try #require(try fixture.subscriber(address))
            #expect(subscriber.status == .active && subscriber.language == "ar" && subscriber.name == "رنا")

            try await deliverDigest(to: subscriber, fixture, configuration, environment)
            let (read, readLog) = try await reader(
                ["digest", configuration.mail.maildir, address, shots], log: directory.file("digest.log"),
                script: "arabic.py")
            #expect(read, "\(readLog)")
        }
    }

    /// Tonight's digest for `subscriber` into the Maildir, as `digest send` would deliver it.
    func deliverDigest(
        to subscriber: Subscriber, _ fixture: SubscriptionFixture, _ configuration: Configuration,
        _ environment: [String: String]
    ) async throws {
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
    }

    /// The app over `fixture`'s store on a free port of loopback, its mail in a Maildir in `directory`: `body`
    /// runs while it serves (with the configuration and environment it was built with), then it shuts down.
    func serving(
        _ fixture: SubscriptionFixture, in directory: TemporaryDirectory,
        _ body: (Configuration, [String: String]) async throws -> Void
    ) async throws {
        let port = Int(FreePort.next())
        var configuration = fixture.configuration
        configuration.web.port = port
        configuration.web.baseURL = "http://127.0.0.1:\(port)"
        configuration.mail.transport = .maildir
        configuration.mail.maildir = directory.file("mail")
        let environment = [configuration.web.secretEnv: WebFixture.secret]
        let app = try await buildApplication(
            configuration: configuration, store: fixture.store, environment: environment, logger: Logger(label: "browser"))
        let group = ServiceGroup(services: [app], logger: Logger(label: "browser"))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        #expect(await FreePort.listening(UInt16(port)))
        try await body(configuration, environment)
        await group.triggerGracefulShutdown()
        try await server.value
    }
}
