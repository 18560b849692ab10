import Foundation
import Synchronization
import Testing

@testable import DigestCore

/// `GroupCommitRecorder` with two writers: a later group may commit first, but its tickets count as written
/// only once every earlier group is.
@Suite struct GroupCommitRecorderTests {
    @Test func aLaterGroupCommittedFirstWaitsForTheEarlierOne() throws {
        let firstMayFinish = DispatchSemaphore(value: 0)
        let firstStarted = DispatchSemaphore(value: 0)
        let written = Mutex<[[Int]]>([])
        let recorder = GroupCommitRecorder<Int>(
            named: "test-recorder", writers: 2,
            write: { batch in
                if batch.first == 1 {
                    firstStarted.signal()
                    firstMayFinish.wait()
                }
                written.withLock { $0.append(batch) }
            })
        let first = recorder.enqueue([1])
        firstStarted.wait()
        // The first group is in flight: the second goes out on the other writer and commits first.
        let second = recorder.enqueue([2, 3])
        let deadline = Date().addingTimeInterval(10)
        while written.withLock({ $0.count }) < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(written.withLock { $0 } == [[2, 3]])
        let waiting = Mutex<Bool?>(nil)
        Thread.start(named: "test-waiter") {
            let recorded = recorder.waitUntilRecorded(second)
            waiting.withLock { $0 = recorded }
        }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(waiting.withLock { $0 } == nil, "ticket \(second) must wait for the group before it")
        firstMayFinish.signal()
        #expect(recorder.waitUntilRecorded(first))
        #expect(recorder.waitUntilRecorded(second))
        recorder.stop()
        #expect(written.withLock { $0 } == [[2, 3], [1]])
    }

    @Test func aFailedGroupStopsEveryWriterAndIsToldOnce() throws {
        struct Refused: Error {}
        let told = Mutex(0)
        let recorder = GroupCommitRecorder<Int>(
            named: "test-recorder", writers: 2, write: { _ in throw Refused() }, failed: { _ in told.withLock { $0 += 1 } })
        let ticket = recorder.enqueue([1])
        #expect(!recorder.waitUntilRecorded(ticket))
        #expect(recorder.error is Refused)
        recorder.enqueue([2])
        recorder.stop()
        #expect(told.withLock { $0 } == 1)
    }
}
