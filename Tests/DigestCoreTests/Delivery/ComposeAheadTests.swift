import Foundation
import Synchronization
import Testing

@testable import DigestCore

struct ComposeAheadTests {
    final class Counters: Sendable {
        let live = Mutex(0)
        let produced = Mutex(0)
    }

    /// Counts its live instances, so a test sees what is still referenced.
    final class Tracked: Sendable {
        let counters: Counters
        init(_ counters: Counters) {
            self.counters = counters
            counters.live.withLock { $0 += 1 }
        }
        deinit { counters.live.withLock { $0 -= 1 } }
    }

    /// A composer that is always ahead (the buffer is full every time a sender takes) holds only what it
    /// has ready: a taken message is released once its sender is done with it, not when the buffer
    /// next runs empty (which a fast composer may never let happen between two claims).
    @Test func takenItemsAreReleasedWhileTheComposerStaysAhead() async throws {
        let capacity = 4
        let counters = Counters()
        let ahead = ComposeAhead<Tracked>(capacity: capacity) {
            counters.produced.withLock { produced -> Tracked? in
                guard produced < 300 else { return nil }
                produced += 1
                return Tracked(counters)
            }
        }
        for taken in 0..<200 {
            // Wait until the composer has filled the buffer again: it never runs empty.
            while counters.produced.withLock({ $0 }) < taken + capacity { try await Task.sleep(for: .milliseconds(1)) }
            #expect(ahead.next() != nil)
        }
        #expect(counters.live.withLock { $0 } <= capacity + 1)
        #expect(ahead.stop() <= capacity)
        #expect(counters.live.withLock { $0 } == 0)
    }

    @Test func endsWithNilOnceTheComposerHasNoMore() {
        let counters = Counters()
        let ahead = ComposeAhead<Tracked>(capacity: 2) {
            counters.produced.withLock { produced -> Tracked? in
                guard produced < 5 else { return nil }
                produced += 1
                return Tracked(counters)
            }
        }
        var taken = 0
        while ahead.next() != nil { taken += 1 }
        #expect(taken == 5)
        #expect(ahead.next() == nil)
        ahead.stop()
    }
}
