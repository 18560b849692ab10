import Foundation

/// One admin action, as the audit table keeps it: when, what, which reader, who and from where.
///
/// `action` is a short dotted name, stable for searching: `admin.signin`, `admin.signin.failed`,
/// `admin.signout`, `reader.unsubscribe`, `reader.erase`, `item.remove`, …. `actor` says who acted
/// ("session 1a2b3c4d", "bearer token", "admin listener"); `clientAddress` is the client as
/// `web.trustedProxies` resolves it.
public struct AuditEntry: Sendable, Equatable {
    /// Set by the store once written.
    public var id: Int64?
    public var at: Date
    public var action: String
    /// The reader acted on, if any. Kept as they were when the row was written: an erased reader's row
    /// stays, with the id and address it had.
    public var subscriberID: Int64?
    public var subscriberEmail: String?
    public var detail: String
    public var actor: String
    public var clientAddress: String

    public init(
        id: Int64? = nil, at: Date, action: String, subscriberID: Int64? = nil, subscriberEmail: String? = nil,
        detail: String = "", actor: String, clientAddress: String
    ) {
        self.id = id
        self.at = at
        self.action = action
        self.subscriberID = subscriberID
        self.subscriberEmail = subscriberEmail
        self.detail = detail
        self.actor = actor
        self.clientAddress = clientAddress
    }

    /// The same entry about `subscriber` (its id and address), for a store action that finds the reader
    /// inside its own transaction.
    public func about(_ subscriber: Subscriber) -> AuditEntry {
        var entry = self
        entry.subscriberID = subscriber.id
        entry.subscriberEmail = subscriber.email.description
        return entry
    }
}
