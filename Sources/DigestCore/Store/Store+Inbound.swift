import Foundation

/// What a message of `digest inbound import` / `POST /api/inbound` was, as `inbound_messages` records it
/// (bounces and complaints are recorded in `bounce_events` instead).
public enum InboundRecordKind: String, Sendable, CaseIterable, SQLTextEnum {
    /// A command reply that acted.
    case command
    /// A reply for people, forwarded to `mail.replyTo`.
    case letter
    /// An automatic reply (RFC 3834, a vacation notice): counted and dropped.
    case autoReply = "auto-reply"
    /// A command reply that failed a trust check (`ReplyTrust`): counted, nothing changed.
    case refused
}

/// A mail that an inbound message causes, written to the outbox in the message's transaction.
public struct InboundMail: Sendable {
    public var message: MailMessage
    /// The outbox's purpose (`reply-done`, `letter`).
    public var purpose: String
    public var subscriberID: Int64?

    public init(_ message: MailMessage, purpose: String, subscriberID: Int64?) {
        self.message = message
        self.purpose = purpose
        self.subscriberID = subscriberID
    }
}

/// What `recordInbound` did.
public enum InboundRecorded: Sendable, Equatable {
    /// The message was applied before: nothing changed.
    case duplicate
    /// Recorded now; the reader as they were and as they are (nil when the message names no reader).
    case recorded(before: Subscriber?, after: Subscriber?)
}

extension Store {
    /// Records the message `key` once and applies it in the same transaction: `change` gets the reader
    /// `subscriberID` (locked; nil when there is none), may change them, and returns the mails to queue; the reader
    /// is saved (a change of status counted in `now`'s day) and the mails written to the outbox with the record. A
    /// message already recorded changes nothing, so importing the same mailbox twice is harmless, and two imports at
    /// once apply each message once (the key is the table's primary key).
    public func recordInbound(
        key: String, kind: InboundRecordKind, subscriberID: Int64?, detail: String, now: Date,
        change: (inout Subscriber?) throws -> [InboundMail] = { _ in [] }
    ) throws -> InboundRecorded {
        try database.write { db in
            let inserted = try db.execute(
                """
                INSERT INTO inbound_messages (messageKey, kind, subscriberID, detail, receivedAt)
                VALUES (?, ?, ?, ?, ?) ON CONFLICT (messageKey) DO NOTHING
                """,
                .text(key), .text(kind.rawValue), subscriberID.sqlValue, .text(String(detail.prefix(1000))), now.sqlValue)
            guard inserted > 0 else { return .duplicate }
            let before = try subscriberID.flatMap { try Self.subscriber(db, id: $0, locking: true) }
            var after = before
            let mails = try change(&after)
            if let before, let after, after != before {
                try Self.update(db, after)
                try Self.countStatusChange(from: before.status, to: after.status, at: now, in: db)
            }
            for mail in mails {
                try Self.queueMail(db, mail.message, purpose: mail.purpose, subscriberID: mail.subscriberID, now: now)
            }
            return .recorded(before: before, after: after)
        }
    }

    /// Whether the message `key` was recorded already (bounces and complaints aside).
    public func isInboundRecorded(key: String) throws -> Bool {
        try database.read { db in
            let found: Int64? = try db.fetchValue("SELECT 1 FROM inbound_messages WHERE messageKey = ?", .text(key))
            return found != nil
        }
    }

    /// How many messages of each kind were recorded.
    public func inboundCounts() throws -> [InboundRecordKind: Int] {
        try database.read { db in
            var counts: [InboundRecordKind: Int] = [:]
            for row in try db.fetchAll("SELECT kind, COUNT(*) AS n FROM inbound_messages GROUP BY kind") {
                if let kind = InboundRecordKind(rawValue: try row["kind"]) { counts[kind] = try row["n"] }
            }
            return counts
        }
    }

    /// The messages recorded about reader `subscriberID`, oldest first (their data export).
    public func inboundMessages(subscriberID: Int64) throws
        -> [(receivedAt: Date, kind: InboundRecordKind, detail: String)]
    {
        try database.read { db in
            try db.fetchAll(
                "SELECT receivedAt, kind, detail FROM inbound_messages WHERE subscriberID = ? ORDER BY receivedAt, messageKey",
                subscriberID.sqlValue
            ).map { row in (try row["receivedAt"], try row["kind"], try row["detail"]) }
        }
    }
}
