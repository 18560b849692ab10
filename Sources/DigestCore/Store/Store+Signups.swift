import Foundation
import GRDB

/// What a sign-up on the web form did.
public enum SignUpOutcome: Sendable, Equatable {
    /// The subscriber is pending and a confirmation mail should go out now (`lastConfirmationAt`
    /// was set to now).
    case sendConfirmation(Subscriber)
    /// Pending, but a confirmation mail went out less than the resend interval ago: send nothing.
    case recentlySent(Subscriber)
    /// Already active: nothing changed.
    case alreadyActive(Subscriber)
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
    /// Records a sign-up from the web form in one transaction: a new address becomes `pending`;
    /// a pending, unsubscribed or bounced one becomes `pending` again with the form's choices;
    /// an active one is left alone. A confirmation mail is due unless one was sent for this
    /// address within `resendInterval`, so repeated sign-ups cannot flood an inbox.
    public func signUp(_ request: Subscriber, now: Date, resendInterval: TimeInterval) throws -> SignUpOutcome {
        try pool.write { db in
            guard var subscriber = try Subscriber.filter(Column("email") == request.email.description).fetchOne(db)
            else {
                var subscriber = request
                subscriber.id = nil
                subscriber.status = .pending
                subscriber.createdAt = now
                subscriber.confirmedAt = nil
                subscriber.lastConfirmationAt = now
                try subscriber.insert(db)
                return .sendConfirmation(subscriber)
            }
            if subscriber.status == .active { return .alreadyActive(subscriber) }
            subscriber.status = .pending
            if request.name != nil { subscriber.name = request.name }
            subscriber.sections = request.sections
            subscriber.format = request.format
            if let last = subscriber.lastConfirmationAt, now.timeIntervalSince(last) < resendInterval, last <= now {
                try subscriber.update(db)
                return .recentlySent(subscriber)
            }
            subscriber.lastConfirmationAt = now
            try subscriber.update(db)
            return .sendConfirmation(subscriber)
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
