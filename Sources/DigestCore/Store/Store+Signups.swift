import Foundation

/// What a sign-up on the web form did. Every case but `questionUsed` shows the reader the same
/// "check your inbox" page, so the form never tells who is on the list.
public enum SignUpOutcome: Sendable, Equatable {
    /// The subscriber is pending and its confirmation mail was written to the outbox in the same
    /// transaction (`lastConfirmationAt` set to now).
    case queued(Subscriber)
    /// Pending, and a confirmation mail that has not gone out yet (the relay was down, the server was
    /// killed) was made due again at once instead of writing a second one.
    case requeued(Subscriber)
    /// Pending, and a confirmation mail went out less than the resend interval ago: nothing queued.
    case recentlySent(Subscriber)
    /// Already active: nothing changed.
    case alreadyActive(Subscriber)
    /// The same question was already used to sign up this same address (a double click, a reload):
    /// nothing changed.
    case repeated
    /// The question was already used, for another address or a failed try: nothing changed.
    case questionUsed
}

/// A math question used to sign up: its id and when its token expires.
public struct UsedChallenge: Sendable, Equatable {
    public var id: String
    public var expiresAt: Date

    public init(id: String, expiresAt: Date) {
        self.id = id
        self.expiresAt = expiresAt
    }
}

/// What following a confirm or unsubscribe link did.
public enum SubscriptionChange: Sendable, Equatable {
    case changed(Subscriber)
    /// Already in the asked-for state; nothing written.
    case unchanged(Subscriber)
    /// The link does not apply to the subscriber's state (confirming an unsubscribed reader).
    case notApplicable(Subscriber)
    case notFound
}

extension Store {
    /// Records a sign-up from the web form in one transaction: the question is used up (for this
    /// address), a new address becomes `pending`; a pending, unsubscribed or bounced one becomes
    /// `pending` again with the form's choices; an active one is left alone. A confirmation mail,
    /// built by `compose` for the stored subscriber, is written to the outbox in the same transaction,
    /// unless one is still waiting there (it is made due now) or one went out within `resendInterval`
    /// (so repeated sign-ups cannot flood an inbox).
    public func signUp(
        _ request: Subscriber, challenge: UsedChallenge, now: Date, resendInterval: TimeInterval,
        compose: (Subscriber) throws -> MailMessage
    ) throws -> SignUpOutcome {
        try database.write { db in
            let used = try Self.useChallenge(
                db, id: challenge.id, expiresAt: challenge.expiresAt, email: request.email.description, now: now)
            if !used {
                let email: String? = try db.fetchValue("SELECT email FROM used_challenges WHERE id = ?", .text(challenge.id))
                return email == request.email.description ? .repeated : .questionUsed
            }
            var fresh = request
            fresh.id = nil
            fresh.status = .pending
            fresh.createdAt = now
            fresh.confirmedAt = nil
            fresh.lastConfirmationAt = now
            if let id = try Self.insert(db, fresh) {
                fresh.id = id
                try Self.countStatusChange(from: nil, to: .pending, at: now, in: db)
                try Self.queueMail(db, try compose(fresh), purpose: "confirm", subscriberID: id, now: now)
                return .queued(fresh)
            }
            // On the list already (or added by another host a moment ago): its row is locked until commit.
            guard var subscriber = try Self.subscriber(db, email: request.email, locking: true) else {
                throw SubscriberError("\(request.email) was removed while signing up; try again")
            }
            if subscriber.status == .active { return .alreadyActive(subscriber) }
            try Self.countStatusChange(from: subscriber.status, to: .pending, at: now, in: db)
            subscriber.status = .pending
            if request.name != nil { subscriber.name = request.name }
            subscriber.sections = request.sections
            subscriber.format = request.format
            (subscriber.cadence, subscriber.weekday) = (request.cadence, request.weekday)
            let last = try db.fetchOne(
                "SELECT id, status, sentAt FROM outbox WHERE subscriberID = ? AND purpose = 'confirm' ORDER BY id DESC LIMIT 1",
                subscriber.id.sqlValue)
            let lastID: Int64? = try last?["id"]
            let lastStatus: OutboxStatus? = try last?["status"]
            let lastSent: Date? = try last?["sentAt"]
            switch lastStatus {
            case .queued?, .deferred?, .sending?:
                // Never delivered yet: send that one now rather than a second one later.
                try db.execute(
                    "UPDATE outbox SET status = 'queued', nextAttemptAt = ?, updatedAt = ? WHERE id = ? AND status != 'sending'",
                    now.sqlValue, now.sqlValue, lastID.sqlValue)
                try Self.update(db, subscriber)
                return .requeued(subscriber)
            // Within the interval either way: a mail sent "after" `now` went out while this request was on its
            // way (its instant is taken before the transaction runs, and the worker may record first). Only a
            // clock turned back further than the interval lets a new mail through.
            case .sent? where lastSent.map { abs(now.timeIntervalSince($0)) < resendInterval } == true:
                try Self.update(db, subscriber)
                return .recentlySent(subscriber)
            default:
                subscriber.lastConfirmationAt = now
                try Self.update(db, subscriber)
                try Self.queueMail(db, try compose(subscriber), purpose: "confirm", subscriberID: subscriber.id, now: now)
                return .queued(subscriber)
            }
        }
    }

    /// Activates a pending subscriber (double opt-in done). An unsubscribed or bounced one is not
    /// re-activated by an old link: they sign up again.
    public func confirmSubscriber(id: Int64, now: Date) throws -> SubscriptionChange {
        try database.write { db in
            guard var subscriber = try Self.subscriber(db, id: id, locking: true) else { return .notFound }
            switch subscriber.status {
            case .active: return .unchanged(subscriber)
            case .unsubscribed, .bounced: return .notApplicable(subscriber)
            case .pending:
                subscriber.status = .active
                subscriber.confirmedAt = now
                subscriber.unsubscribedAt = nil
                subscriber.bounceCount = 0
                try Self.update(db, subscriber)
                try Self.countStatusChange(from: .pending, to: .active, at: now, in: db)
                return .changed(subscriber)
            }
        }
    }

    /// Unsubscribes at once, whatever the state (a pending sign-up is withdrawn too). With `audit` (an
    /// admin's action), its row about the reader is written in the same transaction, changed or not.
    public func unsubscribeSubscriber(id: Int64, now: Date, audit: AuditEntry? = nil) throws -> SubscriptionChange {
        try database.write { db in
            guard var subscriber = try Self.subscriber(db, id: id, locking: true) else { return .notFound }
            if let audit { try Self.insertAudit(audit.about(subscriber), in: db) }
            if subscriber.status == .unsubscribed { return .unchanged(subscriber) }
            try Self.countStatusChange(from: subscriber.status, to: .unsubscribed, at: now, in: db)
            subscriber.unsubscribe(now: now)
            try Self.update(db, subscriber)
            return .changed(subscriber)
        }
    }

    /// Records that the math challenge `id` was answered; false when it already was (a replay).
    /// Forgets ids whose tokens have expired, so the table stays small.
    public func useChallenge(id: String, expiresAt: Date, now: Date) throws -> Bool {
        try database.write { db in try Self.useChallenge(db, id: id, expiresAt: expiresAt, email: nil, now: now) }
    }

    /// Uses up the question `id` (whose token expires at `expiresAt`), for `email` when it signs one up;
    /// false when it was used already. Forgets the ids whose tokens have expired, so the table stays small.
    /// The question is used once across every web host: the id is the key, and a second host's insert
    /// waits for the first one's transaction and then inserts nothing.
    static func useChallenge(
        _ db: any SQLConnection, id: String, expiresAt: Date, email: String?, now: Date
    ) throws -> Bool {
        try db.execute("DELETE FROM used_challenges WHERE expiresAt < ?", now.sqlValue)
        return try db.execute(
            "INSERT INTO used_challenges (id, expiresAt, email) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
            .text(id), expiresAt.sqlValue, email.sqlValue) > 0
    }

    /// How many used challenge ids are remembered (for tests and diagnostics).
    public func usedChallengeCount() throws -> Int {
        try database.read { db in try db.fetchValue("SELECT COUNT(*) FROM used_challenges") ?? 0 }
    }
}
