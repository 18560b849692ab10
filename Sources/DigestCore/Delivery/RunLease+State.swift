extension RunLease {
    /// What the run knows about its lease, and what the renewing thread and the senders' check do next. A value
    /// whose events return actions and do no I/O and no waiting, so every transition is tested without threads
    /// or a database (`RunLeaseStateTests`); `RunLease` runs it under one lock and talks to the database.
    ///
    /// Time is an input: seconds on a monotonic clock (`RunLease.uptime`), never the wall clock, which NTP may
    /// step. The lease is known to be ours until `validUntil`: the start of the last confirmed renewal plus one
    /// lease, since the database may have dated its expiry from the moment the renewal was sent.
    struct State {
        /// Length of the lease; it is renewed every third of it.
        let length: Double
        /// Monotonic seconds until which the lease is known to be ours.
        private(set) var validUntil: Double
        /// The database said another run holds the lease now: lost for good.
        private(set) var lost = false
        /// `release` was called: the renewing thread ends.
        private(set) var released = false
        /// When the renewing thread renews next; nil until it has scheduled the next renewal.
        private(set) var renewalDue: Double?

        /// A lease taken with a write that was sent at `takenAt`.
        init(length: Double, takenAt: Double) {
            self.length = length
            validUntil = takenAt + length
        }

        /// What the database answered to a renewal.
        enum Answer: Equatable {
            /// The expiry moved on: the lease is ours for another `length` from when the renewal was sent.
            case renewed
            /// Another run holds the lease now.
            case heldByAnother
            /// The write failed: not confirmed either way (the ledger's own writes will say why).
            case unanswered
        }

        /// Whether the run may go on with the lease.
        enum Standing: Equatable {
            case ours
            case lost
        }

        // MARK: The senders' check, before each end of data

        enum CheckAction: Equatable {
            /// Certainly ours: go on.
            case valid
            /// Could have run out (the process was stopped for longer than a third of a lease): renew with the
            /// database, report with `renewalEnded`, and go on only if it is still ours.
            case confirm
            /// Lost: nothing more may be sent.
            case lost
        }

        /// A sender asks at `now` whether the lease still holds.
        func check(now: Double) -> CheckAction {
            if lost { return .lost }
            // The renewing thread renews every third of a lease, so a valid lease has more than a third left;
            // less means the renewals stopped (the process was frozen) and only the database can tell.
            return now < validUntil - length / 3 ? .valid : .confirm
        }

        /// A renewal that was sent at `startedAt` came back with `answer`.
        mutating func renewalEnded(startedAt: Double, _ answer: Answer) -> Standing {
            switch answer {
            case .renewed:
                // Renewals by the thread and by a check may cross: the later expiry stands.
                validUntil = max(validUntil, startedAt + length)
                return .ours
            case .heldByAnother:
                lost = true
                return .lost
            case .unanswered:
                // Good while the last confirmed renewal lasts.
                return startedAt < validUntil ? .ours : .lost
            }
        }

        // MARK: The renewing thread

        enum RenewerStep: Equatable {
            /// Sleep this many seconds (or until `release`), then ask again.
            case wait(seconds: Double)
            /// Renew now, then report with `renewerRenewed`.
            case renew
            /// The lease is gone: stop the run, and end.
            case lost
            /// Released: end.
            case exit
        }

        /// The renewing thread starts, or wakes, at `now`.
        mutating func renewerStep(now: Double) -> RenewerStep {
            if released { return .exit }
            let due = renewalDue ?? now + length / 3
            if now < due {
                renewalDue = due
                // What is left, not a date: the thread waits on a wall-clock timeout and asks again on waking.
                return .wait(seconds: due - now)
            }
            renewalDue = nil
            return lost ? .lost : .renew
        }

        /// The renewing thread's renewal, sent at `startedAt`, came back at `now` with `answer`; the next one is
        /// due a third of a lease after the answer.
        mutating func renewerRenewed(startedAt: Double, _ answer: Answer, now: Double) -> RenewerStep {
            if renewalEnded(startedAt: startedAt, answer) == .lost { return .lost }
            return renewerStep(now: now)
        }

        // MARK: The end of the run

        enum ReleaseAction: Equatable {
            /// Delete the lease row: the next run need not wait for it to expire.
            case giveBack
            /// Leave the row alone: it is another run's now.
            case leave
        }

        /// The run is over: the renewing thread ends (wake it).
        mutating func release() -> ReleaseAction {
            released = true
            return lost ? .leave : .giveBack
        }
    }
}
