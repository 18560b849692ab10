import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for servers the tests start.
public enum FreePort {
    /// A TCP port on 127.0.0.1 that nothing uses, chosen BELOW the kernel's ephemeral range
    /// (32768–60999): a port the kernel hands out for `bind(0)` can meanwhile become the local
    /// port of a client connection of another test, and smtp-sink then waits on its bind silently.
    public static func next() -> UInt16 {
        while true {
            let port = UInt16.random(in: 20_000..<32_000)
            if isFree(port) { return port }
        }
    }

    /// Whether 127.0.0.1:`port` can be bound right now.
    static func isFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Waits until something listens on 127.0.0.1:`port`, without connecting (a probe connection would
    /// count as a session on servers that count them). Blocks the thread: for servers in other
    /// processes, started from synchronous code.
    public static func waitUntilListening(_ port: UInt16, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isListening(port) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// The same wait, suspending instead of blocking: for a server running in this process on the
    /// Swift concurrency pool, which a blocked pool thread (2 on a 2-core machine) could starve: tests
    /// that wait for SpamAssassin or Chromium hold both pool threads for many seconds in a full run, so
    /// the default is generous (a server that listens returns at once).
    public static func listening(_ port: UInt16, timeout: Double = 90) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isListening(port) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Whether the kernel's socket table shows a listener on 127.0.0.1:`port` (or any address).
    static func isListening(_ port: UInt16) -> Bool {
        let local = String(format: "0100007F:%04X", port)
        let anyAddress = String(format: "00000000:%04X", port)
        // Read to the end: procfs reports a size of 0, and `String(contentsOfFile:)` then returns only
        // the first page (about 27 sockets), so on a busy machine the listener was never seen.
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return false }
        defer { try? handle.close() }
        let table = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl local_address rem_address st …; st 0A is LISTEN.
            if fields.count > 3, fields[1] == local || fields[1] == anyAddress, fields[3] == "0A" { return true }
        }
        return false
    }
}

/// A child process the tests started, killed and waited for when asked or when released.
///
/// SIGKILL, not SIGTERM: `Process` spawns from a dispatch worker thread whose signal mask blocks most
/// signals, and the child inherits that mask, so smtp-sink would never see a SIGTERM.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let lock = NSLock()
    private var stopped = false

    public init(_ executable: String, _ arguments: [String], output: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        // One spawn at a time: Foundation's Process on Linux is not safe to launch from several
        // threads at once (children were seen dying of SIGKILL right after a concurrent launch).
        try Self.spawnLock.withLock { try process.run() }
    }

    public static let spawnLock = NSLock()

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

public enum TestServerError: Error, CustomStringConvertible {
    case didNotStart(String)
    public var description: String {
        switch self {
        case .didNotStart(let detail): "test server did not start: \(detail)"
        }
    }
}
