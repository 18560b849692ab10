import DigestCore
import Foundation
import Hummingbird
import Logging

/// The admin console: one controller per page family, served under `/admin/` on the public listener
/// (behind `AdminAccessMiddleware`) and on the loopback admin listener.
struct AdminConsole: Sendable {
    let preview: PreviewController
    let items: ItemsController
    let health: HealthPageController

    init(
        configuration: Configuration, environment: [String: String], composer: DigestComposer, database: StoreExecutor,
        store: Store, pages: WebPages, settings: WebSettings, outbox: OutboxWorker, logger: Logger
    ) {
        let admin = AdminPages(pages: pages, settings: settings)
        preview = PreviewController(
            preview: DigestPreview(composer: composer, store: store), database: database, admin: admin, outbox: outbox,
            logger: logger)
        items = ItemsController(admin: admin, database: database, configuration: configuration, ranker: composer.ranker)
        health = HealthPageController(admin: admin, database: database, configuration: configuration, environment: environment)
    }

    func addRoutes(to routes: PageRoutes) {
        preview.addRoutes(to: routes)
        items.addRoutes(to: routes)
        health.addRoutes(to: routes)
    }
}
