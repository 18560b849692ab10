import Foundation

/// Postfix's `smtp-sink` on 127.0.0.1, started on a free port (or a given one, to restart it "in place"),
/// dumping every message to its own file, with running counters (`-c`) so tests can tell how many SMTP
/// sessions (connections) it saw.
///
///     let sink = try SMTPSinkServer(flags: ["-r", "RCPT"])   // soft-reject every RCPT
///     … send to sink.url …
///     sink.stop()
///     let messages = try sink.receivedMessages()
///     #expect(sink.sessionCount == 4)
///
/// Fault flags (see `man smtp-sink`): `-r CMD` soft (4xx) reject, `-f CMD` hard (5xx) reject, `-q CMD`
/// disconnect without reply, `-Q CMD` 421 and disconnect, `-W CMD:SECONDS` slow reply; CMD is one of
/// CONNECT, EHLO, MAIL, RCPT, DATA, "." …
public final class SMTPSinkServer: @unchecked Sendable {
    /// One dumped mail transaction.
    public struct ReceivedMessage: Sendable {
        /// `X-Mail-Args`, e.g. "<digest@news.example>".
        public var mailFrom: String
        /// `X-Rcpt-Args`, one per RCPT, e.g. ["<reader@example.org>"].
        public var recipients: [String]
        /// The message as smtp-sink wrote it: dot-unstuffed, each line ended by LF (not CRLF).
        public var data: [UInt8]
        public var file: String

        /// The recipient address without angle brackets or ESMTP parameters.
        public var recipient: String? {
            recipients.first.map { String($0.split(separator: " ").first ?? "").trimmingCharacters(in: ["<", ">"]) }
        }
    }

    public let port: UInt16
    public let folder: TemporaryDirectory
    public let dumpFolder: String
    private let output: String
    private let process: ChildProcess

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Starts `smtp-sink -u nobody -c -d DUMP/… [flags] 127.0.0.1:PORT 256` and waits until it listens.
    /// `dump: false` leaves out `-d` (messages are counted, not kept: for throughput measurements).
    /// A sink that does not listen within a few seconds is replaced on another port (unless `port`
    /// was given), up to three times.
    public init(flags: [String] = [], port: UInt16? = nil, dump: Bool = true) throws {
        folder = TemporaryDirectory("smtp-sink")
        dumpFolder = folder.file("dump")
        output = folder.file("counters.txt")
        // smtp-sink drops to `nobody` before it writes dumps.
        try FileManager.default.createDirectory(
            atPath: dumpFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        var failures: [String] = []
        for _ in 0..<3 {
            let candidate = port ?? FreePort.next()
            let process = try ChildProcess(
                "/usr/sbin/smtp-sink",
                ["-u", "nobody", "-c"] + (dump ? ["-d", dumpFolder + "/%Y%m%d%H%M%S."] : []) + flags + [
                    "127.0.0.1:\(candidate)", "256",
                ],
                output: output)
            if FreePort.waitUntilListening(candidate, timeout: port == nil ? 5 : 10) {
                self.port = candidate
                self.process = process
                return
            }
            let state = process.process.isRunning ? "running but not listening" : "exited with \(process.process.terminationStatus)"
            process.stop()
            failures.append("port \(candidate): \(state)")
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        throw TestServerError.didNotStart("smtp-sink (\(failures.joined(separator: "; "))): \(text)")
    }

    /// Terminates the server and waits for it; counters and dumps are complete afterwards.
    public func stop() { process.stop() }

    deinit { stop() }

    private var outputText: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    /// The last running counters printed by `-c`: "sess=N quit=N mesg=N" (updated when a session ends,
    /// on QUIT, and at each "."). Read after `stop()` or once the client has closed its connections.
    public var counters: [String: Int] {
        let last = outputText.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last { $0.hasPrefix("sess=") }
        var result: [String: Int] = [:]
        for field in last?.split(separator: " ") ?? [] {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    /// Waits until at least `count` sessions have ended (the server counts a session a moment after the
    /// client has its "221" to QUIT), then returns the count. Call before `stop()` when counting sessions.
    @discardableResult
    public func waitForSessions(atLeast count: Int, timeout: Double = 5) -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while sessionCount < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        return sessionCount
    }

    /// Messages received (each "." of a transaction).
    public var messageCount: Int { counters["mesg"] ?? 0 }

    /// SMTP sessions (TCP connections) that have ended.
    public var sessionCount: Int { counters["sess"] ?? 0 }

    /// Every dumped transaction, in file-name order (roughly arrival order).
    public func receivedMessages() throws -> [ReceivedMessage] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dumpFolder).sorted()
        return try names.compactMap { name in
            let file = dumpFolder + "/" + name
            // smtp-sink removes the dump of a transaction the client abandoned (a disconnect in DATA), so
            // a file listed a moment ago may be gone: that transaction delivered nothing.
            guard let data = FileManager.default.contents(atPath: file) else { return nil }
            return try Self.parseDump(Array(data), file: file)
        }
    }

    /// "X-Client-Addr … X-Mail-Args … X-Rcpt-Args … Received: (three lines) — then the message as received,
    /// then an empty line." — smtp-sink(1), DUMP FILE FORMAT.
    public static func parseDump(_ bytes: [UInt8], file: String) throws -> ReceivedMessage {
        var mailFrom = ""
        var recipients: [String] = []
        var index = 0
        var sawReceived = false
        while index < bytes.count {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = String(decoding: bytes[index..<end], as: UTF8.self)
            let isContinuation = line.hasPrefix("\t")
            if sawReceived && !isContinuation { break }
            if line.hasPrefix("X-Mail-Args: ") { mailFrom = String(line.dropFirst("X-Mail-Args: ".count)) }
            if line.hasPrefix("X-Rcpt-Args: ") { recipients.append(String(line.dropFirst("X-Rcpt-Args: ".count))) }
            if line.hasPrefix("Received: ") { sawReceived = true }
            index = end + 1
        }
        guard sawReceived, bytes.last == UInt8(ascii: "\n") else {
            throw TestServerError.didNotStart("unexpected smtp-sink dump format in \(file)")
        }
        let data = index < bytes.count ? Array(bytes[index..<(bytes.count - 1)]) : []
        return ReceivedMessage(mailFrom: mailFrom, recipients: recipients, data: data, file: file)
    }

    /// What smtp-sink's dump of `data` (CRLF line ends) looks like: the same bytes with LF line ends.
    public static func dumpForm(of data: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(data.count)
        var index = 0
        while index < data.count {
            if data[index] == 0x0D, index + 1 < data.count, data[index + 1] == 0x0A {
                index += 1
                continue
            }
            result.append(data[index])
            index += 1
        }
        return result
    }
}
