import NIOCore

/// Runs a task's jobs on an event loop's thread, so the async code that postgres-nio's prepared statements
/// need never waits for Swift concurrency's cooperative threads. The store's callers block a thread while
/// a statement runs, and they may be those very threads (two on this machine, and every test of Swift
/// Testing runs on them): a task on the cooperative pool could then wait behind its own caller for good.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: UnownedJob) {
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
