import Crypto
import Foundation

/// Applies bounces and complaints that arrive after the SMTP session: report messages read from
/// files, mbox files and Maildir folders (`digest bounces import`), and the JSON of
/// `POST /api/bounces`, all with the same rules:
///
/// - matched by VERP token first (`mail.bounceAddress`: a digest's, or a confirmation's, which names a
///   pending reader), then by the original Message-ID in the ledger; a report that matches neither is
///   listed, never guessed from an address;
/// - a hard bounce (5.1.x) counts toward `bounced` (one that says the mailbox does not exist, 5.1.1 or
///   5.1.10, marks the reader `bounced` at once, see `Store.hardBounceLimit`), a soft one (4.x.x) and
///   other failures only go on record, a complaint unsubscribes at once with its reason recorded;
/// - auto-replies (RFC 3834, vacation notices, challenge-response) are left alone;
/// - each (report, recipient) is applied once: importing the same report again changes nothing.
public struct BounceImporter: Sendable {
    public let store: Store
    public let bounceAddress: BounceAddress?
    /// Hard bounces that mark a reader `bounced` (the same limit as bounces during a send).
    public var bounceLimit: Int

    public init(store: Store, bounceAddress: BounceAddress?, bounceLimit: Int = 3) {
        self.store = store
        self.bounceAddress = bounceAddress
        self.bounceLimit = bounceLimit
    }

    /// Reads every message under `paths` (a message file, an mbox file or a Maildir folder) and
    /// applies it. A Maildir's messages are read from `new/` and moved to `cur/` once applied.
    public func importPaths(_ paths: [String], now: Date) throws -> BounceImportSummary {
        var summary = BounceImportSummary()
        try InboundFiles.forEach(paths) { raw, source in try apply(raw: raw, source: source, into: &summary, now: now) }
        return summary
    }

    /// Reads and applies one report message.
    public func apply(raw: [UInt8], source: String, into summary: inout BounceImportSummary, now: Date) throws {
        try apply(BounceReport(raw: raw), source: source, into: &summary, now: now)
    }

    /// Applies one report already read (`InboundImporter` reads each message once).
    func apply(_ report: BounceReport, source: String, into summary: inout BounceImportSummary, now: Date) throws {
        summary.messages += 1
        let label = "\(source)" + (report.subject.isEmpty ? "" : " (\(report.subject))")
        switch report.classification {
        case .autoReply(let why):
            summary.autoReplies += 1
            summary.ignored.append("\(label): auto-reply, ignored: \(why)")
        case .unrecognized(let why):
            summary.unmatched.append("\(label): \(why)")
        case .report(let entries):
            if entries.isEmpty { summary.unmatched.append("\(label): a report without a failed recipient") }
            let match = try match(report)
            for entry in entries {
                guard let match else {
                    summary.unmatched.append(
                        "\(label): \(entry.kind.rawValue) \(entry.status) for \(entry.recipient.isEmpty ? "?" : entry.recipient): "
                            + "no VERP token of ours, and "
                            + (report.originalMessageID.map { "Message-ID \($0) is not in the ledger" }
                                ?? "no original Message-ID in the report"))
                    continue
                }
                let event = BounceEvent(
                    reportKey: report.key, recipient: entry.recipient, kind: entry.kind, subscriberID: match.subscriberID,
                    deliveryID: match.deliveryID, status: entry.status, reason: entry.reason, source: "import")
                summary.count(try store.recordBounce(event, bounceLimit: bounceLimit, now: now), event, email: match.email)
            }
        }
    }

    /// Applies one notice of `POST /api/bounces`: matched by Message-ID (in the ledger) when given,
    /// else by the subscriber's address. Returns what it did, or nil when it matched no reader.
    public func apply(_ notice: BounceNotice, now: Date) throws -> (BounceEffect, EmailAddress)? {
        var match: BounceMatch?
        if let messageID = notice.messageID { match = try store.bounceMatch(messageID: messageID) }
        if match == nil, let email = notice.email { match = try store.bounceMatch(email: email) }
        guard let match else { return nil }
        let key = notice.id.map { "api:" + $0 } ?? "api:" + SHA256Hex.of(
            "\(notice.kind.rawValue)|\(notice.messageID ?? "")|\(notice.email?.description.lowercased() ?? "")|\(notice.reason)")
        // A provider's webhook carries the status in its diagnostic ("smtp; 550 5.1.1 user unknown").
        let status = notice.kind == .complaint ? "abuse" : BounceReport.statusCode(in: notice.reason) ?? ""
        let event = BounceEvent(
            reportKey: key, recipient: match.email.description, kind: notice.kind, subscriberID: match.subscriberID,
            deliveryID: match.deliveryID, status: status, reason: notice.reason, source: "api")
        return (try store.recordBounce(event, bounceLimit: bounceLimit, now: now), match.email)
    }

    /// The reader a report is about: by VERP token, else by the original Message-ID.
    func match(_ report: BounceReport) throws -> BounceMatch? {
        if let bounceAddress {
            for address in report.candidateAddresses {
                if let reference = bounceAddress.reference(in: address), let match = try store.bounceMatch(reference) {
                    return match
                }
            }
        }
        if let id = report.originalMessageID { return try store.bounceMatch(messageID: id) }
        return nil
    }
}

/// One bounce or complaint a site reports through `POST /api/bounces` (from its mail provider's
/// webhooks): the reader by address or by the Message-ID of the digest; `id` (the provider's event
/// id) makes a retried request harmless, else the notice's own content does.
public struct BounceNotice: Sendable, Equatable {
    public var email: EmailAddress?
    public var messageID: String?
    public var kind: BounceReport.Kind
    public var reason: String
    public var id: String?

    public init(email: EmailAddress?, messageID: String?, kind: BounceReport.Kind, reason: String, id: String? = nil) {
        self.email = email
        self.messageID = messageID
        self.kind = kind
        self.reason = reason
        self.id = id
    }
}

enum SHA256Hex {
    static func of(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What an import did, for the person or cron job that ran it.
public struct BounceImportSummary: Sendable, Equatable, Codable {
    public var messages = 0
    /// Events recorded by this import, by kind.
    public var recorded = BounceCounts()
    /// Reports already applied by an earlier import (nothing changed).
    public var duplicates = 0
    public var autoReplies = 0
    /// Readers this import marked `bounced` / `unsubscribed`.
    public var bounced: [String] = []
    public var unsubscribed: [String] = []
    /// Reports that matched no reader, or could not be read as reports: listed, never guessed.
    public var unmatched: [String] = []
    public var ignored: [String] = []

    public init() {}

    mutating func count(_ effect: BounceEffect, _ event: BounceEvent, email: EmailAddress) {
        switch effect {
        case .duplicate:
            duplicates += 1
        case .recorded(let status):
            recorded.add(event.kind.rawValue, 1)
            if status == .bounced { bounced.append(email.description) }
            if status == .unsubscribed { unsubscribed.append(email.description) }
        }
    }

    /// What the reports did (the messages read are the inbound import's to count, in its own first line), then
    /// the readers it bounced or unsubscribed and the reports it could not match.
    public var lines: [String] {
        var lines = [
            "bounce and complaint reports: \(recorded.hard) hard bounce(s), \(recorded.soft) soft, "
                + "\(recorded.failed) other failure(s), \(recorded.complaints) complaint(s) recorded; "
                + "\(duplicates) already recorded, \(unmatched.count) unmatched"
        ]
        lines += bounced.map { "bounced: \($0)" }
        lines += unsubscribed.map { "unsubscribed after a complaint: \($0)" }
        lines += unmatched.map { "unmatched: \($0)" }
        return lines
    }
}

public struct BounceImportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// mbox files (mboxo/mboxrd): messages start at lines beginning "From " after a blank line (or at
/// the start); ">From " lines are unquoted one level.
enum Mbox {
    static func isMbox(_ data: [UInt8]) -> Bool { data.starts(with: Array("From ".utf8)) }

    static func split(_ data: [UInt8]) -> [[UInt8]] {
        let bytes = MIMEEntity.lineFeedsOnly(data)
        var messages: [[UInt8]] = []
        var current: [UInt8]?
        var previousBlank = true
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var line = Array(bytes[index..<end])
            if previousBlank && line.starts(with: Array("From ".utf8)) {
                if let current { messages.append(trimmed(current)) }
                current = []
            } else if current != nil {
                if line.first == UInt8(ascii: ">"), line.drop(while: { $0 == UInt8(ascii: ">") }).starts(with: Array("From ".utf8)) {
                    line.removeFirst()
                }
                current! += line
                current!.append(0x0A)
            }
            previousBlank = line.isEmpty
            index = end + 1
        }
        if let current { messages.append(trimmed(current)) }
        return messages
    }

    /// The blank line before the next "From " belongs to the mbox, not the message.
    private static func trimmed(_ message: [UInt8]) -> [UInt8] {
        var message = message
        if message.suffix(2) == [0x0A, 0x0A] { message.removeLast() }
        return message
    }
}
