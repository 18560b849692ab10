import DigestCore
import DigestTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

/// `web.trustedProxies`: whose forwarding headers count, and the per-client limits keyed on the result.
@Suite struct ProxyTests {
    static let proxies = ClientAddress(trustedProxies: ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"].map { IPNetwork($0)! })

    static func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPFields.Element(name: HTTPFields.Element.Name(name)!, value: value)) }
        return fields
    }

    @Test(arguments: [
        // (peer, headers, client)
        ("203.0.113.7", [("X-Forwarded-For", "198.51.100.1")], "203.0.113.7"),  // untrusted peer: headers ignored
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", [("X-Forwarded-For", "198.51.100.1")], "198.51.100.1"),
        ("::ffff:127.0.0.1", [("X-Forwarded-For", "198.51.100.1")], "198.51.100.1"),
        // A client's own made-up entries sit left of the one the proxy appended: ignored.
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4, 198.51.100.1")], "198.51.100.1"),
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "198.51.100.1, 10.1.2.3")], "198.51.100.1"),
        ("127.0.0.1", [("X-Forwarded-For", "10.0.0.5, 10.1.2.3")], "10.0.0.5"),
        ("127.0.0.1", [("X-Real-IP", "198.51.100.9"), ("Via", "1.1 cdn.example")], "127.0.0.1"),
        ("127.0.0.1", [("Forwarded", #"for=192.0.2.60;proto=http;by=203.0.113.43"#)], "192.0.2.60"),
        ("127.0.0.1", [("Forwarded", #"for="[2001:db8:cafe::17]:4711", for=192.0.2.43:47011"#)], "192.0.2.43"),
        ("127.0.0.1", [("Forwarded", #"for=192.0.2.43, for="[2001:db8:cafe::17]""#)], "192.0.2.43"),
        ("127.0.0.1", [("Forwarded", "for=unknown")], "unknown"),
        // X-Forwarded-For wins over Forwarded when both came.
        ("127.0.0.1", [("Forwarded", "for=192.0.2.1"), ("X-Forwarded-For", "198.51.100.1")], "198.51.100.1"),
    ])
    func clientIsTheRightmostUntrustedHop(_ peer: String, _ pairs: [(String, String)], _ client: String) {
        #expect(Self.proxies.resolve(peer: peer, headers: Self.headers(pairs)) == client)
    }

    @Test func networksMatchTheirAddressesOnly() {
        let v4 = IPNetwork("192.168.1.0/24")!
        #expect(v4.contains("192.168.1.200"))
        #expect(v4.contains("::ffff:192.168.1.3"))
        #expect(!v4.contains("192.168.2.1"))
        #expect(!v4.contains("not an address"))
        #expect(IPNetwork("::1")!.contains("::1"))
        #expect(!IPNetwork("::1")!.contains("127.0.0.1"))
        #expect(IPNetwork("0.0.0.0/0")!.contains("8.8.8.8"))
        for bad in ["", "1.2.3", "1.2.3.4/33", "::1/129", "10.0.0.0/x", "example.com"] { #expect(IPNetwork(bad) == nil, "\(bad)") }
    }

    @Test func trustedProxiesAreValidatedInTheConfiguration() throws {
        let directory = TemporaryDirectory("proxies")
        let file = directory.write(
            "config.json",
            #"{"site": {"name": "S", "url": "https://s.example"}, "database": "d.sqlite", "mail": {"from": "a@s.example", "transport": "maildir"}, "web": {"trustedProxies": ["10.0.0.0/8", "10.0.0.1/40"]}}"#)
        #expect { try Configuration.load(path: file) } throws: {
            "\($0)".contains("web.trustedProxies[1]") && "\($0)".contains("10.0.0.1/40")
        }
    }

    /// Over a real socket: behind a trusted proxy each reader has a bucket of their own, so one client
    /// spending theirs does not shut the form for the next one.
    @Test func perClientLimitsBehindATrustedProxy() async throws {
        let fixture = try SubscriptionFixture()
        var settings = WebSettings()
        settings.ipLimit = (3, 1000)
        try await fixture.app(settings: settings, port: 0, trustedProxies: ["127.0.0.1"]).test(.live) { client in
            func confirm(_ headers: HTTPFields) async throws -> HTTPResponse.Status {
                var headers = headers
                headers[.contentType] = "application/x-www-form-urlencoded"
                return try await client.execute(
                    uri: "/confirm", method: .post, headers: headers, body: form([("token", "not-a-token")])
                ) { $0.status }
            }
            let attacker = Self.headers([("X-Forwarded-For", "198.51.100.1")])
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 { statuses.append(try await confirm(attacker)) }
            #expect(statuses == [.badRequest, .badRequest, .badRequest, .tooManyRequests])
            // Made-up entries to the left do not give the attacker a new bucket.
            let spoofed = try await confirm(Self.headers([("X-Forwarded-For", "192.0.2.77, 198.51.100.1")]))
            #expect(spoofed == .tooManyRequests)
            // The next reader still gets through, through X-Forwarded-For or Forwarded.
            let next = try await confirm(Self.headers([("X-Forwarded-For", "198.51.100.2")]))
            #expect(next == .badRequest)
            let viaForwarded = try await confirm(Self.headers([("Forwarded", "for=198.51.100.3")]))
            #expect(viaForwarded == .badRequest)
        }
    }

    /// Over a real socket: from a peer that is not a trusted proxy, forwarding headers change nothing.
    @Test func forwardingHeadersFromAnUntrustedPeerAreIgnored() async throws {
        let fixture = try SubscriptionFixture()
        var settings = WebSettings()
        settings.ipLimit = (3, 1000)
        try await fixture.app(settings: settings, port: 0, trustedProxies: ["10.0.0.0/8"]).test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<4 {
                let headers = Self.headers([
                    ("X-Forwarded-For", "198.51.100.\(index)"), ("Content-Type", "application/x-www-form-urlencoded"),
                ])
                statuses.append(
                    try await client.execute(
                        uri: "/confirm", method: .post, headers: headers, body: form([("token", "not-a-token")])
                    ) { $0.status })
            }
            #expect(statuses == [.badRequest, .badRequest, .badRequest, .tooManyRequests])
        }
    }
}
