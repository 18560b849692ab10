import Foundation
import Synchronization
import Testing

@testable import DigestCore

/// The pool's threads carrying out the state machine, over a scripted transport: what each connection
/// does is decided by the test, so the barrier and the stop events are checked without a network.
@Suite struct SenderPoolScriptedTests {
    /// Accepts every message whose barrier lets it end; `script` may stop the run or fail a message.
    final class ScriptedTransport: MailTransport, @unchecked Sendable {
        let connections: Int
        let accepted = Mutex<[String]>([])
        let script: @Sendable (Int) -> SendOutcome?
        private let counter = Mutex(0)

        init(connections: Int, script: @escaping @Sendable (Int) -> SendOutcome? = { _ in nil }) {
            self.connections = connections
            self.script = script
        }

        func makeConnection() throws -> any MailConnection { Connection(transport: self) }

        final class Connection: MailConnection {
            let transport: ScriptedTransport
            init(transport: ScriptedTransport) { self.transport = transport }
            var isUsable: Bool { true }
            func send(_ message: MailMessage) -> SendOutcome { send(message, beforeEnd: { true }) }
            func send(_ message: MailMessage, beforeEnd: () -> Bool) -> SendOutcome {
                let number = transport.counter.withLock { count in
                    count += 1
                    return count
                }
                if let scripted = transport.script(number) { return scripted }
                guard beforeEnd() else { return .transient(reason: "not sent: sending stopped before the end of data") }
                transport.accepted.withLock { $0.append(message.messageID) }
                return .sent(reply: "250 2.0.0 Ok")
            }
        }
    }

    func feed(_ count: Int) -> @Sendable () -> (Int, MailMessage)? {
        let cursor = Mutex(0)
        return {
            cursor.withLock { index in
                guard index < count else { return nil }
                defer { index += 1 }
                return (index, MailTests.message(index, size: 200))
            }
        }
    }

    @Test(arguments: [1, 4])
    func aLedgerThatCannotBeWrittenStopsSendingWithAtMostOneUnrecordedMessagePerConnection(connections: Int) async {
        struct DiskFull: Error {}
        let transport = ScriptedTransport(connections: connections)
        let pool = SenderPool(transport: transport, retry: RetryPolicy(maxAttempts: 1), logger: MailTests.logger)
        let recorded = Mutex<[String]>([])
        let batches = Mutex(0)
        let summary = await pool.run(
            next: feed(2_000),
            record: { batch in
                let number = batches.withLock { count in
                    count += 1
                    return count
                }
                if number == 20 { throw DiskFull() }
                recorded.withLock { $0 += batch.map(\.message.messageID) }
            })
        #expect(summary.stopKind == .ledgerUnwritable)
        let accepted = transport.accepted.withLock { $0 }
        let written = recorded.withLock { Set($0) }
        let unrecorded = accepted.filter { !written.contains($0) }
        #expect(accepted.count < 2_000, "sending stopped")
        #expect(unrecorded.count <= connections, "\(unrecorded.count) accepted but unrecorded over \(connections) connections")
    }

    @Test func aGracefulStopFinishesTheMessagesOnTheWireAndRecordsThem() async {
        let control = SenderPool.Control()
        let transport = ScriptedTransport(connections: 3) { number in
            if number == 50 { control.stop(.init(.signal, "SIGTERM received")) }
            return nil
        }
        let pool = SenderPool(transport: transport, retry: RetryPolicy(maxAttempts: 1), logger: MailTests.logger)
        let recorded = Mutex<[String]>([])
        let summary = await pool.run(
            next: feed(1_000), record: { batch in recorded.withLock { $0 += batch.map(\.message.messageID) } },
            control: control)
        #expect(summary.stopKind == .signal)
        let accepted = transport.accepted.withLock { $0 }
        #expect(accepted.count >= 49 && accepted.count < 1_000)
        #expect(Set(accepted) == Set(recorded.withLock { $0 }), "everything accepted is recorded")
        #expect(summary.sent == accepted.count)
    }

    @Test func aLostLockStopsBeforeTheNextEndOfData() async {
        let transport = ScriptedTransport(connections: 2)
        let pool = SenderPool(transport: transport, retry: RetryPolicy(maxAttempts: 1), logger: MailTests.logger)
        let checks = Mutex(0)
        let recorded = Mutex(0)
        let recorder = GroupCommitRecorder<SenderPool.Finished<Int>>(
            named: "test-recorder", write: { batch in recorded.withLock { $0 += batch.count } })
        let summary = await pool.run(
            next: feed(500),
            recording: .init(enqueue: { recorder.enqueue($0) }, waitUntilRecorded: { recorder.waitUntilRecorded($0) }),
            control: SenderPool.Control(),
            mayCommit: {
                let number = checks.withLock { count in
                    count += 1
                    return count
                }
                return number > 30 ? RunLease.lostReason : nil
            })
        recorder.stop()
        #expect(summary.stopKind == .lockLost)
        #expect(transport.accepted.withLock { $0.count } == 30, "no message ends once the lease is gone")
        #expect(recorded.withLock { $0 } >= 30)
    }
}
