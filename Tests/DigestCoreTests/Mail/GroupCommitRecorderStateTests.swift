import Testing

@testable import DigestCore

/// `GroupCommitRecorder.State`: the queue, the tickets and the barrier, event by event, without threads. The
/// writers are played by the test: it asks `writerNext()` for a group and reports it written or failed.
@Suite struct GroupCommitRecorderStateTests {
    typealias State = GroupCommitRecorder<Int>.State
    struct Refused: Error {}

    /// The group a writer is handed, or nil for any other step.
    func group(_ step: State.WriterStep) -> (entries: [Int], first: Int)? {
        if case .write(let entries, let first) = step { return (entries, first) }
        return nil
    }

    func isWait(_ step: State.WriterStep) -> Bool {
        if case .wait = step { return true }
        return false
    }

    func isExit(_ step: State.WriterStep) -> Bool {
        if case .exit = step { return true }
        return false
    }

    // MARK: Group commit

    @Test func everythingQueuedSinceTheLastWriteGoesOutAsOneGroup() throws {
        var state = State(writers: 1)
        #expect(isWait(state.writerNext()))
        #expect(state.enqueue([1]) == .queued(ticket: 1))
        #expect(state.enqueue([2, 3]) == .queued(ticket: 3))
        #expect(state.barrier(0) == .recorded, "ticket 0: nothing to wait for")
        #expect(state.barrier(1) == .wait)
        let written = try #require(group(state.writerNext()))
        #expect(written.entries == [1, 2, 3] && written.first == 0)
        #expect(isWait(state.writerNext()), "nothing queued while the group is written")
        #expect(state.enqueue([4]) == .queued(ticket: 4))
        state.written(first: 0, count: 3)
        #expect(state.barrier(3) == .recorded)
        #expect(state.barrier(4) == .wait)
        // An empty hand-over returns the current ticket.
        #expect(state.enqueue([]) == .queued(ticket: 4))
        let next = try #require(group(state.writerNext()))
        #expect(next.entries == [4] && next.first == 3)
    }

    // MARK: Several writers

    /// Two writers, three groups in flight, committed last to first: each ticket counts as written only once
    /// every entry before it is.
    @Test func groupsCommittedOutOfOrderMoveTheBarrierOnlyInOrder() throws {
        var state = State(writers: 2)
        _ = state.enqueue([1])
        let first = try #require(group(state.writerNext()))
        _ = state.enqueue([2, 3])
        let second = try #require(group(state.writerNext()))
        _ = state.enqueue([4])
        let third = try #require(group(state.writerNext()))
        #expect(first.first == 0 && second.first == 1 && third.first == 3)
        #expect(second.entries == [2, 3])

        state.written(first: third.first, count: third.entries.count)
        state.written(first: second.first, count: second.entries.count)
        #expect(state.written == 0 && state.writtenAhead == [1: 3, 3: 4])
        #expect(state.barrier(3) == .wait && state.barrier(4) == .wait)

        state.written(first: first.first, count: first.entries.count)
        #expect(state.written == 4 && state.writtenAhead.isEmpty)
        #expect(state.barrier(4) == .recorded)
    }

    // MARK: A failed write

    @Test func aFailedWriteFailsTheBarrierAndDropsWhatComesLater() throws {
        var state = State(writers: 2)
        _ = state.enqueue([1])
        let failing = try #require(group(state.writerNext()))
        #expect(state.enqueue([2]) == .queued(ticket: 2))
        let toldFirst = state.writeFailed()
        #expect(toldFirst, "the first failure is told")
        // Until it is told, the waiters keep waiting: the stop they then meet carries the cause.
        #expect(state.barrier(failing.entries.count) == .wait)
        let toldSecond = state.writeFailed()
        #expect(!toldSecond, "a second writer's failure is not told again")
        state.failureTold(Refused())
        #expect(state.failure is Refused)
        #expect(state.queue.isEmpty, "what was queued after it is dropped")
        #expect(state.barrier(1) == .never && state.barrier(2) == .never)
        #expect(state.barrier(0) == .recorded)
        // Later entries are dropped; their ticket is one that is never written.
        #expect(state.enqueue([3]) == .dropped(ticket: 2))
        #expect(state.barrier(2) == .never)
        // Both writers end.
        #expect(isExit(state.writerNext()))
        #expect(isExit(state.writerNext()))
        #expect(state.hasEnded)
    }

    /// A group written while the failing one was in flight still counts, up to the failed group.
    @Test func aGroupWrittenBeforeTheFailedOneStaysRecorded() throws {
        var state = State(writers: 2)
        _ = state.enqueue([1])
        let ok = try #require(group(state.writerNext()))
        _ = state.enqueue([2])
        _ = try #require(group(state.writerNext()))
        _ = state.writeFailed()
        state.failureTold(Refused())
        state.written(first: ok.first, count: ok.entries.count)
        #expect(state.barrier(1) == .recorded)
        #expect(state.barrier(2) == .never)
    }

    // MARK: Stop

    @Test func stopWritesWhatIsQueuedThenEndsTheWriters() throws {
        var state = State(writers: 2)
        _ = state.enqueue([1, 2])
        state.stop()
        let last = try #require(group(state.writerNext()))
        #expect(last.entries == [1, 2])
        // The other writer has nothing to do: it ends; the one writing is still running.
        #expect(isExit(state.writerNext()))
        #expect(!state.hasEnded)
        #expect(state.barrier(2) == .wait)
        state.written(first: last.first, count: last.entries.count)
        #expect(state.barrier(2) == .recorded)
        #expect(isExit(state.writerNext()))
        #expect(state.hasEnded)
        // Nothing is queued once the writers are gone.
        #expect(state.enqueue([3]) == .dropped(ticket: 2))
        #expect(state.barrier(2) == .recorded)
    }

    /// Once the writers have ended no waiter waits, whatever ticket it holds: what is not written by then
    /// never will be.
    @Test func noWaiterWaitsOnceTheWritersHaveEnded() {
        var state = State(writers: 1)
        state.stop()
        #expect(state.barrier(1) == .wait, "the writer has not ended yet")
        #expect(isExit(state.writerNext()))
        #expect(state.hasEnded)
        #expect(state.barrier(1) == .never)
        #expect(state.barrier(0) == .recorded)
    }
}
