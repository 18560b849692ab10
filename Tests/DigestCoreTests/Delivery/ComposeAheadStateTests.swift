import Foundation
import Synchronization
import Testing

@testable import DigestCore

/// `ComposeAhead.State`: every transition of the compose-ahead buffer, without threads.
struct ComposeAheadStateTests {
    typealias State = ComposeAhead<String>.State

    func taken(_ action: State.TakeAction) -> String? {
        if case .take(let item, _) = action { return item }
        return nil
    }

    func finishing(_ action: State.FinisherAction) -> (Int, String)? {
        if case .finish(let number, let item) = action { return (number, item) }
        return nil
    }

    func wakes(_ action: State.TakeAction) -> State.Wakes? {
        if case .take(_, let wakes) = action { return wakes }
        return nil
    }

    @Test func withoutFinishersAComposedItemIsReadyAtOnce() {
        var state = State(capacity: 2, finishes: false)
        #expect(state.composerNext() == .compose)
        // The first item wakes a sender; the next, behind it, wakes nobody: the sender that takes the first
        // wakes another for it.
        #expect(state.composed("a") == .sender)
        #expect(state.composed("b") == [])
        let first = state.take()
        #expect(taken(first) == "a" && wakes(first) == [.composer, .sender])
        let second = state.take()
        #expect(taken(second) == "b" && wakes(second) == .composer)
        if case .wait = state.take() {} else { Issue.record("an empty buffer waits for the composer") }
        #expect(state.composed(nil) == .everyone)
        if case .end = state.take() {} else { Issue.record("no more once the composer is exhausted") }
        #expect(state.composerNext() == .exit)
    }

    @Test func theComposerWaitsAtCapacityUntilASenderTakes() {
        var state = State(capacity: 2, finishes: false)
        _ = state.composed("a")
        _ = state.composed("b")
        #expect(state.composerNext() == .wait)
        #expect(taken(state.take()) == "a")
        #expect(state.composerNext() == .compose)
    }

    /// Items being signed count against the capacity: the buffer never holds more than `capacity` messages.
    @Test func itemsBeingFinishedCountAgainstTheCapacity() {
        var state = State(capacity: 2, finishes: true)
        #expect(state.composed("a") == .finisher)
        #expect(state.composed("b") == .finisher)
        _ = state.finisherNext()
        _ = state.finisherNext()
        #expect(state.composerNext() == .wait)
    }

    /// Two finishers; the second item is finished first. The senders still get "a" before "b", and only
    /// once "a" is finished; finishing "b" first wakes no sender (it could not take it).
    @Test func sendersGetItemsInComposingOrderWhicheverFinisherEndsFirst() throws {
        var state = State(capacity: 4, finishes: true)
        _ = state.composed("a")
        _ = state.composed("b")
        if case .wait = state.take() {} else { Issue.record("an unsigned item is never handed out") }
        let first = try #require(finishing(state.finisherNext()))
        let second = try #require(finishing(state.finisherNext()))
        #expect(first.0 == 0 && first.1 == "a")
        #expect(second.0 == 1 && second.1 == "b")
        if case .wait = state.finisherNext() {} else { Issue.record("nothing left to finish: wait") }
        #expect(state.finished(number: second.0, "B") == [])
        if case .wait = state.take() {} else { Issue.record("b is ready but a is not: wait for a") }
        #expect(state.finished(number: first.0, "A") == .sender)
        let a = state.take()
        #expect(taken(a) == "A" && wakes(a) == [.composer, .sender])
        #expect(taken(state.take()) == "B")
    }

    /// A sender that takes between a finisher's start and end moves the slots; the finished item still lands
    /// in its own slot.
    @Test func anItemFinishedAfterEarlierOnesWereTakenLandsInItsSlot() throws {
        var state = State(capacity: 4, finishes: true)
        for item in ["a", "b", "c"] { _ = state.composed(item) }
        let a = try #require(finishing(state.finisherNext()))
        let b = try #require(finishing(state.finisherNext()))
        _ = state.finished(number: a.0, "A")
        #expect(taken(state.take()) == "A")
        let c = try #require(finishing(state.finisherNext()))
        #expect(c.0 == 2)
        #expect(state.finished(number: c.0, "C") == [])
        #expect(state.finished(number: b.0, "B") == .sender)
        #expect(taken(state.take()) == "B")
        #expect(taken(state.take()) == "C")
        #expect(state.taken == 3 && state.slots.isEmpty)
    }

    @Test func finishersEndOnceTheComposerIsExhaustedAndNothingIsLeftToFinish() throws {
        var state = State(capacity: 4, finishes: true)
        _ = state.composed("a")
        #expect(state.composed(nil) == .everyone)
        let a = try #require(finishing(state.finisherNext()))
        if case .exit = state.finisherNext() {} else { Issue.record("nothing left and no more to come: exit") }
        if case .wait = state.take() {} else { Issue.record("a is still being finished") }
        _ = state.finished(number: a.0, "A")
        let last = state.take()
        #expect(taken(last) == "A" && wakes(last) == [], "the composer has exited: nobody to wake")
        if case .end = state.take() {} else { Issue.record("all taken and the composer is exhausted: end") }
    }

    /// A stop ends everyone at their next step; what was composed and never taken (signed or not) is counted
    /// once the threads are gone, for the caller to put back in the queue.
    @Test func aStopEndsEveryoneAndCountsWhatWasNeverTaken() throws {
        var state = State(capacity: 4, finishes: true)
        for item in ["a", "b", "c"] { _ = state.composed(item) }
        let a = try #require(finishing(state.finisherNext()))
        #expect(state.stop() == .everyone)
        #expect(state.composerNext() == .exit)
        if case .exit = state.finisherNext() {} else { Issue.record("a stopped finisher exits") }
        if case .end = state.take() {} else { Issue.record("a stopped buffer hands out nothing") }
        // The finisher that was signing "a" reports it after the stop.
        _ = state.finished(number: a.0, "A")
        // So does a composer that was composing.
        _ = state.composed("d")
        #expect(state.drain() == 4)
        #expect(state.slots.isEmpty)
    }
}

/// `ComposeAhead` with finishing threads: the order holds under real threads and uneven finishing times.
struct ComposeAheadFinishingTests {
    @Test func manyFinishersKeepTheComposingOrder() {
        let produced = Mutex(0)
        let finishedAt = Mutex<[Int]>([])
        let ahead = ComposeAhead<Int>(
            capacity: 8, finishers: 4,
            produce: {
                produced.withLock { count -> Int? in
                    guard count < 500 else { return nil }
                    count += 1
                    return count
                }
            },
            finish: { item in
                // Uneven work, so later items often finish before earlier ones.
                usleep(UInt32.random(in: 0...300))
                finishedAt.withLock { $0.append(item) }
                return -item
            })
        var taken: [Int] = []
        while let item = ahead.next() { taken.append(item) }
        #expect(taken == (1...500).map { -$0 })
        #expect(ahead.stop() == 0)
        let order = finishedAt.withLock { $0 }
        #expect(order.count == 500)
        #expect(order != order.sorted(), "the finishers ran at once, out of order (retry on a quiet machine)")
    }

    /// `stop()` returns only once the finishers are done with the items in their hands.
    @Test func stopWaitsForTheFinishers() {
        let inFinish = Mutex(0)
        let ahead = ComposeAhead<Int>(
            capacity: 4, finishers: 2, produce: { 1 },
            finish: { item in
                inFinish.withLock { $0 += 1 }
                usleep(20_000)
                inFinish.withLock { $0 -= 1 }
                return item
            })
        #expect(ahead.next() == 1)
        let left = ahead.stop()
        #expect(inFinish.withLock { $0 } == 0)
        #expect(left <= 4)
        #expect(ahead.next() == nil)
    }
}
