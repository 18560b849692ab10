import Foundation

/// Everything stored about one reader, as the "download my data" link of the preferences page gives it
/// (the right of access, GDPR Art. 15): their settings, every delivery in the ledger, every bounce and
/// complaint report about them, the mails the web side wrote to them (confirmations, tests: when and
/// whether sent, not their bytes, which are the digest they already have), their replies that were applied,
/// the admin actions taken on them, the items they voted for from their digests, and their clicks when the
/// site counts them per reader (`privacy.clickCounting: perReader`).
public struct ReaderDataExport: Sendable, Codable, Equatable {
    public struct OutboxEntry: Sendable, Codable, Equatable {
        public var purpose: String
        public var status: OutboxStatus
        public var createdAt: Date
        public var messageID: String
    }

    /// A reply of theirs that `digest inbound import` or `POST /api/inbound` applied (`inbound_messages`).
    public struct Reply: Sendable, Codable, Equatable {
        public var receivedAt: Date
        /// `command`, `letter`, `refused`.
        public var kind: String
        /// The commands, the subject of a letter, or why a reply was refused.
        public var detail: String
    }

    /// The reader's clicks on one item of an edition (only `perReader` stores them).
    public struct Click: Sendable, Codable, Equatable {
        public var date: String
        public var kind: EditionKind
        public var title: String
        public var url: String
        public var count: Int
    }

    public struct AdminAction: Sendable, Codable, Equatable {
        public var at: Date
        public var action: String
        public var detail: String
    }

    /// A vote from a digest's vote link: which item, when.
    public struct Vote: Sendable, Codable, Equatable {
        public var url: String
        public var title: String
        public var votedAt: Date
    }

    public var exportedAt: Date
    public var subscriber: Subscriber
    public var deliveries: [ReaderDelivery]
    public var bounces: [BounceRecord]
    public var mails: [OutboxEntry]
    public var adminActions: [AdminAction]
    public var replies: [Reply] = []
    /// The votes cast from the reader's digests (`digest_votes`), oldest first. The site's own votes are
    /// counted per item, never per reader: none of those is the reader's to list.
    public var votes: [Vote] = []
    /// Empty unless clicks are counted per reader (`aggregate` keeps nothing about who clicked).
    public var clicks: [Click] = []

    /// The file the reader downloads: pretty-printed JSON, sorted keys, ISO 8601 instants.
    public func json() throws -> Data { try StatsJSON.encoder.encode(self) }
}

extension OutboxStatus: Codable {}

extension Store {
    /// Everything stored about reader `id` (`ReaderDataExport`); nil when there is no such reader.
    public func readerData(id: Int64, now: Date) throws -> ReaderDataExport? {
        guard let detail = try subscriberDetail(id: id, deliveryLimit: Int(Int32.max)) else { return nil }
        let mails = try outboxMails(subscriberID: id).map {
            ReaderDataExport.OutboxEntry(
                purpose: $0.mail.purpose, status: $0.status, createdAt: $0.mail.createdAt, messageID: $0.mail.message.messageID)
        }
        let actions = try auditLog(limit: Int(Int32.max), subscriberID: id).map {
            ReaderDataExport.AdminAction(at: $0.at, action: $0.action, detail: $0.detail)
        }
        let votes = try database.read { db in
            try db.fetchAll(
                """
                SELECT i.url, i.title, v.votedAt FROM digest_votes v JOIN items i ON i.id = v.itemID
                WHERE v.subscriberID = ? ORDER BY v.votedAt, v.id
                """,
                id.sqlValue
            ).map { row in
                ReaderDataExport.Vote(url: try row["url"], title: try row["title"], votedAt: try row["votedAt"])
            }
        }
        var export = ReaderDataExport(
            exportedAt: now, subscriber: detail.subscriber, deliveries: detail.deliveries, bounces: detail.bounces,
            mails: mails, adminActions: actions, votes: votes, clicks: try clicks(subscriberID: id))
        export.replies = try inboundMessages(subscriberID: id).map {
            ReaderDataExport.Reply(receivedAt: $0.receivedAt, kind: $0.kind.rawValue, detail: $0.detail)
        }
        return export
    }
}
