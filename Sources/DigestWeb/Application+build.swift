import DigestCore
import Foundation
import Hummingbird
import Logging

/// Assembles the web application: the routes of every part, served at `web.host`:`web.port`.
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
    let mailer = ConfirmationMailer(pool: pool, logger: logger, onResult: onMailResult)

    let router = Router(context: WebRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware<WebRequestContext>())
    let adminToken = environment[configuration.web.adminTokenEnv]
    ItemsAPI(store: store, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger)
        .register(on: router)
    BouncesAPI(store: store, adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv, logger: logger).register(on: router)
    try SubscriptionRoutes(
        store: store, configuration: configuration, signer: signer, pages: pages, mailer: mailer, settings: settings,
        logger: logger
    ).register(on: router)
    AdminRoutes(
        preview: DigestPreview(composer: composer, store: store), pages: pages, settings: settings,
        adminToken: adminToken, tokenVariable: configuration.web.adminTokenEnv
    ).register(on: router)

    return Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.web.host, port: configuration.web.port), serverName: "DailyDigest"),
        services: [mailer],
        logger: logger)
}
