import Foundation
import Testing

@testable import DigestCore

/// The pool's decisions, event by event, without threads, sockets or sleeps: the time is an input.
@Suite struct SenderPoolStateMachineTests {
    typealias Machine = SenderPool.StateMachine<Int>
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func machine(connections: Int = 2, maxAttempts: Int = 3, relayWide: Int = 5) -> Machine {
        Machine(
            settings: .init(
                retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: 1, maxDelay: 60, jitter: 0),
                connections: connections, relayWideRefusals: relayWide))
    }

    func pending(_ job: Int, at date: Date) -> Machine.Pending {
        Machine.Pending(
            job: job, message: MailTests.message(job, recipient: "r\(job)@d\(job).example", size: 100), attempts: 1,
            last: .transient(reason: ""), due: date)
    }

    /// Fetches one message the way a worker does: asks, gets `.fetch`, reports what it found.
    func take(_ job: Int, _ machine: inout Machine) -> Machine.Pending {
        guard case .fetch = machine.nextStep(now: t0) else {
            Issue.record("expected a fetch")
            return pending(job, at: t0)
        }
        machine.fetched(true)
        return pending(job, at: t0)
    }

    @Test func aTransientFailureIsRetriedAfterItsBackoffThenDeferred() {
        var machine = machine(maxAttempts: 2)
        let first = take(1, &machine)
        let none = machine.attemptEnded(first, outcome: .transient(reason: "451 4.3.0 try later"), configurationProblem: nil, now: t0)
        #expect(none.isEmpty && machine.retries.count == 1 && machine.summary.retries == 1)
        // Not due yet: with the feed empty the worker waits until the retry's time.
        machine.fetched(false)
        guard case .wait(let until) = machine.nextStep(now: t0) else { Issue.record("expected a wait"); return }
        #expect(until == t0.addingTimeInterval(1))
        guard case .send(var retry) = machine.nextStep(now: t0.addingTimeInterval(1)) else {
            Issue.record("expected the retry")
            return
        }
        retry.attempts += 1
        let final = machine.attemptEnded(retry, outcome: .transient(reason: "451 4.3.0 try later"), configurationProblem: nil, now: t0)
        #expect(final.count == 1 && final[0].result.attempts == 2 && !final[0].result.isBounce)
        machine.recorded(final)
        #expect(machine.summary.deferred == 1)
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("expected the end"); return }
    }

    @Test func theBreakerStopsAfterTwoFailuresPerConnectionAndWaitsForMessagesOnTheWire() {
        var machine = machine(connections: 2, maxAttempts: 3)
        var onTheWire: [Machine.Pending] = []
        for job in 0..<5 { onTheWire.append(take(job, &machine)) }
        for job in 0..<3 {
            _ = machine.attemptEnded(onTheWire[job], outcome: .transient(reason: "cannot connect to smtp://relay: refused"), configurationProblem: nil, now: t0)
            #expect(machine.stopped == nil)
        }
        let fourth = machine.attemptEnded(onTheWire[3], outcome: .transient(reason: "timed out after 5s"), configurationProblem: nil, now: t0)
        #expect(machine.stopped?.kind == .relayUnavailable)
        #expect(fourth.count == 1, "a message that fails as the breaker opens is final")
        machine.recorded(fourth)
        // The three queued retries are given up as deferred, then the worker waits for the fifth message.
        guard case .record(let abandoned) = machine.nextStep(now: t0) else { Issue.record("expected the retries"); return }
        #expect(abandoned.map(\.job) == [0, 1, 2] && abandoned.allSatisfy { !$0.result.isBounce })
        machine.recorded(abandoned)
        guard case .wait(nil) = machine.nextStep(now: t0) else { Issue.record("expected to wait for the wire"); return }
        #expect(machine.mayCommit, "a graceful stop lets the message on the wire finish")
        machine.recorded(machine.attemptEnded(onTheWire[4], outcome: .sent(reply: "250 ok"), configurationProblem: nil, now: t0))
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("expected the end"); return }
        #expect(machine.summary.sent == 1 && machine.summary.deferred == 4)
    }

    @Test func aReplyFromTheServerClosesTheBreakerAgain() {
        var machine = machine(connections: 1)
        for job in 0..<10 {
            let outcome: SendOutcome = job.isMultiple(of: 2) ? .transient(reason: "timed out") : .sent(reply: "250 ok")
            _ = machine.attemptEnded(take(job, &machine), outcome: outcome, configurationProblem: nil, now: t0)
        }
        #expect(machine.stopped == nil)
    }

    @Test func theSamePermanentReplyForManyReadersIsTheRelaysAndBouncesNoOne() {
        var machine = machine(relayWide: 4)
        var handed: [SenderPool.Finished<Int>] = []
        for job in 0..<4 {
            let reply = "550 5.1.1 <r\(job)@d\(job).example>: Recipient address rejected: User unknown"
            handed += machine.attemptEnded(take(job, &machine), outcome: .permanent(reason: reply), configurationProblem: nil, now: t0)
            if job < 3 { #expect(handed.isEmpty, "reader refusals are held while the streak lasts") }
        }
        #expect(machine.stopped?.kind == .relayRefusing)
        #expect(handed.count == 4 && handed.allSatisfy { !$0.result.isBounce })
    }

    @Test func aReaderRefusalFollowedBySuccessIsABounce() {
        var machine = machine()
        let refused = machine.attemptEnded(
            take(1, &machine), outcome: .permanent(reason: "550 5.1.1 <a@b.example>: User unknown"), configurationProblem: nil, now: t0)
        #expect(refused.isEmpty)
        let next = machine.attemptEnded(take(2, &machine), outcome: .sent(reply: "250 ok"), configurationProblem: nil, now: t0)
        #expect(next.map(\.job) == [1, 2])
        #expect(next[0].result.isBounce && !next[1].result.isBounce)
    }

    @Test func heldRefusalsAreHandedOverWhenTheFeedRunsOut() {
        var machine = machine()
        _ = machine.attemptEnded(
            take(1, &machine), outcome: .permanent(reason: "550 5.1.1 <a@b.example>: User unknown"), configurationProblem: nil, now: t0)
        machine.fetched(false)
        guard case .record(let held) = machine.nextStep(now: t0) else { Issue.record("expected the held bounce"); return }
        #expect(held.count == 1 && held[0].result.isBounce)
        machine.recorded(held)
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("expected the end"); return }
    }

    @Test func policyAndMailboxFullRefusalsAreNeverBounces() {
        var machine = machine(maxAttempts: 1)
        let relay = machine.attemptEnded(
            take(1, &machine), outcome: .permanent(reason: "554 5.7.1 <a@b.example>: Relay access denied"), configurationProblem: nil, now: t0)
        #expect(relay.count == 1 && !relay[0].result.isBounce)
        let full = machine.attemptEnded(
            take(2, &machine), outcome: .permanent(reason: "552 5.2.2 Mailbox full"), configurationProblem: nil, now: t0)
        #expect(full.count == 1 && !full[0].result.isBounce)
    }

    @Test func aConfigurationProblemStopsAndIsNotTheReaders() {
        var machine = machine()
        let results = machine.attemptEnded(
            take(1, &machine), outcome: .permanent(reason: "535 5.7.8 bad credentials"),
            configurationProblem: "authentication failed", now: t0)
        #expect(machine.stopped?.kind == .configuration)
        #expect(results.count == 1 && results[0].result.isConfigurationFailure && !results[0].result.isBounce)
        machine.recorded(results)
        #expect(machine.summary.deferred == 1 && machine.summary.failed == 0, "kept for a later run")
    }

    @Test(arguments: [SenderPool.StopReason.Kind.signal, .lockLost, .ledgerUnwritable])
    func anImmediateStopLetsNoMessageEndAndDoesNotWaitForTheWire(kind: SenderPool.StopReason.Kind) {
        var machine = machine()
        _ = take(1, &machine)
        _ = machine.attemptEnded(take(2, &machine), outcome: .transient(reason: "451 4.3.0 later"), configurationProblem: nil, now: t0)
        machine.stop(.init(kind, "stop", immediate: true))
        #expect(!machine.mayCommit)
        guard case .record(let abandoned) = machine.nextStep(now: t0) else { Issue.record("expected the retry"); return }
        #expect(abandoned.map(\.job) == [2])
        machine.recorded(abandoned)
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("an immediate stop does not wait"); return }
    }

    @Test func aSecondImmediateStopHardensAGracefulOneAndKeepsTheFirstReason() {
        var machine = machine()
        machine.stop(StopSignals.reason(signal: SIGTERM, count: 1))
        #expect(machine.mayCommit)
        machine.stop(StopSignals.reason(signal: SIGTERM, count: 2))
        #expect(!machine.mayCommit)
        #expect(machine.stopped?.message.contains("SIGTERM received:") == true)
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("nothing in flight: the end"); return }
    }

    @Test func aStoppedRunFetchesNothingMore() {
        var machine = machine()
        machine.stop(.init(.signal, "SIGINT"))
        guard case .finish = machine.nextStep(now: t0) else { Issue.record("expected the end"); return }
    }
}

/// RFC 3463 classification of replies, as the ledger uses it.
@Suite struct ReplyVerdictTests {
    @Test(arguments: [
        ("250 2.0.0 Ok: queued as 4F3A", ReplyVerdict.accepted, true),
        ("550 5.1.1 <a@b>: Recipient address rejected: User unknown", .readerRefused, false),
        ("550 5.7.1 <a@b>: Relay access denied", .relayRefused, false),
        ("554 5.7.1 <a@b>: Relay access denied", .relayRefused, false),
        ("530 5.7.0 Authentication required", .relayRefused, false),
        ("535 5.7.8 Error: authentication failed", .relayRefused, false),
        ("552 5.2.2 Mailbox full", .tryLater, false),
        ("500 5.3.0 Error: command failed", .relayRefused, false),
        ("553 5.1.8 <x@y>: Sender address rejected: Domain not found", .relayRefused, false),
        ("550 Requested action not taken: mailbox unavailable", .readerRefused, false),
        ("554 Transaction failed", .relayRefused, false),
        ("451 4.3.0 Error: queue file write error", .tryLater, true),
        ("421 4.4.2 closing: idle", .relayUnavailable, true),
        ("timed out after 5s talking to relay: Operation timed out", .relayUnavailable, true),
        ("cannot connect to smtp://127.0.0.1:1: Couldn't connect to server", .relayUnavailable, true),
    ])
    func classifies(reply: String, verdict: ReplyVerdict, transient: Bool) {
        let outcome: SendOutcome =
            reply.hasPrefix("2") ? .sent(reply: reply) : transient ? .transient(reason: reply) : .permanent(reason: reply)
        #expect(ReplyVerdict(outcome) == verdict)
    }

    @Test func groupedReasonsLeaveOutWhatIsUniqueToOneMessage() {
        #expect(
            ReplyText.grouped("550 5.1.1 <r1@example.com>: Recipient address rejected")
                == ReplyText.grouped("550 5.1.1 <r2@example.org>: Recipient address rejected"))
        #expect(
            ReplyText.grouped("maildir: cannot write /var/lib/digest/outbox/tmp/1764150000.M123P45.host: No space left on device")
                == "maildir: cannot write …: No space left on device")
        #expect(
            ReplyText.grouped("timed out after 5.0s talking to relay: Operation timed out after 5001 milliseconds with 0 bytes received")
                == ReplyText.grouped("timed out after 5.0s talking to relay: Operation timed out after 5003 milliseconds with 0 bytes received"))
        #expect(ReplyText.grouped(String(repeating: "word ", count: 100)).count <= 162)
    }
}
