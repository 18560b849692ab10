import DigestCore
import Foundation
import Hummingbird
import Logging
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
    onMailResult: (@Sendable (MailMessage, DeliveryResult) -> Void)? = nil
) async throws -> Application<RouterResponder<WebRequestContext>> {
    let signer = try LinkSigner(environmentVariable: configuration.web.secretEnv, environment: environment)
    let pages = try await WebPages(configuration: configuration)
    let templates = try await DigestTemplates(folder: configuration.templates)
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
    let confirmation = try ConfirmationMail(
        library: pages.library, configuration: configuration, signer: signer,
        linkLifetime: settings.confirmLinkLifetime)
    let reader = ReaderPages(
        database: database, configuration: configuration, signer: signer, pages: pages, settings: settings,
        logger: logger)
    let adminToken = environment[configuration.web.adminTokenEnv]
    let admin = AdminConsole(
        configuration: configuration, environment: environment, composer: composer, database: database, store: store,
        pages: pages, settings: settings, outbox: outbox, logger: logger)
    let adminListen = configuration.web.adminListen.map { "\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\($0.port)" }

    let allowed = AllowedMethods()
    let router = pageRouter(pages: pages, allowed: allowed, trustedProxies: configuration.web.trustedProxies)
    ItemsAPI(database: database, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger)
        .register(on: router)
    for (method, path) in [(HTTPRequest.Method.get, "api/items"), (.post, "api/items"), (.post, "api/items/votes")] {
        allowed.add(method, path)
    }
    BouncesAPI(database: database, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger)
        .register(on: router)
    allowed.add(.post, "api/bounces")
    let routes = PageRoutes(router, allowed: allowed)
    SubscribeController(reader: reader, confirmation: confirmation, outbox: outbox).addRoutes(to: routes)
    ConfirmController(reader: reader).addRoutes(to: routes)
    UnsubscribeController(reader: reader).addRoutes(to: routes)
    PreferencesController(reader: reader).addRoutes(to: routes)
    HealthController(database: database).addRoutes(to: routes)
    let adminGroup = router.group("admin").add(
        middleware: AdminAccessMiddleware(
            token: adminToken, tokenVariable: configuration.web.adminTokenEnv, adminListen: adminListen, pages: pages))
    admin.addRoutes(to: PageRoutes(adminGroup, prefix: "admin", allowed: allowed))
    // The figures (JSON, and Prometheus's /metrics) under the same protection as the admin pages: the bearer
    // token on this listener (what scrapers send), none on the loopback admin listener.
    let stats = StatsAPIController(
        database: database, now: settings.now,
        schedule: DeliverySchedule(ranker: Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)))
    let metrics = MetricsController(database: database)
    stats.addRoutes(to: PageRoutes(adminGroup, prefix: "admin", allowed: allowed))
    let metricsGroup = router.group("metrics").add(
        middleware: AdminAccessMiddleware(
            token: adminToken, tokenVariable: configuration.web.adminTokenEnv, adminListen: adminListen, pages: pages))
    metrics.addRoutes(to: PageRoutes(metricsGroup, prefix: "metrics", allowed: allowed))

    var services: [any Service] = [outbox]
    if let listen = configuration.web.adminListen {
        // The same admin pages without the token, on loopback only (the configuration refuses any
        // other address); the public listener never serves them without the token.
        let adminAllowed = AllowedMethods()
        let adminRouter = pageRouter(pages: pages, allowed: adminAllowed, trustedProxies: [])
        admin.addRoutes(to: PageRoutes(adminRouter.group("admin"), prefix: "admin", allowed: adminAllowed))
        stats.addRoutes(to: PageRoutes(adminRouter.group("admin"), prefix: "admin", allowed: adminAllowed))
        metrics.addRoutes(to: PageRoutes(adminRouter.group("metrics"), prefix: "metrics", allowed: adminAllowed))
        PageRoutes(adminRouter, allowed: adminAllowed).get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "admin/"])
        }
        services.append(
            Application(
                router: adminRouter,
                server: ConnectionLimits(configuration.web).server,
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "DailyDigest"),
                logger: logger))
    }
    return Application(
        router: router,
        server: ConnectionLimits(configuration.web).server,
        configuration: .init(
            address: .hostname(configuration.web.host, port: configuration.web.port), serverName: "DailyDigest"),
        services: services,
        logger: logger)
}

/// A router whose every answer carries the security headers, whose errors are pages from the
/// templates (styled 404, 405 with `Allow`), which answers HEAD wherever it answers GET, and whose
/// requests know their client address.
private func pageRouter(pages: WebPages, allowed: AllowedMethods, trustedProxies: [IPNetwork])
    -> Router<WebRequestContext>
{
    let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: SecurityHeadersMiddleware<WebRequestContext>())
    router.add(middleware: ErrorPagesMiddleware(pages: pages, allowed: allowed))
    router.add(middleware: ClientAddressMiddleware(resolver: ClientAddress(trustedProxies: trustedProxies)))
    return router
}
