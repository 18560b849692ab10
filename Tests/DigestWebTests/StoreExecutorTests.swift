import DigestCore
import Foundation
import Logging
import Testing

@testable import DigestWeb

/// The executor that keeps store calls off Swift concurrency's threads: its state machine event by
/// event, then the real thing with calls that block on purpose.
@Suite struct StoreExecutorTests {
    typealias State = PendingStoreCall<Int>.State<String>

    @Test func aCallThatEndsInTimeIsAnsweredWithItsResult() {
        var state = State()
        let waitAction = state.wait("continuation")
        #expect(waitAction == .submit)
        let started = state.start()
        #expect(started)
        let finishResumes = state.finish()
        #expect(finishResumes == "continuation")
        let expireResumes = state.expire(.seconds(5))
        #expect(expireResumes == nil, "a call answered is never answered again")
    }

    @Test func aDeadlineWhileRunningAnswersOnceAndDropsTheResult() {
        var state = State()
        _ = state.wait("continuation")
        let started = state.start()
        #expect(started)
        let expireResumes = state.expire(.seconds(5))
        #expect(expireResumes == "continuation")
        let finishResumes = state.finish()
        #expect(finishResumes == nil)
    }

    @Test func aCallWhoseDeadlinePassedWhileWaitingNeverStarts() {
        var state = State()
        _ = state.wait("continuation")
        let expireResumes = state.expire(.seconds(5))
        #expect(expireResumes == "continuation")
        let startedLate = state.start()
        #expect(!startedLate, "the thread that picks it up later skips it")
        #expect(!state.started)
    }

    @Test func aDeadlineBeforeTheContinuationFailsItAtOnce() {
        var state = State()
        let expireResumes = state.expire(.seconds(1))
        #expect(expireResumes == nil)
        let waitAction = state.wait("continuation")
        #expect(waitAction == .fail(.seconds(1)))
        let startedAfterFailure = state.start()
        #expect(!startedAfterFailure)
    }

    @Test func blockedCallsTimeOutQueuedOnesNeverRunAndTheCapRefusesAtOnce() async throws {
        let fixture = try WebFixture()
        let executor = StoreExecutor(
            store: fixture.store, threads: 1, capacity: 3, timeout: .milliseconds(300), logger: Logger(label: "test"))
        let gate = DispatchSemaphore(value: 0)
        let ran = Collected<String>()

        // The only thread blocks; the call's caller hears of it at its deadline, not when it ends.
        let blocked = Task {
            try await executor.run { _ in
                ran.append("ran")
                gate.wait()
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        // Queued behind it: times out too, and must never run once the thread is free.
        let queued = Task {
            try await executor.run { store in
                ran.append("ran")
                return try store.pendingDeliveryCount()
            }
        }
        let third = Task { try await executor.run { _ in 3 } }
        try await Task.sleep(for: .milliseconds(50))
        // Refused at once (not after waiting out a deadline of its own).
        #expect(await reason { try await executor.run { _ in 4 } } == .busy, "a fourth call over the cap of 3")
        // Each answered at its deadline, while the blocked call still holds the thread.
        #expect(await reason { try await blocked.value } == .timedOut(.milliseconds(300)))
        #expect(await reason { try await queued.value } == .timedOut(.milliseconds(300)))
        #expect(await reason { try await third.value } == .timedOut(.milliseconds(300)))
        gate.signal()
        // Expired calls still count until their thread has skipped them.
        let freed = ContinuousClock.now + .seconds(2)
        while executor.pendingCalls > 0, ContinuousClock.now < freed { try await Task.sleep(for: .milliseconds(10)) }
        // The thread is free: a new call runs and answers, and the expired ones were skipped.
        #expect(try await executor.run { _ in 42 } == 42)
        #expect(ran.withLock { $0.count } == 1, "only the call that had started ran")
        #expect(executor.pendingCalls == 0)
    }

    /// Why `body` found the store unavailable; nil when it did not throw that.
    func reason(_ body: () async throws -> some Any) async -> StoreUnavailable.Reason? {
        do {
            _ = try await body()
            return nil
        } catch {
            return (error as? StoreUnavailable)?.reason
        }
    }

    @Test func errorsOfTheCallReachTheCaller() async throws {
        let fixture = try WebFixture()
        let executor = StoreExecutor(store: fixture.store, timeout: .seconds(5), logger: Logger(label: "test"))
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await executor.run { _ in throw Refused() } }
    }
}
