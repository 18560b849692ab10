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

    /// Runs `script` with `arguments` (through `Programs.run`, so output goes through files).
    static func run(_ script: String, arguments: [String] = []) throws -> Result {
        guard executable != nil else { throw PythonError(message: "python3 not found on PATH") }
        let directory = TemporaryDirectory("python")
        let scriptFile = directory.write("script.py", script)
        let result = try Programs.run("python3", [scriptFile] + arguments)
        return Result(
            status: result.status, standardOutput: result.standardOutputData, standardError: result.standardError)
    }
}

struct PythonError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
