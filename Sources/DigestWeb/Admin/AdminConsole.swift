import DigestCore
import Foundation
import Hummingbird
import Logging

/// The admin console: one controller per page family, served under `/admin/` on the public listener
/// (behind `AdminAccessMiddleware`: a session or the bearer token) and on the loopback admin listener, plus
/// the figures for machines (`/admin/api/stats`, `/metrics`).
struct AdminConsole: Sendable {
    let dashboard: DashboardController
    let editions: EditionsController
    let readers: ReadersController
    let items: ItemsController
    let preview: PreviewController
    let health: HealthPageController
    let stats: StatsAPIController
    let metrics: MetricsController

    init(
        configuration: Configuration, environment: [String: String], composer: DigestComposer, database: StoreExecutor,
        store: Store, pages: WebPages, settings: WebSettings, confirmation: ConfirmationMail, outbox: OutboxWorker,
        logger: Logger
    ) {
        let admin = AdminPages(pages: pages, settings: settings)
        let digests = DigestPreview(composer: composer, store: store)
        let schedule = DeliverySchedule(ranker: composer.ranker)
        dashboard = DashboardController(
            admin: admin, database: database, schedule: schedule, siteZone: configuration.site.timeZone)
        editions = EditionsController(admin: admin, database: database)
        readers = ReadersController(
            admin: admin, database: database, preview: digests, confirmation: confirmation, outbox: outbox, logger: logger)
        items = ItemsController(admin: admin, database: database, configuration: configuration, ranker: composer.ranker)
        preview = PreviewController(preview: digests, database: database, admin: admin, outbox: outbox, logger: logger)
        health = HealthPageController(admin: admin, database: database, configuration: configuration, environment: environment)
        stats = StatsAPIController(database: database, now: settings.now, schedule: schedule)
        metrics = MetricsController(database: database)
    }

    /// `routes`: under /admin; `metricsRoutes`: /metrics.
    func addRoutes(to routes: PageRoutes, metrics metricsRoutes: PageRoutes) {
        dashboard.addRoutes(to: routes)
        editions.addRoutes(to: routes)
        readers.addRoutes(to: routes)
        items.addRoutes(to: routes)
        preview.addRoutes(to: routes)
        health.addRoutes(to: routes)
        stats.addRoutes(to: routes)
        metrics.addRoutes(to: metricsRoutes)
    }
}
