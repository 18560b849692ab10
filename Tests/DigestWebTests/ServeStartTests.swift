import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// What an operator sees when `digest serve` starts: where it listens, or why it cannot.
@Suite struct ServeStartTests {
    let harness = ServeHarness("serve-start")

    /// The running server says where it answers; a second one on the same port is refused with the address,
    /// the keys that set it and what to do, not NIO's `bind(descriptor:ptr:bytes:)`.
    @Test func itSaysWhereItListensAndWhyItCannot() async throws {
        let port = FreePort.next()
        let config = try harness.configFile(port: port, sink: nil)
        let log = harness.directory.file("serve.log")
        let server = try await harness.started(config, port: port, log: log)
        defer { server.stop() }
        let announced = Date() + 10
        while Date() < announced,
            !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on http://127.0.0.1:\(port)")
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("listening on http://127.0.0.1:\(port) for reader pages"))

        var environment = ProcessInfo.processInfo.environment
        environment["DIGEST_SECRET"] = ServeHarness.secret
        let second = try await Programs.run(
            ServeHarness.binary, ["serve", "--config", config], environment: environment, timeout: 60)
        #expect(second.status == 1)
        #expect(second.standardError.contains("cannot listen on 127.0.0.1:\(port) (web.host, web.port): the address is in use"))
        #expect(!second.standardError.contains("descriptor"))
    }
}
