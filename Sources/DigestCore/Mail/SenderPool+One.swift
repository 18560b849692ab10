import Synchronization

extension SenderPool {
    /// Sends one message through the pool (its retries included) and returns the final result:
    /// `digest send --to` uses it to check a relay with a real digest. Nothing is recorded.
    public func sendOne(_ message: MailMessage) async -> DeliveryResult {
        let taken = Mutex(false)
        let result = Mutex<DeliveryResult?>(nil)
        let summary = await run(
            next: {
                taken.withLock { done in
                    defer { done = true }
                    return done ? nil : ((), message)
                }
            },
            completed: { _, _, outcome in result.withLock { $0 = outcome } })
        return result.withLock { $0 }
            ?? DeliveryResult(outcome: .transient(reason: summary.stoppedBecause ?? "not sent"), attempts: 0)
    }
}
