import Foundation

/// Runs `python3` scripts, for tests that check our output with an independent implementation
/// (Python's `email` package parses what the MIME builder writes).
enum Python {
    struct Result {
        var status: Int32
        var standardOutput: Data
        var standardError: String
    }

    /// The `python3` found on `PATH`, if any.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var isAvailable: Bool { executable != nil }

    /// Runs `script` with `arguments`; output goes through files so a chatty child can never
    /// block on a full pipe.
    static func run(_ script: String, arguments: [String] = []) throws -> Result {
        guard let executable else { throw PythonError(message: "python3 not found on PATH") }
        let directory = TemporaryDirectory("python")
        let scriptFile = directory.write("script.py", script)
        let outputFile = directory.file("stdout")
        let errorFile = directory.file("stderr")
        _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorFile))
        defer {
            try? output.close()
            try? error.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [scriptFile] + arguments
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try ChildProcess.spawnLock.withLock { try process.run() }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: try Data(contentsOf: URL(fileURLWithPath: outputFile)),
            standardError: (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")
    }
}

struct PythonError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
