import DigestCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Sends confirmation mails in the background: a request only queues the message; this service
/// (run by the application's service group) hands the queue to a `SenderPool`, whose own threads
/// talk to the transport. A request never waits for SMTP.
///
/// On graceful shutdown the queue is drained before the service returns. A mail still lost (a
/// crash) only costs the reader a second sign-up once the resend interval has passed.
final class ConfirmationMailer: Service, Sendable {
    let pool: SenderPool
    private let logger: Logger
    private let queue = Mutex<[MailMessage]>([])
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Called on a sender thread with each final result (tests watch it).
    let onResult: (@Sendable (MailMessage, DeliveryResult) -> Void)?

    init(pool: SenderPool, logger: Logger, onResult: (@Sendable (MailMessage, DeliveryResult) -> Void)? = nil) {
        self.pool = pool
        self.logger = logger
        self.onResult = onResult
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `message`; returns at once.
    func enqueue(_ message: MailMessage) {
        queue.withLock { $0.append(message) }
        wake.yield()
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakeUps { await drain() }
        } onGracefulShutdown: { [wake] in
            wake.finish()
        }
        await drain()
    }

    /// Sends everything queued, including what arrives while sending.
    private func drain() async {
        guard !queue.withLock({ $0.isEmpty }) else { return }
        let logger = logger
        let onResult = onResult
        await pool.run(
            next: { [self] in
                self.queue.withLock { $0.isEmpty ? nil : ((), $0.removeFirst()) }
            },
            completed: { _, message, result in
                let metadata: Logger.Metadata = [
                    "mail.messageID": "\(message.messageID)", "mail.reply": "\(result.outcome.text)",
                ]
                if case .sent = result.outcome {
                    logger.info("confirmation mail sent", metadata: metadata)
                } else {
                    logger.warning("confirmation mail not sent", metadata: metadata)
                }
                onResult?(message, result)
            })
    }
}
