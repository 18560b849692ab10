import DigestCore
import Hummingbird

/// Probes for load balancers and systemd:
///
/// ```
/// GET /healthz   200 while the process serves requests (it needs no database)
/// GET /readyz    200 when the database answers within a second; 503 and the reason otherwise
/// ```
struct HealthController: Sendable {
    let database: StoreExecutor
    /// How long the readiness probe waits for the database.
    var readinessTimeout: Duration = .seconds(1)

    func addRoutes(to routes: PageRoutes) {
        routes.get("healthz") { _, _ in text(.ok, "ok") }
        routes.get("readyz") { _, _ in await readiness() }
    }

    func readiness() async -> Response {
        do {
            try await database.run(timeout: readinessTimeout) { try $0.ping() }
            return text(.ok, "ready")
        } catch {
            var response = text(.serviceUnavailable, "not ready: \(error)")
            response.headers[.retryAfter] = PageError.databaseRetryAfter
            return response
        }
    }

    private func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }
}
