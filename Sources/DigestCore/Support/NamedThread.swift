import Foundation

extension Thread {
    /// Starts `body` on a new thread named `name` (at most 15 bytes show), the name `top -H`, `ps -L`
    /// and perf report. Foundation's `Thread.name`, set before `start()`, does not reach the system
    /// thread on Linux, so the thread names itself.
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameThisThread(name)
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
