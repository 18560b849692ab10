import Foundation

/// The one way in for everything that comes back (`digest inbound import`, `digest bounces import`,
/// `POST /api/inbound`): each message is read and classified (`InboundMessage`), then applied:
///
/// - a bounce or a complaint by `BounceImporter`'s rules;
/// - an auto-reply is counted and dropped;
/// - a command reply that passes `ReplyTrust` changes the reader's digest (the choices of issue 25, applied by
///   `Subscriber.apply`, and votes as a vote link's POST counts them) and gets one "Done:" mail through the outbox;
///   one that fails changes nothing, is counted with its reason, and is forwarded to people like a letter;
/// - a letter is forwarded through the outbox to `mail.replyTo`, its author as Reply-To.
///
/// Idempotent: bounces by (report, recipient), everything else by the message's key in `inbound_messages`, with
/// its effects in the same transaction; importing the same messages again changes nothing.
public struct InboundImporter: Sendable {
    public let store: Store
    let bounces: BounceImporter
    let replyAddress: ReplyAddress?
    let trust: ReplyTrust
    let mails: InboundMails
    let timeZone: TimeZone

    public init(configuration: Configuration, store: Store, signer: LinkSigner) throws {
        self.store = store
        bounces = BounceImporter(store: store, bounceAddress: BounceAddress(configuration: configuration.mail, signer: signer))
        replyAddress = ReplyAddress(configuration: configuration.mail, signer: signer)
        trust = ReplyTrust(trustedAuthservIds: configuration.mail.trustedAuthservIds)
        mails = try InboundMails(configuration: configuration, signer: signer)
        timeZone = configuration.site.timeZone
    }

    /// Reads every message under `paths` (message files, mbox files, Maildir folders) and applies it.
    public func importPaths(_ paths: [String], now: Date) throws -> InboundImportSummary {
        var summary = InboundImportSummary()
        try InboundFiles.forEach(paths) { raw, source in _ = try apply(raw: raw, source: source, into: &summary, now: now) }
        return summary
    }

    /// Reads and applies one message; returns what it was.
    @discardableResult
    public func apply(raw: [UInt8], source: String, into summary: inout InboundImportSummary, now: Date) throws
        -> InboundMessage.Kind
    {
        let message = InboundMessage(raw: raw)
        let label = source + (message.subject.isEmpty ? "" : " (\(message.subject))")
        switch message.kind {
        case .bounce, .complaint, .unrecognized:
            try bounces.apply(message.report, source: source, into: &summary.bounces, now: now)
        case .autoReply(let why):
            let recorded = try store.recordInbound(
                key: message.key, kind: .autoReply, subscriberID: nil, detail: why, now: now)
            summary.count(recorded, as: "auto-reply", "\(label): auto-reply, dropped: \(why)")
        case .letter:
            try forward(message, label: label, into: &summary, now: now)
        case .command(let commands):
            try command(commands, message, label: label, into: &summary, now: now)
        }
        summary.messages += 1
        return message.kind
    }

    /// The reader a reply's token names, with the token.
    private func replyReference(_ message: InboundMessage) -> ReplyAddress.Reference? {
        guard let replyAddress else { return nil }
        return message.recipients.lazy.compactMap(replyAddress.reference(in:)).first
    }

    private func forward(_ message: InboundMessage, label: String, into summary: inout InboundImportSummary, now: Date) throws {
        guard mails.forwardTo != nil, message.from != nil else {
            summary.notForwarded.append(
                "\(label): a letter, not forwarded: "
                    + (message.from == nil ? "it has no From address to answer" : "mail.replyTo is not set"))
            return
        }
        // The reader it came from, when the From is the token's reader (else none: a letter names nobody).
        let reference = replyReference(message)
        let reader = try reference.flatMap { try store.subscriber(id: $0.subscriberID) }.flatMap {
            message.from.map($0.email.isSameMailbox(as:)) == true ? $0 : nil
        }
        let mail = try mails.forward(message, reader: reader, now: now)
        let recorded = try store.recordInbound(
            key: message.key, kind: .letter, subscriberID: reader?.id, detail: message.subject, now: now
        ) { _ in mail.map { [InboundMail($0, purpose: "letter", subscriberID: nil)] } ?? [] }
        summary.count(recorded, as: "letter", "\(label): a letter from \(message.from!), forwarded")
    }

    private func command(
        _ commands: [ReplyCommand], _ message: InboundMessage, label: String, into summary: inout InboundImportSummary,
        now: Date
    ) throws {
        let today = Day(now, in: timeZone)
        let reference = replyReference(message)
        let reader = try reference.flatMap { try store.subscriber(id: $0.subscriberID) }
        if let refusal = trust.refusal(
            reference: reference, reader: reader, from: message.from,
            authenticationResults: message.authenticationResults, today: today)
        {
            // People see it (a reader who replies from a forwarding address still means "stop"); nothing changes.
            let forward = try mails.forward(message, reader: nil, refused: refusal.description, now: now)
            let recorded = try store.recordInbound(
                key: message.key, kind: .refused, subscriberID: reader?.id, detail: refusal.description, now: now
            ) { _ in forward.map { [InboundMail($0, purpose: "letter", subscriberID: nil)] } ?? [] }
            summary.count(
                recorded, as: "refused",
                "\(label): a command reply, refused: \(refusal)" + (forward == nil ? "" : "; forwarded to mail.replyTo"))
            return
        }
        guard let reference, let reader, try !store.isInboundRecorded(key: message.key) else {
            summary.duplicates += 1
            return
        }
        // Votes first, outside the record's transaction (a vote is its own transaction, as from a vote link); a vote cast twice is
        // refused there, so a race between two imports counts it once.
        var done: [InboundMails.Done] = []
        for case .vote(let numbers) in commands {
            done.append(try vote(numbers, reader: reader, reference: reference, now: now))
        }
        let recorded = try store.recordInbound(
            key: message.key, kind: .command, subscriberID: reader.id,
            detail: commands.map(\.word).joined(separator: " "), now: now
        ) { stored in
            guard var current = stored else { return [] }
            for command in commands {
                if let result = try command.apply(
                    to: &current, today: today, now: now, signUpURL: "\(mails.baseURL)/subscribe")
                {
                    done.append(result)
                }
            }
            stored = current
            return [InboundMail(try mails.done(done, to: current, answering: message, reference: reference, now: now),
                purpose: "reply-done", subscriberID: current.id)]
        }
        summary.count(
            recorded, as: "command",
            "\(label): \(reader.email) asked for \(commands.map(\.word).joined(separator: ", ")): "
                + done.map(\.summary).joined(separator: "; "))
    }

    /// One vote command: each number is the item printed with it in the reader's digest of `reference`.
    private func vote(_ numbers: [Int], reader: Subscriber, reference: ReplyAddress.Reference, now: Date) throws
        -> InboundMails.Done
    {
        var counted: [String] = []
        var sentences: [String] = []
        var missing: [Int] = []
        for number in numbers {
            switch try store.recordDigestVote(
                number: number, edition: EditionReference(date: reference.date, kind: reference.kind),
                subscriberID: reader.id ?? 0, now: now)
            {
            case .counted(let title): counted.append("\(number) (\(title))")
            case .alreadyVoted(let title): sentences.append("You had already voted for \(number) (\(title)).")
            case .noSuchItem: missing.append(number)
            case .closed: sentences.append("Votes for the \(reference.kind.title) of \(reference.date) are closed.")
            }
        }
        if !missing.isEmpty {
            let what = (missing.count == 1 ? "item " : "items ") + Self.list(missing.map(String.init))
            sentences.append("There was no \(what) in that digest.")
        }
        let summary = counted.isEmpty
            ? "no new vote counted" : "your vote\(counted.count == 1 ? "" : "s") for \(Self.list(counted)) counted"
        return .init(summary: summary, sentences: Array(Set(sentences)).sorted(), undo: nil)
    }

    /// "3", "3 and 7", "3, 7 and 9".
    static func list(_ words: [String]) -> String {
        words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + " and " + words.last!
    }
}
