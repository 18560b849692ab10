import Foundation
import GRDB

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
        try pool.write { db in
            try db.execute(sql: "DELETE FROM used_challenges WHERE expiresAt < ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO used_challenges (id, expiresAt, email) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
                arguments: [challenge.id, challenge.expiresAt, request.email.description])
            if db.changesCount == 0 {
                let email = try String.fetchOne(
                    db, sql: "SELECT email FROM used_challenges WHERE id = ?", arguments: [challenge.id])
                return email == request.email.description ? .repeated : .questionUsed
            }
            guard var subscriber = try Subscriber.filter(Column("email") == request.email.description).fetchOne(db)
            else {
                var subscriber = request
                subscriber.id = nil
                subscriber.status = .pending
                subscriber.createdAt = now
                subscriber.confirmedAt = nil
                subscriber.lastConfirmationAt = now
                try subscriber.insert(db)
                try Self.queueMail(db, try compose(subscriber), purpose: "confirm", subscriberID: subscriber.id, now: now)
                return .queued(subscriber)
            }
            if subscriber.status == .active { return .alreadyActive(subscriber) }
            subscriber.status = .pending
            if request.name != nil { subscriber.name = request.name }
            subscriber.sections = request.sections
            subscriber.format = request.format
            let last = try Row.fetchOne(
                db,
                sql: "SELECT id, status, sentAt FROM outbox WHERE subscriberID = ? AND purpose = 'confirm' ORDER BY id DESC LIMIT 1",
                arguments: [subscriber.id])
            switch last.map({ $0["status"] as OutboxStatus }) {
            case .queued?, .deferred?, .sending?:
                // Never delivered yet: send that one now rather than a second one later.
                try db.execute(
                    sql: "UPDATE outbox SET status = 'queued', nextAttemptAt = ?, updatedAt = ? WHERE id = ? AND status != 'sending'",
                    arguments: [now, now, last!["id"] as Int64])
                try subscriber.update(db)
                return .requeued(subscriber)
            case .sent? where (last!["sentAt"] as Date?).map { now.timeIntervalSince($0) < resendInterval && $0 <= now } == true:
                try subscriber.update(db)
                return .recentlySent(subscriber)
            default:
                subscriber.lastConfirmationAt = now
                try subscriber.update(db)
                try Self.queueMail(db, try compose(subscriber), purpose: "confirm", subscriberID: subscriber.id, now: now)
                return .queued(subscriber)
            }
        }
    }

    /// Activates a pending subscriber (double opt-in done). An unsubscribed or bounced one is not
    /// re-activated by an old link: they sign up again.
    public func confirmSubscriber(id: Int64, now: Date) throws -> SubscriptionChange {
        try pool.write { db in
            guard var subscriber = try Subscriber.fetchOne(db, key: id) else { return .notFound }
            switch subscriber.status {
            case .active: return .unchanged(subscriber)
            case .unsubscribed, .bounced: return .notApplicable(subscriber)
            case .pending:
                subscriber.status = .active
                subscriber.confirmedAt = now
                subscriber.unsubscribedAt = nil
                subscriber.bounceCount = 0
                try subscriber.update(db)
                return .changed(subscriber)
            }
        }
    }

    /// Unsubscribes at once, whatever the state (a pending sign-up is withdrawn too).
    public func unsubscribeSubscriber(id: Int64, now: Date) throws -> SubscriptionChange {
        try pool.write { db in
            guard var subscriber = try Subscriber.fetchOne(db, key: id) else { return .notFound }
            if subscriber.status == .unsubscribed { return .unchanged(subscriber) }
            subscriber.status = .unsubscribed
            subscriber.unsubscribedAt = now
            try subscriber.update(db)
            return .changed(subscriber)
        }
    }

    /// Records that the math challenge `id` was answered; false when it already was (a replay).
    /// Forgets ids whose tokens have expired, so the table stays small.
    public func useChallenge(id: String, expiresAt: Date, now: Date) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM used_challenges WHERE expiresAt < ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO used_challenges (id, expiresAt) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
                arguments: [id, expiresAt])
            return db.changesCount > 0
        }
    }

    /// How many used challenge ids are remembered (for tests and diagnostics).
    public func usedChallengeCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM used_challenges") ?? 0 }
    }
}
