import ArgumentParser
import DigestCore
import DigestWeb
import Foundation
import Hummingbird

extension DigestCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the web server: subscription pages, admin preview and the items API.",
            discussion: """
                Needs the link-signing secret in the environment variable named by web.secretEnv (DIGEST_SECRET \
                by default). Admin pages need the bearer token from web.adminTokenEnv, except on the \
                loopback-only admin listener web.adminListen. Confirmation mails are sent from the outbox \
                table by a background worker, so a restart loses none. The items API under /api/items needs a bearer token, read from the environment variable \
                named by web.adminTokenEnv (DIGEST_ADMIN_TOKEN by default); without it the API answers 503.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: "Address to listen on (default: web.host).") var host: String?
        @Option(help: "Port to listen on (default: web.port).") var port: Int?

        func validate() throws {
            if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535.") }
        }

        func run() async throws {
            var (configuration, store) = try options.open()
            configuration.web = configuration.web.listening(host: host, port: port)
            let app = try await buildApplication(
                configuration: configuration, store: store, environment: ProcessInfo.processInfo.environment,
                logger: options.logger)
            do {
                try await app.runService()
            } catch {
                throw listenFailure(error, web: configuration.web) ?? error
            }
        }
    }
}
