import Foundation

/// Everything stored about one reader, as the "download my data" link of the preferences page gives it
/// (the right of access, GDPR Art. 15): their settings, every delivery in the ledger, every bounce and
/// complaint report about them, the mails the web side wrote to them (confirmations, tests: when and
/// whether sent, not their bytes, which are the digest they already have), their replies that were applied,
/// and the admin actions taken on them.
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

    public struct AdminAction: Sendable, Codable, Equatable {
        public var at: Date
        public var action: String
        public var detail: String
    }

    public var exportedAt: Date
    public var subscriber: Subscriber
    public var deliveries: [ReaderDelivery]
    public var bounces: [BounceRecord]
    public var mails: [OutboxEntry]
    public var adminActions: [AdminAction]
    public var replies: [Reply] = []
    /// Votes are counted per item, never per reader: there is nothing of the reader's to list.
    public var votes: [String] = []

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
        var export = ReaderDataExport(
            exportedAt: now, subscriber: detail.subscriber, deliveries: detail.deliveries, bounces: detail.bounces,
            mails: mails, adminActions: actions)
        export.replies = try inboundMessages(subscriberID: id).map {
            ReaderDataExport.Reply(receivedAt: $0.receivedAt, kind: $0.kind.rawValue, detail: $0.detail)
        }
        return export
    }
}
