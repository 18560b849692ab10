import Foundation

/// Runs installed programs (openssl, postfix, spamassassin, chromium) for tests that check our
/// output with independent tools. Output goes through files so a chatty child never blocks on a pipe.
enum Programs {
    struct Result {
        var status: Int32
        var standardOutputData: Data
        var standardError: String
        var standardOutput: String { String(decoding: standardOutputData, as: UTF8.self) }
    }

    /// `name` found on `PATH` or in the system folders, if installed.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name` with `arguments` (and `input` on standard input) to its end.
    static func run(
        _ name: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
        directory: String? = nil
    ) throws -> Result {
        guard let executable = find(name) else { throw ProgramError(message: "\(name) is not installed (scripts/setup --test)") }
        let folder = TemporaryDirectory("run")
        let outputFile = folder.file("stdout")
        let errorFile = folder.file("stderr")
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
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = error
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let input {
            let inputFile = folder.file("stdin")
            _ = FileManager.default.createFile(atPath: inputFile, contents: input)
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputFile))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try ChildProcess.spawnLock.withLock { try process.run() }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutputData: (try? Data(contentsOf: URL(fileURLWithPath: outputFile))) ?? Data(),
            standardError: (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")
    }

    /// Runs `name` and returns its standard output; a non-zero exit throws with its error output.
    @discardableResult
    static func output(_ name: String, _ arguments: [String], input: Data? = nil) throws -> String {
        let result = try run(name, arguments, input: input)
        guard result.status == 0 else {
            throw ProgramError(message: "\(name) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.standardError)")
        }
        return result.standardOutput
    }
}

struct ProgramError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
