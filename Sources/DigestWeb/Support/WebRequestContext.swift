import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one plus the peer's address, which
/// the admin pages (loopback only without a token) and the per-IP rate limit need.
public struct WebRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// nil when there is no socket (in-process tests).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or "unknown".
    var peerIP: String { remoteAddress?.ipAddress ?? "unknown" }

    /// Whether the peer is this machine and no proxy says it forwarded the request for someone else.
    func isLoopbackPeer(_ request: Request) -> Bool {
        guard let address = remoteAddress?.ipAddress else { return false }
        let loopback = address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
        // A reverse proxy on the same machine connects from loopback on behalf of anyone.
        let forwarded = request.headers[.init("X-Forwarded-For")!] != nil || request.headers[.init("Forwarded")!] != nil
        return loopback && !forwarded
    }
}
