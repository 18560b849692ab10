extension GroupCommitRecorder {
    /// The queue, the tickets and the writers of a group-commit recorder, and what each caller does next. A
    /// value whose events return actions and do no I/O and no waiting, so every transition is tested without
    /// threads (`GroupCommitRecorderStateTests`); `GroupCommitRecorder` runs it under one lock.
    ///
    /// Tickets count entries: the entry queued n-th has ticket n. `written` is the barrier: every entry up to
    /// it is written. Groups written by two writers at once may commit out of order; a group that commits while
    /// an earlier one is still in flight waits in `writtenAhead` until the earlier one commits, so `written`
    /// never passes an entry that is not written.
    struct State {
        /// Queued, not yet handed to a writer.
        private(set) var queue: [Entry] = []
        /// Entries queued so far: the ticket of the last one.
        private(set) var enqueued = 0
        /// Every entry up to this ticket is written.
        private(set) var written = 0
        /// Tickets handed to writers so far.
        private(set) var taken = 0
        /// Groups written while an earlier one was still in flight: first ticket → last ticket.
        private(set) var writtenAhead: [Int: Int] = [:]
        /// `stop` was called: the writers write what is queued, then end.
        private(set) var stopping = false
        /// Writer threads still running.
        private(set) var running: Int
        /// The first error a write threw, once it has been told: nothing more is written.
        private(set) var failure: (any Error)?
        /// A write failed: its failure is being told, or has been.
        private(set) var failing = false

        init(writers: Int) {
            running = max(1, writers)
        }

        /// Every writer has ended.
        var hasEnded: Bool { running == 0 }

        enum Enqueued: Equatable {
            /// Queued with this ticket: wake the writers.
            case queued(ticket: Int)
            /// Dropped (writing failed or ended); the ticket is the current one, which after a failure is never
            /// written (the failed group's entries count in it).
            case dropped(ticket: Int)
        }

        /// A caller hands over `entries`.
        mutating func enqueue(_ entries: [Entry]) -> Enqueued {
            guard failure == nil, !hasEnded else { return .dropped(ticket: enqueued) }
            queue += entries
            enqueued += entries.count
            return .queued(ticket: enqueued)
        }

        enum Barrier: Equatable {
            /// The entry and every one before it are written.
            case recorded
            /// It never will be: a write failed, or the writers ended first.
            case never
            /// Wait for a writer to report.
            case wait
        }

        /// A caller asks whether the entry with `ticket` is written (ticket 0: nothing to wait for).
        func barrier(_ ticket: Int) -> Barrier {
            if written >= ticket { return .recorded }
            return failure != nil || hasEnded ? .never : .wait
        }

        enum WriterStep {
            /// Write `entries` (one group), then report with `written(first:count:)` or `writeFailed()`.
            case write([Entry], first: Int)
            /// Nothing queued: wait for `enqueue` or `stop`.
            case wait
            /// End the thread (and wake whoever waits for the writers to end).
            case exit
        }

        /// A writer asks for work: everything queued since the last group, at once.
        mutating func writerNext() -> WriterStep {
            if failure == nil && !queue.isEmpty {
                let group = queue
                queue = []
                let first = taken
                taken += group.count
                return .write(group, first: first)
            }
            if failure == nil && !stopping { return .wait }
            running -= 1
            return .exit
        }

        /// The group of `count` entries after ticket `first` is written; the barrier moves over it and over the
        /// groups written ahead of it that it joins up with.
        mutating func written(first: Int, count: Int) {
            writtenAhead[first] = first + count
            while let next = writtenAhead.removeValue(forKey: written) { written = next }
        }

        /// A write failed. True for the first failure only: tell it (outside the lock), then report
        /// `failureTold(_:)`. The waiters go on waiting until then, so the stop they meet carries the cause.
        mutating func writeFailed() -> Bool {
            defer { failing = true }
            return !failing
        }

        /// The failure is told: from now on the barrier fails, what is queued is dropped and nothing more is
        /// written.
        mutating func failureTold(_ error: any Error) {
            if failure == nil { failure = error }
            queue = []
        }

        /// Write what is queued, then end.
        mutating func stop() {
            stopping = true
        }
    }
}
