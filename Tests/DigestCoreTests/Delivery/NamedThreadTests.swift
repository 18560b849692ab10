import Foundation
import Testing

@testable import DigestCore

/// The composer and recorder threads yield to the senders: they run 10 nice steps below the thread
/// that started them (a new thread starts with its creator's nice value).
struct NamedThreadTests {
    private static func currentNice() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    /// The creating thread's nice value, and the new thread's name (as the system shows it) and nice
    /// value, read on the new thread itself.
    private func startAndInspect(background: Bool) async -> (creator: Int32, name: String, nice: Int32) {
        await withCheckedContinuation { continuation in
            let creator = Self.currentNice()
            Thread.start(named: background ? "test-background" : "test-foreground", background: background) {
                let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                continuation.resume(returning: (creator, name.trimmingCharacters(in: .newlines), Self.currentNice()))
            }
        }
    }

    @Test func backgroundThreadRunsTenNiceStepsLower() async {
        let background = await startAndInspect(background: true)
        #expect(background.name == "test-background")
        #expect(background.nice == min(19, background.creator + 10))
        let foreground = await startAndInspect(background: false)
        #expect(foreground.name == "test-foreground")
        #expect(foreground.nice == foreground.creator)
    }
}
