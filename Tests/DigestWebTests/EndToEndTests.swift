import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@testable import DigestWeb

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The whole subscription life over real sockets: the app listening on a free port, mail going to
/// Postfix's smtp-sink over SMTP, an HTTP client (URLSession) acting as the reader's browser.
@Suite struct EndToEndTests {
    @Test func signUpConfirmAndOneClickUnsubscribeOverRealSockets() async throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let fixture = try SubscriptionFixture()
        let port = Int(FreePort.next())
        let base = "http://127.0.0.1:\(port)"
        var configuration = fixture.configuration
        configuration.web.port = port
        configuration.web.baseURL = base
        configuration.mail.transport = .smtp
        configuration.mail.smtp = .init(url: sink.url, tls: .off, connections: 1, timeoutSeconds: 5)
        let environment = [configuration.web.secretEnv: WebFixture.secret]
        let app = try await buildApplication(
            configuration: configuration, store: fixture.store, environment: environment, logger: Logger(label: "e2e"))
        let group = ServiceGroup(services: [app], logger: Logger(label: "e2e"))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        #expect(await FreePort.listening(UInt16(port)))

        let browser = Browser(base: base)
        // The form, and its question solved by reading the page.
        let (formStatus, formPage) = try await browser.get("/subscribe")
        #expect(formStatus == 200)
        let challenge = try #require(Challenge(page: formPage))
        let (signUpStatus, signUpPage) = try await browser.post(
            "/subscribe",
            [("email", "e2e@example.com"), ("name", "Eve"), ("answer", challenge.answer), ("token", challenge.token)])
        #expect(signUpStatus == 200)
        #expect(signUpPage.contains("Check your inbox"))

        // The confirmation mail arrives at the SMTP server.
        let deadline = Date() + 10
        var received: [SMTPSinkServer.ReceivedMessage] = []
        while received.isEmpty && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            received = (try? sink.receivedMessages()) ?? []
        }
        let mail = try #require(received.first)
        #expect(mail.recipient == "e2e@example.com")
        let link = try #require(confirmLink(in: mail.data))
        #expect(link.hasPrefix(base + "/confirm?token="))

        // Following the link only shows a button…
        let (confirmStatus, confirmPage) = try await browser.get(String(link.dropFirst(base.count)))
        #expect(confirmStatus == 200)
        #expect(try fixture.subscriber("e2e@example.com")?.status == .pending)
        // …which posts the token.
        let token = try #require(confirmPage.firstMatch(of: /name="token" value="([^"]+)"/)).1
        let (confirmedStatus, confirmedPage) = try await browser.post("/confirm", [("token", String(token))])
        #expect(confirmedStatus == 200)
        #expect(confirmedPage.contains("You are subscribed"))
        #expect(try fixture.subscriber("e2e@example.com")?.status == .active)

        // Tonight's digest for this reader, built as `digest send` builds it: its List-Unsubscribe URL
        // takes an RFC 8058 one-click POST.
        let composer = try await DigestComposer.make(configuration: configuration, environment: environment)
        let (_, digest) = try DigestPreview(composer: composer, store: fixture.store)
            .digest(date: nil, subscriber: try EmailAddress("e2e@example.com"), now: Date())
        let header = try #require(headerValue("List-Unsubscribe", in: digest.message.data))
        let url = try #require(header.firstMatch(of: /<(http[^>]+)>/)).1
        #expect(url.hasPrefix(base + "/unsubscribe?token="))
        let (unsubscribeStatus, unsubscribePage) = try await browser.post(
            String(url.dropFirst(base.count)), body: "List-Unsubscribe=One-Click")
        #expect(unsubscribeStatus == 200)
        #expect(unsubscribePage.contains("You are unsubscribed"))
        let gone = try #require(try fixture.subscriber("e2e@example.com"))
        #expect(gone.status == .unsubscribed)
        #expect(gone.unsubscribedAt != nil)

        await group.triggerGracefulShutdown()
        try await server.value
    }
}

/// A minimal HTTP client over URLSession: no cookies, no cache.
struct Browser {
    let base: String
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        return URLSession(configuration: configuration)
    }()

    func get(_ path: String) async throws -> (Int, String) {
        try await send(URLRequest(url: URL(string: base + path)!))
    }

    func post(_ path: String, _ fields: [(String, String)]) async throws -> (Int, String) {
        try await post(path, body: String(buffer: form(fields)))
    }

    func post(_ path: String, body: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> (Int, String) {
        let (data, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
