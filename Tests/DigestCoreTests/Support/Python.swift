import Foundation

/// Runs `python3` scripts, for tests that check our output with an independent implementation
/// (Python's `email` package parses what the MIME builder writes). Tests that use it declare
/// `.requires(.python3)`.
enum Python {
    struct Result {
        var status: Int32
        var standardOutput: Data
        var standardError: String
    }

    /// Runs `script` with `arguments` (through `Programs.run`: on a thread of its own, output through files).
    static func run(_ script: String, arguments: [String] = []) async throws -> Result {
        let directory = TemporaryDirectory("python")
        let scriptFile = directory.write("script.py", script)
        let result = try await Programs.run("python3", [scriptFile] + arguments)
        return Result(
            status: result.status, standardOutput: result.standardOutputData, standardError: result.standardError)
    }
}

struct PythonError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
