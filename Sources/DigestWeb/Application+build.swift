import DigestCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Assembles the web application: the routes of every part, served at `web.host`:`web.port`, the
/// outbox worker that sends the confirmation mails, and, when `web.adminListen` is set, the admin
/// pages on a second, loopback-only listener.
///
/// Refuses to start (throws) without the link-signing secret (the variable named by
/// `web.secretEnv`), with a missing or broken template, or with a mail transport that cannot be
/// set up: better a clear error at start than a form that cannot send its confirmation mails.
///
/// - Parameter environment: where secrets are read (`web.secretEnv`, `web.adminTokenEnv`, the SMTP password).
public func buildApplication(
    configuration: Configuration, store: Store, environment: [String: String], logger: Logger
) async throws -> some ApplicationProtocol {
    try await buildWebApplication(
        configuration: configuration, store: store, environment: environment, logger: logger)
}

/// `buildApplication` with the knobs tests turn: limits and clock, the mail transport, and a
/// callback for each confirmation mail's final result.
func buildWebApplication(
    configuration: Configuration, store: Store, environment: [String: String], logger: Logger,
    settings: WebSettings = WebSettings(), transport: (any MailTransport)? = nil,
    onMailResult: (@Sendable (MailMessage, DeliveryResult) -> Void)? = nil, clicks: ClickCounter? = nil
) async throws -> Application<RouterResponder<WebRequestContext>> {
    let signer = try LinkSigner(environmentVariable: configuration.web.secretEnv, environment: environment)
    let pages = try await WebPages(configuration: configuration)
    let templates = try await DigestTemplates(folder: configuration.templates, site: configuration.site)
    let composer = try DigestComposer(configuration: configuration, templates: templates, signer: signer)
    let mail = configuration.mail
    let pool = SenderPool(
        transport: try transport ?? mail.makeTransport(environment: environment),
        retry: RetryPolicy(maxAttempts: mail.transport == .smtp ? mail.smtp?.maxAttempts ?? 1 : 1),
        maxPerSecond: mail.transport == .smtp ? mail.smtp?.maxPerSecond ?? 0 : 0, logger: logger)
    // Every store call a request makes runs on these threads, never on Swift concurrency's own, and
    // waits at most `web.databaseTimeoutSeconds`; the outbox worker has a thread of its own.
    let database = StoreExecutor(
        store: store, threads: settings.databaseThreads, capacity: settings.databaseCapacity,
        timeout: .seconds(configuration.web.databaseTimeoutSeconds), logger: logger)
    let outbox = OutboxWorker(
        database: StoreExecutor(store: store, threads: 1, capacity: 4, timeout: OutboxWorker.storeTimeout, logger: logger),
        pool: pool, now: settings.now, logger: logger, onResult: onMailResult)
    // Clicks are written by a thread of their own, every second: a redirect never waits for a write.
    let clicks =
        clicks
        ?? ClickCounter(
            database: StoreExecutor(store: store, threads: 1, capacity: 4, timeout: ClickCounter.storeTimeout, logger: logger),
            logger: logger)
    let confirmation = try ConfirmationMail(
        library: pages.library, languages: pages.languages, configuration: configuration, signer: signer,
        linkLifetime: settings.confirmLinkLifetime)
    let reader = ReaderPages(
        database: database, configuration: configuration, signer: signer, pages: pages, settings: settings,
        logger: logger)
    let adminToken = environment[configuration.web.adminTokenEnv]
    let admin = AdminConsole(
        configuration: configuration, environment: environment, composer: composer, database: database, store: store,
        pages: pages, settings: settings, confirmation: confirmation, outbox: outbox, logger: logger)
    let access = AdminAccess(
        configuration: configuration, token: adminToken, signer: signer, database: database, settings: settings,
        logger: logger)

    let allowed = AllowedMethods()
    let router = pageRouter(
        pages: pages, allowed: allowed, trustedProxies: configuration.web.trustedProxies,
        admin: AdminAccessMiddleware(access: access, listener: .publicPort))
    ItemsAPI(database: database, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger)
        .register(on: router)
    for (method, path) in [
        (HTTPRequest.Method.get, "api/items"), (.post, "api/items"), (.get, "api/items/votes"), (.post, "api/items/votes"),
    ] {
        allowed.add(method, path)
    }
    BouncesAPI(database: database, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger)
        .register(on: router)
    allowed.add(.post, "api/bounces")
    InboundAPI(
        importer: try InboundImporter(configuration: configuration, store: database.store, signer: signer),
        database: database, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger,
        clock: settings.now, queued: { outbox.wake() }
    ).register(on: router)
    allowed.add(.post, "api/inbound")
    let routes = PageRoutes(router, allowed: allowed)
    SubscribeController(reader: reader, confirmation: confirmation, outbox: outbox).addRoutes(to: routes)
    ConfirmController(reader: reader).addRoutes(to: routes)
    UnsubscribeController(reader: reader).addRoutes(to: routes)
    PreferencesController(reader: reader).addRoutes(to: routes)
    MyDataController(reader: reader).addRoutes(to: routes)
    VoteController(reader: reader, link: composer.voteLink).addRoutes(to: routes)
    ArchiveController(
        database: database, pages: pages, configuration: configuration, ranker: composer.ranker, signer: signer,
        settings: settings
    ).addRoutes(to: routes)
    HealthController(database: database).addRoutes(to: routes)
    ClickController(
        signer: signer, targets: ClickTargets(database: database), counter: clicks,
        counting: configuration.privacy.clickCounting
    ).addRoutes(to: routes)
    // Every path under /admin (and /metrics) is guarded by the router-level `AdminAccessMiddleware` (whatever
    // the method, a route there or not); the groups' own middleware is a second lock on the routes that exist.
    admin.addRoutes(
        to: PageRoutes(
            router.group("admin").add(middleware: AdminRequiredMiddleware(access: access)), prefix: "admin",
            allowed: allowed),
        metrics: PageRoutes(
            router.group("metrics").add(middleware: AdminRequiredMiddleware(access: access)), prefix: "metrics",
            allowed: allowed))
    SignInController(access: access, pages: pages).addRoutes(
        to: routes,
        admin: PageRoutes(
            router.group("admin").add(middleware: AdminRequiredMiddleware(access: access)), prefix: "admin",
            allowed: allowed))

    var services: [any Service] = [outbox, clicks]
    if let listen = configuration.web.adminListen {
        // The same admin pages without the token, on loopback only (the configuration refuses any
        // other address); the public listener never serves them without the token. Its forms carry
        // CSRF tokens as the public port's do.
        let adminAllowed = AllowedMethods()
        let adminRouter = pageRouter(
            pages: pages, allowed: adminAllowed, trustedProxies: [],
            admin: AdminAccessMiddleware(access: access, listener: .adminListener))
        admin.addRoutes(
            to: PageRoutes(adminRouter.group("admin"), prefix: "admin", allowed: adminAllowed),
            metrics: PageRoutes(adminRouter.group("metrics"), prefix: "metrics", allowed: adminAllowed))
        PageRoutes(adminRouter, allowed: adminAllowed).get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "admin/"])
        }
        services.append(
            Application(
                router: adminRouter,
                server: ConnectionLimits(configuration.web).server,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "DailyDigest"),
                onServerRunning: announce("admin pages without the token", host: listen.host, logger: logger),
                logger: logger))
    }
    return Application(
        router: router,
        server: ConnectionLimits(configuration.web).server,
        configuration: .init(
            address: .hostname(configuration.web.host, port: configuration.web.port), serverName: "DailyDigest"),
        services: services,
        onServerRunning: announce(
            "reader pages and the API (links in mails and pages: \(configuration.web.baseURL))",
            host: configuration.web.host, logger: logger),
        logger: logger)
}

/// Why `digest serve` could not start listening, naming the addresses and what to change; nil for another error.
public func listenFailure(_ error: any Error, web: Configuration.Web) -> ListenFailure? {
    guard let error = error as? IOError, [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) else { return nil }
    var addresses = "\(web.host):\(web.port) (web.host, web.port)"
    if let admin = web.adminListen { addresses += " or \(admin.host):\(admin.port) (web.adminListen)" }
    let why =
        switch error.errnoCode {
        case EADDRINUSE: "the address is in use: another `digest serve` or another program listens there; stop it, or choose another port (--port or the key)"
        case EACCES: "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port above 1023 behind a proxy"
        default: "no interface of this machine has that address; use 127.0.0.1, 0.0.0.0 or one of its own"
        }
    return ListenFailure(description: "cannot listen on \(addresses): \(why)")
}

/// `digest serve` could not listen where its configuration says.
public struct ListenFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Says at the default log level where a listener now answers (the port it really got, which differs from the
/// configured one for port 0), so an operator who starts `digest serve` sees where to look.
private func announce(_ what: String, host: String, logger: Logger) -> @Sendable (any Channel) async -> Void {
    { channel in
        let port = channel.localAddress?.port.map(String.init) ?? "?"
        logger.notice("listening on http://\(host):\(port) for \(what)")
    }
}

/// A router whose every answer carries the security headers, whose errors are pages from the
/// templates (styled 404, 405 with `Allow`), which answers HEAD wherever it answers GET, whose
/// requests know their client address, and whose admin paths are guarded by `admin` before routing
/// (so a wrong method or a made-up path tells nothing without credentials).
private func pageRouter(
    pages: WebPages, allowed: AllowedMethods, trustedProxies: [IPNetwork], admin: AdminAccessMiddleware
) -> Router<WebRequestContext> {
    let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: SecurityHeadersMiddleware<WebRequestContext>())
    router.add(middleware: ErrorPagesMiddleware(pages: pages, allowed: allowed))
    router.add(middleware: ClientAddressMiddleware(resolver: ClientAddress(trustedProxies: trustedProxies)))
    router.add(middleware: admin)
    return router
}
