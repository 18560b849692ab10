import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import DigestTestSupport

@testable import DigestWeb

/// A fresh database and the web app over it, with the confirmation mails it sends collected.
final class SubscriptionFixture: Sendable {
    let web: WebFixture
    let mails = Collected<MailMessage>()
    var store: Store { web.store }
    var configuration: Configuration { web.configuration }
    let signer: LinkSigner

    init(directory: String? = nil) throws {
        web = try WebFixture(directory: directory)
        signer = try LinkSigner(secret: WebFixture.secret)
    }

    func app(
        settings: WebSettings = WebSettings(), environment extra: [String: String] = [:], port: Int? = nil,
        adminListen: Configuration.Listen? = nil, trustedProxies: [String] = [], transport: (any MailTransport)? = nil,
        edit: (inout Configuration) -> Void = { _ in }
    ) async throws -> Application<RouterResponder<WebRequestContext>> {
        var environment = [configuration.web.secretEnv: WebFixture.secret, configuration.web.adminTokenEnv: WebFixture.token]
        environment.merge(extra) { $1 }
        var configuration = configuration
        if let port { configuration.web.port = port }
        configuration.web.adminListen = adminListen
        configuration.web.trustedProxies = trustedProxies.map { IPNetwork($0)! }
        edit(&configuration)
        return try await buildWebApplication(
            configuration: configuration, store: store, environment: environment, logger: Logger(label: "test"),
            settings: settings, transport: transport, onMailResult: { [mails] message, _ in mails.append(message) })
    }

    /// Waits (briefly) until `count` confirmation mails were handed to the transport.
    func waitForMails(_ count: Int, timeout: Double = 5) async throws -> [MailMessage] {
        let deadline = Date() + timeout
        while mails.withLock({ $0.count }) < count && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return mails.withLock { $0 }
    }

    func subscriber(_ email: String) throws -> Subscriber? { try store.subscriber(email: try EmailAddress(email)) }

    func token(_ purpose: TokenPurpose, _ subscriber: Subscriber, expires: Date? = nil) -> String {
        signer.token(purpose, subscriberID: subscriber.id!, email: subscriber.email, expires: expires)
    }

    /// A subscriber stored directly, for the link pages.
    @discardableResult
    func add(_ email: String, status: SubscriberStatus) throws -> Subscriber {
        try store.addSubscriber(Subscriber(email: try EmailAddress(email), status: status))
    }
}

/// Values collected from other threads.
final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    func withLock<R>(_ body: (inout [Value]) -> R) -> R { values.withLock { body(&$0) } }
}

/// The math question and token of a form page.
struct Challenge {
    var first: Int
    var second: Int
    var token: String
    var answer: String { "\(first + second)" }

    init?(page: String) {
        guard let question = page.firstMatch(of: /id="question">(\d+) \+ (\d+) =</),
            let token = page.firstMatch(of: /name="token" value="([^"]+)"/)
        else { return nil }
        first = Int(question.1)!
        second = Int(question.2)!
        self.token = String(token.1)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

/// An `application/x-www-form-urlencoded` body.
func form(_ fields: [(String, String)]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let text = fields.map { name, value in
        "\(name.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
    }.joined(separator: "&")
    return ByteBuffer(string: text)
}

let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

extension TestClientProtocol {
    /// GETs the sign-up form and returns its question.
    func challenge() async throws -> Challenge {
        try await execute(uri: "/subscribe", method: .get) { response in
            try #require(Challenge(page: response.text))
        }
    }

    /// Fetches a question, answers it (rightly unless `answer` is given) and posts the form.
    func signUp(
        _ email: String, name: String = "", answer: String? = nil, extra: [(String, String)] = [],
        _ check: @escaping @Sendable (TestResponse) async throws -> Void
    ) async throws {
        let challenge = try await self.challenge()
        let fields = [("email", email), ("name", name), ("answer", answer ?? challenge.answer), ("token", challenge.token)]
        try await execute(uri: "/subscribe", method: .post, headers: formHeaders, body: form(fields + extra)) {
            try await check($0)
        }
    }
}

/// The value of a header field in raw message bytes (unfolded; CRLF, or LF as smtp-sink dumps it).
func headerValue(_ name: String, in data: [UInt8]) -> String? {
    var text = String(decoding: data, as: UTF8.self)
    // smtp-sink dumps with LF line ends.
    if !text.contains("\r\n") { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
    let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
    let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
    for line in unfolded.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
        return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

/// The confirm link in a confirmation mail (quoted-printable; CRLF, or LF as smtp-sink dumps it).
func confirmLink(in data: [UInt8]) -> String? {
    let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "=\r\n", with: "")
        .replacingOccurrences(of: "=\n", with: "").replacingOccurrences(of: "=3D", with: "=")
    return text.firstMatch(of: /https?:\/\/[^\s"<>]+\/confirm\?token=[A-Za-z0-9._-]+/).map { String($0.0) }
}
