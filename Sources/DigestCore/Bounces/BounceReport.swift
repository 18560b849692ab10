import Crypto
import Foundation

/// What a message that came back to the bounce mailbox says, read without guessing:
/// an RFC 3464 delivery-status notification, an RFC 5965 (ARF) feedback report, an auto-reply
/// (RFC 3834, vacation notices, challenge-response) that is never a bounce, or something else.
public struct BounceReport: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The address does not exist (5.1.x): counts toward `bounced`.
        case hard
        /// Delayed or temporarily refused (4.x.x): recorded, changes nothing.
        case soft
        /// Refused for good for another reason (mailbox full 5.2.2, policy 5.7.x): recorded, changes nothing.
        case failed
        /// A feedback-loop complaint: the reader is unsubscribed at once.
        case complaint
    }

    /// One recipient's fate in a report.
    public struct Entry: Sendable, Equatable {
        public var kind: Kind
        /// `Final-Recipient` (DSN) or `Original-Rcpt-To` (ARF), as reported.
        public var recipient: String
        /// RFC 3463 status such as `5.1.1`, or the feedback type (`abuse`).
        public var status: String
        /// Diagnostic code or the report's words, for people.
        public var reason: String
    }

    public enum Classification: Sendable, Equatable {
        /// A DSN or ARF report with its entries.
        case report([Entry])
        /// RFC 3834 auto-reply, vacation notice, read receipt, challenge-response: left alone.
        case autoReply(String)
        /// Neither: not a report this program can read.
        case unrecognized(String)
    }

    public var classification: Classification
    /// Identifies this report for idempotency: its own Message-ID, else a hash of its bytes.
    public var key: String
    /// The report's Subject, for listing it.
    public var subject: String
    /// Addresses that may carry our VERP token (where the report was sent, the original's envelope sender).
    public var candidateAddresses: [String]
    /// The Message-ID of the message the report is about, when the report includes its header.
    public var originalMessageID: String?

    /// Reads one raw message (CRLF or LF line ends).
    public init(raw: [UInt8]) {
        let message = MIMEEntity(raw)
        subject = message.field("Subject") ?? ""
        if let id = message.field("Message-ID"), !id.isEmpty {
            key = "message-id:" + id
        } else {
            key = "sha256:" + SHA256.hash(data: MIMEEntity.lineFeedsOnly(raw)).map { String(format: "%02x", $0) }.joined()
        }

        var addresses: [String] = []
        for name in ["Delivered-To", "X-Original-To", "Envelope-To", "To"] {
            for field in message.fields where field.name.caseInsensitiveCompare(name) == .orderedSame {
                addresses += Self.addresses(in: field.value)
            }
        }
        let entities = message.allEntities
        var originalHeaders: MIMEEntity?
        for entity in entities.dropFirst() {
            let type = entity.contentType
            if type == "message/rfc822" || type == "text/rfc822-headers" || type == "message/rfc822-headers" {
                originalHeaders = MIMEEntity(entity.decodedBody)
                break
            }
        }
        if let originalHeaders {
            for name in ["Return-Path", "Sender"] {
                if let value = originalHeaders.field(name) { addresses += Self.addresses(in: value) }
            }
            originalMessageID = originalHeaders.field("Message-ID").map(Self.firstMessageID)
        }

        let reportType = message.contentType == "multipart/report"
            ? (message.contentTypeParameter("report-type") ?? "").lowercased() : ""
        if let status = entities.first(where: { $0.contentType == "message/delivery-status" || $0.contentType == "message/global-delivery-status" }),
            reportType == "delivery-status" || reportType == "global-delivery-status" || reportType.isEmpty
        {
            let groups = MIMEEntity.fieldGroups(status.text)
            for field in groups.first ?? [] where field.name.caseInsensitiveCompare("X-Postfix-Sender") == .orderedSame {
                addresses += Self.addresses(in: field.value)
            }
            var entries: [Entry] = []
            for group in groups.dropFirst() {
                if let entry = Self.dsnEntry(group) { entries.append(entry) }
            }
            classification = .report(entries)
        } else if let feedback = entities.first(where: { $0.contentType == "message/feedback-report" }) {
            let fields = MIMEEntity.fieldGroups(feedback.text).flatMap { $0 }
            func value(_ name: String) -> String? {
                fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
            }
            if let mailFrom = value("Original-Mail-From") { addresses.insert(contentsOf: Self.addresses(in: mailFrom), at: 0) }
            let type = (value("Feedback-Type") ?? "abuse").lowercased()
            let recipient = value("Original-Rcpt-To") ?? originalHeaders?.field("To") ?? ""
            let reporter = value("User-Agent") ?? value("Reporting-MTA") ?? "a mailbox provider"
            let reason = "complaint (\(type)) reported by \(reporter)"
            // RFC 5965 §7.3: abuse, fraud, virus, other, and not-spam (an error report, not a complaint).
            classification = type == "not-spam"
                ? .autoReply("feedback report of type not-spam")
                : .report([Entry(kind: .complaint, recipient: recipient, status: type, reason: reason)])
        } else if reportType == "disposition-notification" {
            classification = .autoReply("read receipt (RFC 8098)")
        } else if let why = Self.autoReplyReason(message) {
            classification = .autoReply(why)
        } else {
            classification = .unrecognized(
                "neither a delivery-status report (RFC 3464) nor a feedback report (RFC 5965): \(message.contentType)")
        }
        var seen = Set<String>()
        candidateAddresses = addresses.filter { seen.insert($0.lowercased()).inserted }
    }

    /// One per-recipient group of a DSN; nil for `delivered`, `relayed` and `expanded`.
    static func dsnEntry(_ group: [(name: String, value: String)]) -> Entry? {
        func value(_ name: String) -> String? {
            group.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        let recipient = Self.typedAddress(value("Final-Recipient") ?? value("Original-Recipient") ?? "")
        let action = (value("Action") ?? "").lowercased()
        let diagnostic = value("Diagnostic-Code").map(Self.typedAddress) ?? ""
        var status = Self.statusCode(in: value("Status") ?? "") ?? Self.statusCode(in: diagnostic) ?? ""
        if recipient.isEmpty && action.isEmpty && status.isEmpty { return nil }
        if ["delivered", "relayed", "expanded"].contains(action) { return nil }
        if status.isEmpty { status = action == "delayed" ? "4.0.0" : "5.0.0" }
        let kind: Kind
        if action == "delayed" || status.hasPrefix("4.") {
            kind = .soft
        } else if status.hasPrefix("5.1.") {
            kind = .hard
        } else {
            kind = .failed
        }
        let reason = diagnostic.isEmpty ? "\(action.isEmpty ? "failed" : action) \(status)" : diagnostic
        return Entry(kind: kind, recipient: recipient, status: status, reason: reason)
    }

    /// `rfc822; someone@example.org` → `someone@example.org` (the address type is dropped).
    static func typedAddress(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value.trimmingCharacters(in: .whitespaces) }
        return value[value.index(after: semicolon)...].trimmingCharacters(in: .whitespaces)
    }

    /// The first RFC 3463 code (`class.subject.detail`, class 2, 4 or 5) in `text`.
    static func statusCode(in text: String) -> String? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" || $0 == ")" || $0 == ";" || $0 == "," })
        for word in words {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, ["2", "4", "5"].contains(parts[0]),
                parts[1].count <= 3, parts[2].count <= 3, Int(parts[1]) != nil, Int(parts[2]) != nil
            else { continue }
            return String(word)
        }
        return nil
    }

    /// Addresses in a header value: `<a@b>` forms, else bare words with an @.
    static func addresses(in value: String) -> [String] {
        var result: [String] = []
        var rest = value[...]
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let inner = rest[rest.index(after: open)..<close]
            if inner.contains("@") { result.append(String(inner)) }
            rest = rest[rest.index(after: close)...]
        }
        if result.isEmpty {
            for word in value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }) where word.contains("@") {
                result.append(String(word).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
            }
        }
        return result
    }

    static func firstMessageID(_ value: String) -> String {
        guard let open = value.firstIndex(of: "<"), let close = value[open...].firstIndex(of: ">") else {
            return value.trimmingCharacters(in: .whitespaces)
        }
        return String(value[open...close])
    }

    /// Why `message` is an automatic reply rather than a report, or nil.
    static func autoReplyReason(_ message: MIMEEntity) -> String? {
        // RFC 3834 §5: any value but "no" marks an automatic message.
        if let value = message.field("Auto-Submitted"), value.lowercased().hasPrefix("auto-") {
            return "Auto-Submitted: \(value) (RFC 3834)"
        }
        for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation", "X-Challenge", "X-Cr-Puzzleid"]
        where message.field(name) != nil {
            return "\(name) header"
        }
        // RFC 3834 §3.1.8: "bulk", "junk" and "list" mark mail no person wrote to answer (old vacation programs use
        // them); a report, read before this, is never one of these.
        if let precedence = message.field("Precedence")?.lowercased(),
            ["auto_reply", "auto-reply", "bulk", "junk", "list"].contains(precedence)
        {
            return "Precedence: \(precedence)"
        }
        if message.field("X-MS-Exchange-Inbox-Rules-Loop") != nil || message.field("X-MS-Exchange-Generated-Message-Source") != nil {
            return "Exchange automatic reply"
        }
        // Only the words before a reply's "Re:" are the responder's: "Re: Vacation rentals banned" answers a digest
        // whose top story is about vacations, and is a person's reply.
        var subject = (message.field("Subject") ?? "").lowercased()
        if let reply = subject.range(of: #"(^|\s)(re|aw|sv|antw|رد)\s*:"#, options: .regularExpression) {
            subject = String(subject[..<reply.lowerBound])
        }
        let phrases = [
            "out of office", "out of the office", "automatic reply", "auto reply", "autoreply", "auto-reply",
            "vacation", "away from", "abwesenheit", "absence", "réponse automatique", "respuesta automática",
            "please confirm your message", "confirm your email to", "verify your email to reach", "challenge",
        ]
        if let phrase = phrases.first(where: subject.contains) {
            return "subject says \"\(phrase)\""
        }
        return nil
    }
}
