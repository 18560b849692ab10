import DigestCore
import Synchronization

/// The URLs a click link may lead to: each frozen edition's items, read once from the store and then kept
/// in memory (an edition never changes once frozen), so a redirect after the first one of an edition does
/// not touch the database at all. Only URLs an edition holds are ever answered: no open redirect.
final class ClickTargets: Sendable {
    let database: StoreExecutor
    /// Editions kept at most; clicks come to the newest few, so a full cache simply starts again.
    let limit: Int
    private let editions = Mutex<[Int64: [Int64: String]]>([:])

    init(database: StoreExecutor, limit: Int = 64) {
        self.database = database
        self.limit = limit
    }

    /// The URL of item `itemID` in edition `editionID`, or nil when the edition does not hold it. Throws
    /// `StoreUnavailable` when the edition is not yet cached and the database does not answer in time.
    func url(editionID: Int64, itemID: Int64) async throws -> String? {
        if let items = editions.withLock({ $0[editionID] }) { return items[itemID] }
        let items = try await database.run { try $0.clickTargets(editionID: editionID) }
        // A signed token names an edition that was frozen, so an empty answer is not cached: it can only
        // be a database reset or restored from elsewhere, and the next click looks again.
        if !items.isEmpty {
            let limit = limit
            editions.withLock { cache in
                if cache.count >= limit { cache.removeAll(keepingCapacity: true) }
                cache[editionID] = items
            }
        }
        return items[itemID]
    }
}
