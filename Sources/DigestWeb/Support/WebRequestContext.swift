import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one plus the peer's address and the
/// client's address behind trusted proxies (`ClientAddressMiddleware`), which the per-client rate
/// limit and the logs use.
public struct WebRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// nil when there is no socket (in-process tests).
    public let remoteAddress: SocketAddress?
    /// The client, as `ClientAddress` resolves it; "unknown" without a socket.
    public var clientAddress: String
    /// Who the admin is, on admin URLs that let the request in (`AdminAccessMiddleware`): how they proved
    /// it, the CSRF token their forms carry, and the audit's actor. nil everywhere else.
    public var admin: AdminIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress ?? "unknown"
    }
}
