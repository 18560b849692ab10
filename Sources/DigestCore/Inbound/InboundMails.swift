import Foundation

/// The mails an inbound message causes, built here and written to the outbox with the message's record: the short
/// "Done: …" answer to a command reply, and the forward of a letter to the people at `mail.replyTo`.
///
/// Their Message-IDs come from the message's key, so the same message never makes two (the outbox keeps one row
/// per Message-ID). Both carry `Auto-Submitted: auto-replied` (RFC 3834 §5), so a reader's own auto-responder
/// does not answer them and no loop starts.
struct InboundMails: Sendable {
    let from: Mailbox
    /// The people who read letters (`mail.replyTo`); nil when none is set, and letters are not forwarded.
    let forwardTo: Mailbox?
    let bounceAddress: BounceAddress?
    let replyAddress: ReplyAddress?
    let dkim: DKIMSigner?
    let signer: LinkSigner
    let baseURL: String
    let siteName: String

    init(configuration: Configuration, signer: LinkSigner) throws {
        from = try Mailbox(parsing: configuration.mail.from)
        forwardTo = try configuration.mail.replyTo.map { try Mailbox(parsing: $0) }
        bounceAddress = BounceAddress(configuration: configuration.mail, signer: signer)
        replyAddress = ReplyAddress(configuration: configuration.mail, signer: signer)
        dkim = try DKIMSigner(configuration: configuration.mail.dkim)
        self.signer = signer
        baseURL = configuration.web.baseURL
        siteName = configuration.site.name
    }

    /// What one command did, for the "Done:" mail.
    struct Done: Sendable, Equatable {
        /// The subject's words after "Done: " ("your digest is now weekly").
        var summary: String
        /// Sentences that say what changed.
        var sentences: [String]
        /// How to take it back, when it can be.
        var undo: String?
    }

    /// The answer to `message`, a command reply of `reader` to the digest `reference` names.
    func done(
        _ done: [Done], to reader: Subscriber, answering message: InboundMessage, reference: ReplyAddress.Reference,
        now: Date
    ) throws -> MailMessage {
        let id = reader.id ?? 0
        let preferences = "\(baseURL)/preferences?token=\(signer.token(.preferences, subscriberID: id, email: reader.email))"
        var lines: [String] = []
        for item in done {
            lines.append("Done: \(item.summary).")
            lines += item.sentences
            if let undo = item.undo { lines.append("Undo: \(undo).") }
            lines.append("")
        }
        lines.append("Your preferences: \(preferences)")
        lines.append("")
        lines.append("You answered the \(reference.kind.title) of \(reference.date) with:")
        lines += message.ownText.lines.prefix(10).map { "  \($0)" }
        let subject = "Done: " + (done.first?.summary ?? "nothing changed")
        let messageID = "<done.\(SHA256Hex.of(message.key).prefix(24))@\(from.address.asciiDomain)>"
        let replyTo = replyAddress.map { Mailbox(name: siteName, address: $0.address(for: reference)) }
        var builder = MessageBuilder(
            from: from, to: Mailbox(name: reader.name, address: reader.email), replyTo: replyTo, subject: subject,
            date: now, messageID: messageID, text: lines.joined(separator: "\n") + "\n", dkim: dkim)
        builder.extraFields = answering(message)
        let sender = bounceAddress?.sender(for: .init(outboxMailMadeAt: now, subscriberID: id)) ?? from.address
        return MailMessage(sender: sender, recipient: reader.email, messageID: messageID, data: try builder.build())
    }

    /// `message` forwarded to `mail.replyTo`, with its author's address as Reply-To so answering it answers them;
    /// nil when `mail.replyTo` is not set. From is the site's (a reader's own address would fail DMARC). `refused`
    /// says why its commands were not applied (a reply from a forwarding address, an old digest): people decide.
    func forward(_ message: InboundMessage, reader: Subscriber?, refused: String? = nil, now: Date) throws -> MailMessage? {
        guard let forwardTo, let author = message.from else { return nil }
        var intro = "\(author) wrote"
        if let reader { intro += " (a reader since \(Day(reader.createdAt, in: .gmt)), \(reader.status.rawValue))" }
        intro += ":"
        if let refused {
            intro = "A reply with commands that were not applied: \(refused). Nothing was changed; act on it by hand "
                + "if it is genuine.\n\n" + intro
        }
        let subject = message.subject.isEmpty ? "A reader's letter" : message.subject
        let text = "\(intro)\n\n" + message.fullText.replacingOccurrences(of: "\r\n", with: "\n")
        let messageID = "<letter.\(SHA256Hex.of(message.key).prefix(24))@\(from.address.asciiDomain)>"
        var builder = MessageBuilder(
            from: Mailbox(name: "\(author) via \(siteName)", address: from.address), to: forwardTo,
            replyTo: Mailbox(name: nil, address: author), subject: subject, date: now, messageID: messageID,
            text: text, dkim: dkim)
        builder.extraFields = answering(message)
        return MailMessage(sender: from.address, recipient: forwardTo.address, messageID: messageID, data: try builder.build())
    }

    /// `In-Reply-To`/`References` to `message` when it has a usable Message-ID, and `Auto-Submitted`.
    private func answering(_ message: InboundMessage) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if let id = message.messageID, (try? MessageBuilder.validateMessageID(id)) != nil {
            fields += [("In-Reply-To", id), ("References", id)]
        }
        fields.append(("Auto-Submitted", "auto-replied"))
        return fields
    }
}
