import Foundation
import Logging

@testable import DigestCore

/// Messages and pool runs shared by the transport tests.
enum MailTests {
    static let sender = try! EmailAddress("digest@courier.example")

    /// A message of about `size` bytes with CRLF line ends, a unique Message-ID, a line that needs
    /// dot-stuffing and some UTF-8, addressed to `recipient` (default `reader<index>@example.org`).
    static func message(_ index: Int, recipient: String? = nil, size: Int = 2_000) -> MailMessage {
        let to = try! EmailAddress(recipient ?? "reader\(index)@example.org")
        let id = "<\(index).test@courier.example>"
        var text = "From: The Courier <digest@courier.example>\r\nTo: \(to.ascii)\r\nSubject: Digest \(index)\r\n"
        text += "Message-ID: \(id)\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        text += "Content-Transfer-Encoding: 8bit\r\n\r\n"
        text += "Hello reader \(index) — Grüße.\r\n.a line that starts with a dot\r\n"
        var line = 0
        while text.utf8.count < size {
            text += "Line \(line) of message \(index): the quick brown fox jumps over the lazy dog.\r\n"
            line += 1
        }
        text += ".\r\nend\r\n"
        return MailMessage(sender: sender, recipient: to, messageID: id, data: Array(text.utf8))
    }

    static var logger: Logger {
        var logger = Logger(label: "test.mail")
        logger.logLevel = .critical
        return logger
    }

    /// Sends `messages` through a pool and returns each message's result by index, plus the summary.
    static func send(
        _ messages: [MailMessage], over transport: any MailTransport,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 1, baseDelay: 0.01, maxDelay: 0.05, jitter: 0),
        maxPerSecond: Double = 0
    ) async -> (results: [Int: DeliveryResult], summary: SenderPool.Summary) {
        let pool = SenderPool(transport: transport, retry: retry, maxPerSecond: maxPerSecond, logger: logger)
        let cursor = LockedValue(0)
        let results = LockedValue([Int: DeliveryResult]())
        let summary = await pool.run(
            next: { () -> (Int, MailMessage)? in
                cursor.withLock { index in
                    guard index < messages.count else { return nil }
                    defer { index += 1 }
                    return (index, messages[index])
                }
            },
            completed: { index, _, result in
                results.withLock { $0[index] = result }
            })
        return (results.withLock { $0 }, summary)
    }

    static func smtp(
        _ url: String, tls: Configuration.TLSMode = .off, connections: Int = 1, timeout: Double = 10,
        username: String? = nil, passwordEnv: String? = nil, caFile: String? = nil
    ) -> Configuration.SMTP {
        Configuration.SMTP(
            url: url, tls: tls, username: username, passwordEnv: passwordEnv, connections: connections,
            timeoutSeconds: timeout, caFile: caFile)
    }
}
