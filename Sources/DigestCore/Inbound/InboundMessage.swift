import Foundation

/// One message that came back (to the bounce address, the reply address or any mailbox the site reads), read and
/// classified without I/O: the first stage of `InboundImporter`.
///
/// - `bounce` / `complaint`: an RFC 3464 delivery-status report or an RFC 5965 feedback report (`BounceReport`);
/// - `autoReply`: RFC 3834 `Auto-Submitted`, `X-Autoreply`, `Precedence: auto_reply`, a vacation subject, a read
///   receipt: counted and dropped;
/// - `command`: a reply whose own text (`ReplyOwnText`) is only commands (`ReplyCommandParser`);
/// - `letter`: any other message a person wrote: forwarded to `mail.replyTo`;
/// - `unrecognized`: something from a mail system that is neither a report we can read nor a person's letter (a
///   bounce in a format of its own, from `MAILER-DAEMON` or with an empty return path): listed, never forwarded.
public struct InboundMessage: Sendable {
    public enum Kind: Sendable, Equatable {
        case bounce
        case complaint
        case autoReply(String)
        case command([ReplyCommand])
        case letter
        case unrecognized(String)

        /// The word the import lists and the API answers with.
        public var name: String {
            switch self {
            case .bounce: "bounce"
            case .complaint: "complaint"
            case .autoReply: "auto-reply"
            case .command: "command"
            case .letter: "letter"
            case .unrecognized: "unrecognized"
            }
        }
    }

    public let kind: Kind
    /// The report as `BounceReport` reads it: its key (the Message-ID, else a digest of the bytes) is the message's.
    public let report: BounceReport
    /// From, as an address (nil when it has none we can read).
    public let from: EmailAddress?
    public let subject: String
    public let messageID: String?
    /// Every `Authentication-Results` field, in order (RFC 8601).
    public let authenticationResults: [String]
    /// Where the message was addressed: To, Cc, Delivered-To, X-Original-To, Envelope-To (reply tokens are looked
    /// for here).
    public let recipients: [String]
    /// The reader's own text.
    public let ownText: ReplyOwnText
    /// The whole text, for a letter's forward (quotes included: the person reading it may want them).
    public let fullText: String

    public var key: String { report.key }

    public init(raw: [UInt8]) {
        let report = BounceReport(raw: raw)
        let entity = MIMEEntity(raw)
        self.report = report
        subject = entity.field("Subject") ?? ""
        messageID = entity.field("Message-ID").map(BounceReport.firstMessageID)
        let fromField = entity.field("From") ?? ""
        from = (try? Mailbox(parsing: fromField))?.address
            ?? BounceReport.addresses(in: fromField).lazy.compactMap { try? EmailAddress($0) }.first
        authenticationResults = entity.fields.filter { $0.name.caseInsensitiveCompare("Authentication-Results") == .orderedSame }
            .map(\.value)
        var recipients: [String] = []
        for name in ["Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"] {
            for field in entity.fields where field.name.caseInsensitiveCompare(name) == .orderedSame {
                recipients += BounceReport.addresses(in: field.value)
            }
        }
        self.recipients = recipients
        ownText = ReplyOwnText(entity)
        fullText = Self.fullText(entity)

        switch report.classification {
        case .report(let entries):
            kind = entries.contains { $0.kind == .complaint } ? .complaint : .bounce
        case .autoReply(let why):
            kind = .autoReply(why)
        case .unrecognized(let why):
            let returnPath = entity.field("Return-Path")?.trimmingCharacters(in: .whitespaces)
            let sender = from?.localPart.lowercased() ?? ""
            if returnPath == "<>" || ["mailer-daemon", "postmaster"].contains(sender) {
                kind = .unrecognized("from a mail system, but \(why)")
            } else if let commands = ReplyCommandParser.commands(in: ownText) {
                kind = .command(commands)
            } else {
                kind = .letter
            }
        }
    }

    /// The text/plain part, else the HTML part as text.
    static func fullText(_ entity: MIMEEntity) -> String {
        let parts = entity.allEntities.filter { !$0.contentType.hasPrefix("multipart/") && !$0.isAttachment }
        if let plain = parts.first(where: { $0.contentType == "text/plain" }) { return plain.unicodeText }
        if let html = parts.first(where: { $0.contentType == "text/html" }) {
            return ReplyOwnText.text(ofHTML: html.unicodeText)
        }
        return ""
    }
}
