import DigestTestSupport
import Foundation
import Testing

/// The golden files of rendered digests and schemas, in Tests/DigestCoreTests/Golden (`GoldenFiles`).
enum Golden {
    static let files = GoldenFiles(folder: Fixtures.repositoryRoot + "/Tests/DigestCoreTests/Golden")
    static var folder: String { files.folder }
    static var recording: Bool { GoldenFiles.recording }

    static func check(_ bytes: [UInt8], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try files.check(bytes, name, sourceLocation: sourceLocation)
    }
}
