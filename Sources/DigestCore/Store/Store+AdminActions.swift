import Foundation

/// What the admin console does to the list and the outbox: each action and its audit row in one
/// transaction, so the log never names an action that did not happen, nor misses one that did.
extension Store {
    /// Makes an unsubscribed or bounced reader active again (an admin's decision, say after a reader asked
    /// by phone); `.notApplicable` for a pending reader, who confirms by mail, and an active one.
    public func reactivateSubscriber(id: Int64, now: Date, audit: AuditEntry) throws -> SubscriptionChange {
        try database.write { db in
            guard var subscriber = try Self.subscriber(db, id: id, locking: true) else { return .notFound }
            guard subscriber.status == .bounced || subscriber.status == .unsubscribed else { return .notApplicable(subscriber) }
            try Self.reactivate(db, id: id, from: subscriber.status, now: now)
            try Self.insertAudit(audit.about(subscriber), in: db)
            subscriber.status = .active
            subscriber.unsubscribedAt = nil
            subscriber.bounceCount = 0
            return .changed(subscriber)
        }
    }

    /// Erases reader `id` and everything stored about them, as `subscribers remove` does. The audit row keeps
    /// the number they had, not their address: an erasure leaves no personal data behind, the log included.
    /// False when there is no such reader.
    public func removeSubscriber(id: Int64, now: Date, audit: AuditEntry) throws -> Bool {
        try database.write { db in
            guard let subscriber = try Self.subscriber(db, id: id, locking: true) else { return false }
            var audit = audit.about(subscriber)
            audit.subscriberEmail = nil
            try Self.insertAudit(audit, in: db)
            return try Self.remove(db, where: "id = ?", id.sqlValue, now: now)
        }
    }

    /// Writes a new confirmation mail for pending reader `id` to the outbox (built by `compose`); false, with
    /// nothing written, when the reader is not pending.
    public func resendConfirmation(
        id: Int64, now: Date, audit: AuditEntry, compose: (Subscriber) throws -> MailMessage
    ) throws -> Bool {
        try database.write { db in
            guard var subscriber = try Self.subscriber(db, id: id, locking: true), subscriber.status == .pending else {
                return false
            }
            subscriber.lastConfirmationAt = now
            try Self.update(db, subscriber)
            try Self.queueMail(db, try compose(subscriber), purpose: "confirm", subscriberID: id, now: now)
            try Self.insertAudit(audit.about(subscriber), in: db)
            return true
        }
    }
}
