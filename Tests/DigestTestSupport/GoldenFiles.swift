import Foundation
import Testing

/// Golden files for what people read (rendered text, HTML, whole .eml, charts): the bytes a test
/// produced must equal the file's. Run with DIGEST_RECORD_GOLDEN=1 to re-record, then review the diff;
/// a missing file is recorded and the test fails once, so nothing passes unreviewed.
public struct GoldenFiles: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    public static var recording: Bool { ProcessInfo.processInfo.environment["DIGEST_RECORD_GOLDEN"] == "1" }

    public func check(_ bytes: [UInt8], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = folder + "/" + name
        if Self.recording || !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            if !Self.recording {
                Issue.record(
                    Comment(rawValue: "recorded missing golden file \(name); review it and run again"),
                    sourceLocation: sourceLocation)
            }
            return
        }
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        if expected != bytes {
            let actualPath = NSTemporaryDirectory() + "actual-" + name
            try Data(bytes).write(to: URL(fileURLWithPath: actualPath))
            let message = "\(name) differs from the golden file; compare with: diff \(path) \(actualPath) "
                + "(DIGEST_RECORD_GOLDEN=1 re-records)"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }
}
