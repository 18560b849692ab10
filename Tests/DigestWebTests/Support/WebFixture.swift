import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

@testable import DigestWeb

/// A fresh database and configuration per test, and the app built over them.
final class WebFixture: @unchecked Sendable {
    static let token = "s3cret-token"
    static let secret = "test-link-secret-0123456789"

    let directory: String
    let store: Store
    let configuration: Configuration

    /// `directory`: where the database and configuration go (a fresh temporary folder when nil).
    init(directory folder: String? = nil) throws {
        let directory = folder ?? NSTemporaryDirectory() + "digest-web-\(UUID().uuidString.prefix(8))"
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let example = try Data(contentsOf: root.appendingPathComponent("config.example.json"))
        var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
        json["database"] = directory + "/digest.sqlite"
        json["templates"] = root.path + "/templates"
        json["feeds"] = [Any]()
        // Tests run side by side: no fixed admin port, and no proxy trusted unless a test says so.
        var web = json["web"] as! [String: Any]
        web["adminListen"] = ""
        web["trustedProxies"] = [String]()
        // The in-process test client keeps a connection open between a test's requests and does not retry
        // one the server closed as idle; a full suite can stall a test for longer than the 5 s default.
        // (The idle timeout itself is tested against the real process: SlowClientTests.)
        web["idleTimeoutSeconds"] = 300
        json["web"] = web
        let file = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
        configuration = try Configuration.load(path: file)
        store = try Store(path: configuration.database)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The app with the admin token set (or, with nil, the variable missing).
    /// `port` 0 lets the system choose a free one, for tests over a real socket.
    func app(token: String? = WebFixture.token, port: Int? = nil) async throws -> some ApplicationProtocol {
        var environment: [String: String] = [configuration.web.secretEnv: WebFixture.secret]
        if let token { environment[configuration.web.adminTokenEnv] = token }
        var configuration = configuration
        if let port { configuration.web.port = port }
        return try await buildApplication(
            configuration: configuration, store: store, environment: environment, logger: Logger(label: "test"))
    }
}

/// Headers of an authorized JSON request.
let authorized: HTTPFields = [.authorization: "Bearer \(WebFixture.token)", .contentType: "application/json"]

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The response body as a JSON object (nil when it is not one).
func object(_ response: TestResponse) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
}

/// The response body as a JSON array of objects (nil when it is not one).
func array(_ response: TestResponse) -> [[String: Any]]? {
    (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [[String: Any]]
}

/// One item record in the JSON item format.
func itemJSON(_ url: String, votes: Int = 1, publishedAt: String = "2026-11-24T07:30:00Z", kind: String = "story")
    -> String
{
    #"{"kind": "\#(kind)", "title": "Title of \#(url)", "url": "\#(url)", "publishedAt": "\#(publishedAt)", "votes": \#(votes)}"#
}
