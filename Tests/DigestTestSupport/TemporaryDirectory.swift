import Foundation

/// A fresh folder under the system temp directory, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "digest") {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// This process's environment with `TMPDIR` set to this folder: for a program that leaves files behind in
    /// the temporary directory (Chromium its `org.chromium.Chromium.*` folders), so they go with this one.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = path
        return environment
    }

    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let file = file(name)
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

