import Foundation
import Testing

@testable import DigestCore

/// Throughput of the pool + libcurl transport against smtp-sink (no dumping), 25 KB messages.
/// A benchmark, not a timed test: runs only with DIGEST_BENCHMARK=1 and prints messages per second,
/// to compare with DESIGN.md's anchors (smtp-source ≈ 2,350/s on 1 connection, a C libcurl sender ≈ 4,800 on 4).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DIGEST_BENCHMARK"] == "1"))
struct SMTPThroughputBenchmark {
    @Test(arguments: [1, 4, 8]) func messagesPerSecond(connections: Int) async throws {
        let sink = try SMTPSinkServer(dump: false)
        let transport = try SMTPTransport(settings: MailTests.smtp(sink.url, connections: connections))
        let messages = (0..<3_000).map { MailTests.message($0, size: 25_000) }
        let started = Date()
        let (_, summary) = await MailTests.send(messages, over: transport)
        let seconds = Date().timeIntervalSince(started)
        #expect(summary.sent == messages.count)
        sink.waitForSessions(atLeast: connections, timeout: 1)
        sink.stop()
        #expect(sink.messageCount == messages.count)
        let time = String(format: "%.2f", seconds)
        print(
            "benchmark: \(connections) connection(s): \(messages.count) × 25 KB in \(time) s "
                + "= \(Int(Double(messages.count) / seconds)) msg/s (\(sink.sessionCount) sessions)")
    }
}
