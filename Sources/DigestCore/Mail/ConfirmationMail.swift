import Foundation
import Mustache

/// Composes the double opt-in mail a sign-up sends: rendered from `confirm-subject.txt.mustache`,
/// `confirm.txt.mustache` and `confirm.html.mustache` (text only for a reader who chose `text`),
/// built by `MessageBuilder` like a digest, with a signed confirm link that expires.
///
/// The Message-ID is made once, here; the outbox keeps the built bytes, so a re-send after a crash
/// carries the same Message-ID. With `mail.bounceAddress` the mail leaves with a VERP envelope sender that
/// names the reader and the mail, as digests do: a confirmation that bounces marks the pending reader
/// `bounced` when `digest bounces import` reads the report, instead of leaving them pending forever.
public struct ConfirmationMail: Sendable {
    /// The templates the confirmation mail needs.
    public static let templates = ["confirm.txt", "confirm.html", "confirm-subject.txt"]

    let library: MustacheLibrary
    let signer: LinkSigner
    let from: Mailbox
    let replyTo: Mailbox?
    /// VERP envelope senders (`mail.bounceAddress`); nil sends from the address of `mail.from`.
    let bounceAddress: BounceAddress?
    let baseURL: String
    let site: [String: any Sendable]
    /// Signs the confirmation like a digest (`mail.dkim`); keys are read and checked when this is made.
    let dkim: DKIMSigner?
    /// How long the confirm link works.
    public let linkLifetime: TimeInterval

    /// Loads the confirmation templates from `configuration.templates`; a missing or broken one is named.
    public init(configuration: Configuration, signer: LinkSigner, linkLifetime: TimeInterval = 7 * 24 * 3600)
        async throws
    {
        let library = try await MustacheLibrary.load(folder: configuration.templates, required: Self.templates)
        try self.init(library: library, configuration: configuration, signer: signer, linkLifetime: linkLifetime)
    }

    /// With templates already loaded (the web pages' library holds them too).
    public init(
        library: MustacheLibrary, configuration: Configuration, signer: LinkSigner,
        linkLifetime: TimeInterval = 7 * 24 * 3600
    ) throws {
        self.library = library
        self.signer = signer
        from = try Mailbox(parsing: configuration.mail.from)
        replyTo = try configuration.mail.replyTo.map { try Mailbox(parsing: $0) }
        bounceAddress = BounceAddress(configuration: configuration.mail, signer: signer)
        baseURL = configuration.web.baseURL
        site = [
            "name": configuration.site.name, "url": configuration.site.url,
            "language": configuration.site.language, "direction": configuration.site.direction,
        ]
        self.linkLifetime = linkLifetime
        dkim = try DKIMSigner(configuration: configuration.mail.dkim)
    }

    /// The confirmation mail for `subscriber` (stored: it has an id), its link valid until `now + linkLifetime`.
    public func message(for subscriber: Subscriber, now: Date) throws -> MailMessage {
        let id = subscriber.id ?? 0
        let token = signer.token(.confirm, subscriberID: id, email: subscriber.email, expires: now + linkLifetime)
        let view: [String: Any] = [
            "site": site,
            "confirmURL": "\(baseURL)/confirm?token=\(token)",
            "email": subscriber.email.description,
            "name": subscriber.name ?? "", "hasName": subscriber.name != nil,
            "expiresInDays": Int(linkLifetime / 86400),
        ]
        let subject = (library.render(view, withTemplate: "confirm-subject.txt") ?? "")
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        let text = library.render(view, withTemplate: "confirm.txt") ?? ""
        let html = subscriber.format == .html ? library.render(view, withTemplate: "confirm.html") : nil
        let random = UUID().uuidString.lowercased().prefix(13)
        let messageID = "<confirm.\(id).\(Int(now.timeIntervalSince1970)).\(random)@\(from.address.asciiDomain)>"
        let data = try MessageBuilder(
            from: from, to: Mailbox(name: subscriber.name, address: subscriber.email), replyTo: replyTo,
            subject: subject, date: now, messageID: messageID, text: text, html: html, dkim: dkim
        ).build()
        let sender = bounceAddress?.sender(for: .init(outboxMailMadeAt: now, subscriberID: id)) ?? from.address
        return MailMessage(sender: sender, recipient: subscriber.email, messageID: messageID, data: data)
    }
}
