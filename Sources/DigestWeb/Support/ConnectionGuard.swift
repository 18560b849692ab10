import DigestCore
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// What one listener allows its clients: how many connections may be open at once, how long a
/// request may take to arrive, how long a connection may sit idle. Shared by every connection of
/// the listener (`open` counts them).
final class ConnectionLimits: Sendable {
    let maxConnections: Int
    let requestTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private let open = Atomic<Int>(0)

    init(maxConnections: Int, requestTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }

    convenience init(_ web: Configuration.Web) {
        self.init(
            maxConnections: web.maxConnections, requestTimeout: .seconds(web.requestTimeoutSeconds),
            idleTimeout: .seconds(web.idleTimeoutSeconds))
    }

    /// Connections open now.
    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection; false (and not counted) when `maxConnections` are already open.
    func admit() -> Bool {
        if open.wrappingAdd(1, ordering: .relaxed).newValue <= maxConnections { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func release() { open.wrappingSubtract(1, ordering: .relaxed) }

    /// The HTTP/1 server with these limits. Hummingbird's idle timeout closes a connection that has no
    /// request under way for `idleTimeout` (keep-alive, and a request head that never finishes);
    /// `ConnectionGuard` closes a request whose body is still arriving after `requestTimeout`, and
    /// refuses connections past the cap.
    var server: HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(limits: self)], idleTimeout: idleTimeout))
    }
}

extension TimeAmount {
    static func seconds(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1_000_000_000)) }
}

/// One connection's guard: closes the connection at once when the listener is full, and when a
/// request has not arrived whole (head and body) within `requestTimeout` of the moment the
/// connection became ready for it. Slow clients (a slowloris holding half-sent requests open) cannot
/// hold the server's descriptors longer than that.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private var admitted = false
    private var deadline: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        if admitted {
            admitted = false
            limits.release()
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard admit(context) else { return }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request is whole: from here on the handler's own deadline (the database's) applies.
        if case .end = unwrapInboundIn(data) { disarm() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The answer is out: the next request on this connection has its own time to arrive.
        if case .end = unwrapOutboundIn(data) { arm(context) }
        context.write(data, promise: promise)
    }

    /// Counts the connection once it is active and starts its first request's clock; closes it at once
    /// (false) when the listener is full.
    @discardableResult
    private func admit(_ context: ChannelHandlerContext) -> Bool {
        if admitted { return true }
        guard limits.admit() else {
            context.close(promise: nil)
            return false
        }
        admitted = true
        arm(context)
        return true
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard admitted, deadline == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: limits.requestTimeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
