import Foundation
import Logging

/// Reads item files and stores their items. A file with any invalid record is refused whole.
public struct ItemImporter: Sendable {
    public let store: Store
    public let logger: Logger

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Imports one JSON item file; throws `ItemFileError` naming every bad record.
    @discardableResult
    public func importFile(path: String, defaultKind: ItemKind? = nil, now: Date = Date()) throws -> UpsertCounts {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ItemFileError(source: path, errors: [ItemRecordError(source: path, message: "cannot be read: the file does not exist or is not readable")])
        }
        let drafts = try ItemRecordParser.parse(data, source: path, defaultKind: defaultKind)
        let counts = try store.upsert(drafts, now: now)
        logger.info(
            "imported \(path)",
            metadata: ["inserted": "\(counts.inserted)", "updated": "\(counts.updated)"])
        return counts
    }
}
