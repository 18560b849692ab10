import DigestCore
import Foundation
import Hummingbird

/// `GET /admin/api/stats?days=N`: every figure of the dashboard as JSON, the same document as
/// `digest stats --json` (`StatsReport.json()`), read from the summary rows on the store's threads.
struct StatsAPIController: Sendable {
    let database: StoreExecutor
    let now: @Sendable () -> Date
    let schedule: DeliverySchedule

    /// The longest period asked for: ten years of days.
    static let maxDays = 3660

    func addRoutes(to routes: PageRoutes) {
        routes.get("api/stats") { request, _ in try await stats(request) }
    }

    func stats(_ request: Request) async throws -> Response {
        let text = request.uri.queryParameters.get("days") ?? "30"
        guard let days = Int(text), (1...Self.maxDays).contains(days) else {
            return APIResponse.error(.badRequest, "days must be a whole number from 1 to \(Self.maxDays), not \"\(text)\"")
        }
        let (now, schedule) = (now(), schedule)
        let data = try await database.run { store in try store.statsReport(days: days, now: now, schedule: schedule).json() }
        return APIResponse.json(data: data)
    }
}
