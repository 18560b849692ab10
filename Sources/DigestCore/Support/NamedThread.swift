import Foundation

extension Thread {
    /// Starts `body` on a new thread named `name` (at most 15 bytes show), the name `top -H`, `ps -L`
    /// and perf report. Foundation's `Thread.name`, set before `start()`, does not reach the system
    /// thread on Linux, so the thread names itself.
    ///
    /// - Parameter background: the thread runs at a nice value 10 above its creator's (at most 19),
    ///   for work that runs ahead of or behind the threads that wait on the network: when a reply wakes
    ///   one of those, the scheduler hands it the CPU at once instead of letting background work finish
    ///   its slice first. Raising one's own nice value needs no privilege.
    static func start(named name: String, background: Bool = false, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameThisThread(name)
            if background { lowerThisThreadPriority(by: 10) }
            body()
        }
        thread.name = name
        thread.start()
    }
}

/// Writes the name to /proc/thread-self/comm (what `pthread_setname_np` does on Linux; Glibc's
/// Swift module does not export that GNU extension).
private func nameThisThread(_ name: String) {
    let file = open("/proc/thread-self/comm", O_WRONLY)
    guard file >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    close(file)
}

/// On Linux the nice value belongs to each thread, and `PRIO_PROCESS` with id 0 names the calling one.
private func lowerThisThreadPriority(by steps: Int32) {
    errno = 0
    let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    guard errno == 0 else { return }
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, current + steps))
}
