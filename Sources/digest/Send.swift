import ArgumentParser
import DigestCore
import Foundation
import Logging
import Synchronization

extension DigestCommand {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly run: send each due reader their digest. Safe to run every hour.",
            discussion: """
                Run it from cron every hour (0 * * * *): each reader gets each edition once, at or after \
                their delivery hour in their time zone. On SQLite a second run that overlaps exits at once (or \
                waits with --wait); on PostgreSQL runs started together share the work (cooperating senders, \
                on one machine or many), and a worker that dies is taken over by the others once its lease \
                (send.leaseSeconds) runs out. A run that was killed is finished by the next one.

                Exit status: 0 when everything due was delivered or skipped; 75 (EX_TEMPFAIL) when some \
                deliveries are deferred to a later run or sending stopped early (SIGTERM/SIGINT/SIGHUP, a lost \
                run lock, a relay that is down or refuses every reader); 1 on an error (the ledger cannot be \
                written, the database is missing) or a permanent failure.

                The first SIGTERM, SIGINT or SIGHUP lets the messages on the wire finish and be recorded, then \
                writes the run report and exits 75; a second one stops at once.

                --to ADDRESS sends one preview digest to ADDRESS through the configured transport (for \
                checking a relay) and records nothing.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(
            help: "Send this edition (YYYY-MM-DD) to every active reader who has not had it, now.", transform: Day.argument)
        var date: Day?
        @Flag(help: "Render every due message and report, but send and record nothing.") var dryRun = false
        @Option(help: "Act as if it were this instant (ISO 8601), for testing schedules.") var now: String?
        @Flag(help: "If another run holds the lock, wait for it instead of exiting.") var wait = false
        @Option(help: "Send one preview digest to this address and stop (nothing recorded).") var to: String?

        func validate() throws {
            if let now, DateParsing.iso8601(now) == nil {
                throw ValidationError("--now must be an ISO 8601 instant such as 2026-11-24T06:00:00Z, not \"\(now)\"")
            }
        }

        func run() async throws {
            let (configuration, store) = try options.open()
            let logger = options.logger
            let composer = try await DigestComposer.make(configuration: configuration)
            let pool = try SenderPool(mail: configuration.mail, logger: logger)
            let instant = now.flatMap(DateParsing.iso8601)
            if let to {
                try await testSend(to: to, store: store, composer: composer, pool: pool, now: instant ?? Date())
                return
            }
            let clock: @Sendable () -> Date
            if let instant { clock = { instant } } else { clock = { Date() } }
            let runner = DeliveryRunner(store: store, composer: composer, pool: pool, logger: logger, clock: clock)
            let reporter = ProgressReporter()
            var options = DeliveryRunner.Options(date: date, dryRun: dryRun, wait: wait)
            options.lease = TimeInterval(configuration.send.leaseSeconds)
            let signals = StopSignals(stopping: runner)
            defer { signals.cancel() }
            let summary = try await runner.run(options, progress: { reporter.update($0) })
            reporter.finish()
            if let traffic = store.traffic {
                // What the run cost in round trips to the database (`make bench` reads it with --verbose).
                logger.debug(
                    "database traffic",
                    metadata: ["database.statements": "\(traffic.statements)", "database.roundTrips": "\(traffic.roundTrips)"])
            }
            for line in summary.lines { print(line) }
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }

        private func testSend(to: String, store: Store, composer: DigestComposer, pool: SenderPool, now: Date) async throws {
            let address = try EmailAddress(to)
            let preview = DigestPreview(composer: composer, store: store)
            let (_, digest) = try preview.testDigest(date: date, to: address, now: now)
            let result = await pool.sendOne(digest.message)
            switch result.outcome {
            case .sent(let reply): print("sent to \(address) as \(digest.message.messageID): \(reply)")
            case .transient(let reason): throw CommandFailure("not sent (temporary, after \(result.attempts) tries): \(reason)")
            case .permanent(let reason): throw CommandFailure("refused: \(reason)")
            }
        }
    }
}

/// A progress bar on a terminal, a plain line every few seconds otherwise (cron mail stays short).
final class ProgressReporter: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let started = Date()
    /// Under cron the first line comes after an interval, so short runs print only the summary.
    private let last: Mutex<Date>

    init() { last = Mutex(isTerminal ? .distantPast : started) }

    func update(_ summary: RunSummary) {
        let now = Date()
        let interval: TimeInterval = isTerminal ? 0.2 : 10
        guard last.withLock({ last in
            guard now.timeIntervalSince(last) >= interval else { return false }
            last = now
            return true
        }) else { return }
        let done = summary.sent + summary.skipped + summary.deferred + summary.failed
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(summary.sent) / elapsed : 0
        let total = max(summary.queued + summary.recovered, done)
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let counts = "\(summary.sent) sent, \(summary.deferred) deferred, \(summary.failed) failed"
        if isTerminal {
            let width = 30
            let filled = total > 0 ? min(width, width * done / total) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "\r%@ %d/%d  %@  %.0f/s  ETA %.0fs ", bar, done, total, counts, rate, remaining)
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            printError(String(format: "progress: %d/%d, %@, %.0f/s", done, total, counts, rate))
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
