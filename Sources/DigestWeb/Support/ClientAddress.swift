import DigestCore
import Foundation
import Hummingbird

/// Who the client is, for rate limits and logs: the TCP peer, unless that peer is a trusted reverse
/// proxy (`web.trustedProxies`); then the forwarding chain is walked from the right, and the first
/// address that is not a trusted proxy is the client ("rightmost untrusted hop").
///
/// Only `X-Forwarded-For` is read when the request has one (what nginx's `$proxy_add_x_forwarded_for`
/// and Caddy append to), else `Forwarded` (RFC 7239 `for=`). `X-Real-IP` and `Via` are never read:
/// they cannot be told apart from a value the client typed. Hops left of the client are ignored, so a
/// client cannot choose its own bucket by sending a made-up header.
struct ClientAddress: Sendable {
    let trustedProxies: [IPNetwork]

    static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
    static let forwarded = HTTPFields.Element.Name("Forwarded")!

    /// The client's address as text; `peer` nil (no socket, in-process tests) gives "unknown".
    func resolve(peer: String?, headers: HTTPFields) -> String {
        guard let peer else { return "unknown" }
        guard isTrusted(peer) else { return peer }
        let hops = Self.chain(headers)
        // From the proxy nearest to us outwards: every trusted hop passes the request on; the first
        // other one is the client. A chain of trusted proxies only: its leftmost entry.
        for hop in hops.reversed() where !isTrusted(hop) { return hop }
        return hops.first ?? peer
    }

    func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }

    /// The forwarded-for addresses, leftmost (farthest) first, ports and brackets removed.
    static func chain(_ headers: HTTPFields) -> [String] {
        let forwardedFor = headers[values: Self.forwardedFor]
        if !forwardedFor.isEmpty {
            return forwardedFor.flatMap { $0.split(separator: ",") }.map { address(String($0)) }
        }
        return headers[values: Self.forwarded].flatMap { $0.split(separator: ",") }.compactMap { element in
            // forwarded-element = forwarded-pair *( ";" forwarded-pair ), e.g. for="[2001:db8::1]:4711";proto=https
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" {
                    return address(String(parts[1]))
                }
            }
            return nil
        }
    }

    /// `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `[::1]`, `::1` → the bare address; anything else as given
    /// (an obfuscated `_hidden` or `unknown` node is then simply an untrusted hop).
    static func address(_ raw: String) -> String {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            return String(text[..<colon])
        }
        return text
    }
}

/// Sets `context.clientAddress` for everything after it.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let resolver: ClientAddress

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.clientAddress = resolver.resolve(peer: context.remoteAddress?.ipAddress, headers: request.headers)
        return try await next(request, context)
    }
}
