import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs installed programs (openssl, postfix, spamassassin, chromium, python3 scripts) for tests that check
/// our output with independent tools. Each run is spawned and waited for on a thread of its own while the
/// calling test suspends: a test that blocked in `waitUntilExit()` held one of the Swift test pool's
/// threads (two on a 2-core machine) for the seconds SpamAssassin or Chromium take, and every other test
/// waited. Output goes through files so a chatty child never blocks on a pipe.
public enum Programs {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutputData: Data
        public var standardError: String
        public var standardOutput: String { String(decoding: standardOutputData, as: UTF8.self) }
    }

    /// `name` found on `PATH` or in the system folders, if installed (a path is taken as it is).
    public static func find(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name` with `arguments` (and `input` on standard input) to its end, on a thread of its own.
    /// A run still going after `timeout` seconds is killed (SIGKILL) and reported as an error.
    public static func run(
        _ name: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
        directory: String? = nil, timeout: TimeInterval = 300
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Swift.Result {
                        try runHere(
                            name, arguments, input: input, environment: environment, directory: directory,
                            timeout: timeout)
                    })
            }
            thread.name = "test program \(name)"
            thread.start()
        }
    }

    /// Runs `name` and returns its standard output; a non-zero exit throws with its error output.
    @discardableResult
    public static func output(_ name: String, _ arguments: [String], input: Data? = nil) async throws -> String {
        let result = try await run(name, arguments, input: input)
        guard result.status == 0 else {
            let command = ([name] + arguments).joined(separator: " ")
            throw ProgramError(message: "\(command) exited with \(result.status): \(result.standardError)")
        }
        return result.standardOutput
    }

    /// The blocking part of `run`, on the thread `run` made for it.
    private static func runHere(
        _ name: String, _ arguments: [String], input: Data?, environment: [String: String]?, directory: String?,
        timeout: TimeInterval
    ) throws -> Result {
        guard let executable = find(name) else {
            throw ProgramError(message: "\(name) is not installed (scripts/setup --test)")
        }
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
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if !timedOut && Date() >= deadline {
                // SIGKILL: children of Foundation's Process may block SIGTERM (see `ChildProcess`).
                kill(process.processIdentifier, SIGKILL)
                timedOut = true
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        let result = Result(
            status: process.terminationStatus,
            standardOutputData: (try? Data(contentsOf: URL(fileURLWithPath: outputFile))) ?? Data(),
            standardError: (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")
        if timedOut {
            throw ProgramError(
                message: "\(name) was still running after \(Int(timeout)) s; killed. "
                    + String(result.standardError.suffix(800)))
        }
        return result
    }
}

public struct ProgramError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
