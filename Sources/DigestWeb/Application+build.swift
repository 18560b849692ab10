import DigestCore
import Hummingbird
import Logging

/// Assembles the web application: the routes of every part, served at `web.host`:`web.port`.
///
/// - Parameter environment: where secrets are read (the admin token named by `web.adminTokenEnv`).
public func buildApplication(
    configuration: Configuration, store: Store, environment: [String: String], logger: Logger
) throws -> some ApplicationProtocol {
    let router = Router()
    addRoutes(to: router, configuration: configuration, store: store, environment: environment, logger: logger)
    return Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.web.host, port: configuration.web.port), serverName: "DailyDigest"),
        logger: logger)
}

/// Adds every part's routes to `router`; each part registers its own.
func addRoutes(
    to router: Router<BasicRequestContext>, configuration: Configuration, store: Store,
    environment: [String: String], logger: Logger
) {
    let itemsAPI = ItemsAPI(
        store: store, adminToken: environment[configuration.web.adminTokenEnv],
        tokenVariable: configuration.web.adminTokenEnv, logger: logger)
    itemsAPI.register(on: router)
}
