import Foundation

extension SenderPool {
    /// Why a pool stopped before its work ran out. Each is an event of `StateMachine`.
    public struct StopReason: Sendable, Equatable, CustomStringConvertible {
        public struct Kind: Hashable, Sendable, CustomStringConvertible {
            private enum Base: String, Hashable, Sendable {
                case configuration, relayUnavailable, relayRefusing, ledgerUnwritable, lockLost, signal
            }
            private let base: Base
            private init(_ base: Base) { self.base = base }
            public var description: String { base.rawValue }

            /// Credentials, TLS or the sender address refused: every message would meet it.
            public static let configuration = Kind(.configuration)
            /// The relay is down, silent or too slow for everyone (the circuit breaker opened).
            public static let relayUnavailable = Kind(.relayUnavailable)
            /// The same permanent refusal for many different readers in a row: the relay's, not theirs.
            public static let relayRefusing = Kind(.relayRefusing)
            /// The ledger cannot be written: nothing more may be sent.
            public static let ledgerUnwritable = Kind(.ledgerUnwritable)
            /// Another run took the run lock: nothing more may be sent.
            public static let lockLost = Kind(.lockLost)
            /// SIGTERM, SIGINT or SIGHUP.
            public static let signal = Kind(.signal)
        }

        public var kind: Kind
        /// Worded for the operator: what happened and what it means.
        public var message: String
        /// Stops at once: no message may reach its end of data after this (the ledger or the lock is gone,
        /// or a second signal came). Otherwise messages on the wire finish and are recorded.
        public var isImmediate: Bool

        public init(_ kind: Kind, _ message: String, immediate: Bool = false) {
            self.kind = kind
            self.message = message
            isImmediate = immediate
        }

        public var description: String { message }
    }

    /// The decisions of one `run`: which worker sends what, retries and their backoff, the circuit breaker,
    /// relay-wide refusals, and every stop event. A value type whose events return what to do; it does no
    /// I/O and never waits, so each transition is tested on its own. The pool's threads call it under one
    /// lock and carry the returned actions out.
    struct StateMachine<Job: Sendable> {
        struct Pending {
            var job: Job
            var message: MailMessage
            var attempts: Int
            var last: SendOutcome
            var due: Date
        }

        /// What a worker with nothing in hand does next.
        enum Step {
            /// Try this message (a retry that came due).
            case send(Pending)
            /// Take a new message from the feed, then report `fetched`.
            case fetch
            /// Hand these final results to the recorder.
            case record([Finished<Job>])
            /// Nothing to do until this instant (nil: until another worker reports).
            case wait(until: Date?)
            /// Close the connection and end.
            case finish
        }

        struct Settings {
            var retry: RetryPolicy
            /// Connections of the pool: the breaker opens after `2 × connections` relay failures in a row,
            /// that is after about two timeouts when every connection meets one.
            var connections: Int
            /// The same permanent reply for this many different readers in a row is relay-wide.
            var relayWideRefusals: Int
        }

        let settings: Settings
        private(set) var retries: [Pending] = []
        private(set) var exhausted = false
        /// Taken from the feed (or from `retries`) and not yet settled by the recorder.
        private(set) var inFlight = 0
        private(set) var stopped: StopReason?
        /// Relay failures (no reply, 421) in a row, over all connections.
        private(set) var relayFailures = 0
        /// The current run of identical permanent refusals: its reply (addresses left out), the readers
        /// it hit, and the reader refusals held back until it is known whose problem they are.
        private(set) var streak: (reply: String, readers: Set<EmailAddress>, held: [Finished<Job>]) = ("", [], [])
        private(set) var summary = Summary()

        init(settings: Settings) {
            self.settings = settings
        }

        var breakerLimit: Int { max(2, 2 * settings.connections) }

        // MARK: Events

        /// A worker asks what to do.
        mutating func nextStep(now: Date) -> Step {
            if stopped != nil {
                var abandoned = retries.map { Finished(job: $0.job, message: $0.message, result: .init(outcome: $0.last, attempts: $0.attempts)) }
                inFlight += retries.count
                retries = []
                abandoned += releaseStreak()
                if !abandoned.isEmpty { return .record(abandoned) }
                // An immediate stop does not wait for messages on the wire: their barrier refuses them.
                if stopped!.isImmediate || inFlight == 0 { return .finish }
                return .wait(until: nil)
            }
            if let index = retries.indices.min(by: { retries[$0].due < retries[$1].due }), retries[index].due <= now {
                inFlight += 1
                return .send(retries.remove(at: index))
            }
            if !exhausted { return .fetch }
            if retries.isEmpty && inFlight == streak.held.count {
                let held = releaseStreak()
                if !held.isEmpty { return .record(held) }
                if inFlight == 0 { return .finish }
            }
            return .wait(until: retries.map(\.due).min())
        }

        /// A worker took a message from the feed (`found`), or found it empty.
        mutating func fetched(_ found: Bool) {
            if found { inFlight += 1 } else { exhausted = true }
        }

        /// One try of `pending` ended with `outcome`. Returns the final results to record now (none while
        /// the message waits for another try or is held in a streak of refusals).
        mutating func attemptEnded(
            _ pending: Pending, outcome: SendOutcome, configurationProblem: String?, now: Date,
            random: Double? = nil
        ) -> [Finished<Job>] {
            var item = pending
            item.last = outcome
            if let configurationProblem {
                stop(StopReason(.configuration, configurationProblem))
                return [finished(item, outcome, configurationFailure: true)]
            }
            // Held back at the barrier because sending stopped: says nothing about the relay.
            let verdict = outcome == .transient(reason: MailConnectionText.abandoned) ? .tryLater : ReplyVerdict(outcome)
            switch verdict {
            case .accepted:
                relayFailures = 0
                let released = releaseStreak()
                return released + [finished(item, outcome)]
            case .relayUnavailable:
                relayFailures += 1
                if relayFailures >= breakerLimit {
                    stop(
                        StopReason(
                            .relayUnavailable,
                            "the relay is unavailable: \(relayFailures) tries in a row over \(settings.connections) "
                                + "connection(s) got no answer; last: \(outcome.text)"))
                }
            case .tryLater:
                relayFailures = 0
            case .readerRefused, .relayRefused:
                relayFailures = 0
                return refused(item, outcome, verdict: verdict)
            }
            if stopped == nil, item.attempts < settings.retry.maxAttempts {
                // Drawn only for a retry: each draw is a getrandom system call, on the sender's path.
                let jitter = random ?? .random(in: 0..<1)
                item.due = now.addingTimeInterval(settings.retry.delay(afterAttempt: item.attempts, random: jitter))
                summary.retries += 1
                inFlight -= 1
                retries.append(item)
                return []
            }
            return [finished(item, outcome)]
        }

        /// The recorder wrote `count` final results.
        mutating func recorded(_ results: [Finished<Job>]) {
            inFlight -= results.count
            for result in results {
                switch result.result.outcome {
                case .sent: summary.sent += 1
                case .transient: summary.deferred += 1
                case .permanent:
                    // The server refused our setup, not this reader: the caller keeps the message for later.
                    if result.result.isConfigurationFailure { summary.deferred += 1 } else { summary.failed += 1 }
                }
            }
        }

        /// Stop sending (a signal, a lost lock, a ledger that cannot be written, the breaker). The first
        /// reason is kept; a later immediate one still makes the stop immediate.
        mutating func stop(_ reason: StopReason) {
            if let current = stopped {
                if reason.isImmediate && !current.isImmediate { stopped?.isImmediate = true }
                return
            }
            stopped = reason
            summary.stoppedBecause = reason.message
            summary.stopKind = reason.kind
        }

        /// Whether a message may reach its end of data now.
        var mayCommit: Bool { stopped?.isImmediate != true }

        // MARK: Refusals

        /// A permanent refusal: a reader's is held while the same reply keeps coming for other readers,
        /// since a reply that every reader gets is the relay's problem; a relay's is handed over at once
        /// (never a bounce).
        private mutating func refused(_ item: Pending, _ outcome: SendOutcome, verdict: ReplyVerdict) -> [Finished<Job>] {
            let reply = ReplyText.grouped(outcome.text)
            var released: [Finished<Job>] = []
            if reply != streak.reply {
                released = releaseStreak()
                streak = (reply, [], [])
            }
            streak.readers.insert(item.message.recipient)
            if streak.readers.count >= settings.relayWideRefusals {
                stop(
                    StopReason(
                        .relayRefusing,
                        "the relay refuses every reader with the same reply (\(streak.readers.count) in a row): "
                            + "\(reply); nobody was bounced"))
                let held = streak.held.map { held in
                    var held = held
                    held.result.isBounce = false
                    return held
                }
                streak.held = []
                return released + held + [finished(item, outcome)]
            }
            let result = finished(item, outcome, isBounce: verdict == .readerRefused)
            if result.result.isBounce && stopped == nil {
                streak.held.append(result)
                return released
            }
            return released + [result]
        }

        /// The held reader refusals, as the bounces they are after all.
        private mutating func releaseStreak() -> [Finished<Job>] {
            let held = streak.held
            streak.held = []
            return held
        }

        private func finished(
            _ item: Pending, _ outcome: SendOutcome, configurationFailure: Bool = false, isBounce: Bool = false
        ) -> Finished<Job> {
            Finished(
                job: item.job, message: item.message,
                result: DeliveryResult(
                    outcome: outcome, attempts: item.attempts, isConfigurationFailure: configurationFailure,
                    isBounce: isBounce))
        }
    }
}

/// Reply and error texts as run reports group them: without what makes each one unique.
enum ReplyText {
    /// "550 5.1.1 <a@b.example>: Recipient address rejected" → "550 5.1.1 <…>: Recipient address rejected";
    /// "maildir: cannot write /var/x/tmp/17.M5P6.host: No space left on device" → "maildir: cannot write …:
    /// No space left on device"; long numbers (milliseconds, queue ids) become "N". At most 160 characters.
    static func grouped(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "<[^>]*>", with: "<…>", options: .regularExpression)
        text = text.replacingOccurrences(of: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", with: "…", options: .regularExpression)
        text = text.replacingOccurrences(of: "/[^\\s:;,()]+", with: "…", options: .regularExpression)
        text = text.replacingOccurrences(of: "(queued as|id=?) [A-Za-z0-9]+", with: "$1 …", options: .regularExpression)
        // Keep the reply code and the enhanced code at the start; numbers further on vary per message.
        let head = text.prefix(while: { $0.isNumber || $0 == "." || $0 == " " })
        var rest = String(text.dropFirst(head.count))
        rest = rest.replacingOccurrences(of: "[0-9]+(\\.[0-9]+)?", with: "N", options: .regularExpression)
        text = String(head) + rest
        guard text.count > 160 else { return text }
        let cut = text.prefix(160)
        return String(cut[..<(cut.lastIndex(of: " ") ?? cut.endIndex)]) + " …"
    }
}
