import Foundation
import Synchronization

/// Turns an edition into each reader's message: select, render (once per distinct selection),
/// personalize by substitution, build MIME. Safe to call from several sender threads.
public final class DigestComposer: Sendable {
    public let configuration: Configuration
    let templates: DigestTemplates
    let signer: LinkSigner
    public let ranker: Ranker
    let from: Mailbox
    let replyTo: Mailbox?
    /// The sender's domain in its wire form, for Message-IDs and List-Id (worked out once, not per message).
    let senderDomain: String
    /// Renderings, one per distinct selection.
    private let cache = Mutex(
        BoundedCache<CacheKey, RenderedDigest>(countLimit: cacheLimit, bytesLimit: cacheBytesLimit, size: \.keptBytes))
    /// Longest subject in characters, cut at a word with "…": a safeguard for subject templates, as
    /// `topTitle` is already cut at 60 (a 2,000-character title once made a 2,000-character subject).
    public static let subjectLimit = 100
    /// Distinct selections kept rendered; readers mostly share a handful.
    static let cacheLimit = 256
    /// Bytes the renderings kept may hold (`RenderedDigest.keptBytes`): a rendering of a base64 edition keeps
    /// its encoding for three alignments, ~200 KB for a 57 KB Arabic digest.
    static let cacheBytesLimit = 32 << 20

    struct CacheKey: Hashable {
        var selection: DigestSelection
        var date: Day
        var kind: EditionKind
        var cadence: Cadence
        var hasName: Bool
        /// The reader's language (`Subscriber.language`, resolved: the site's when they have none).
        var language: String
        /// The frozen edition the items' counted links name (`privacy.clickCounting`); nil links them directly.
        var editionID: Int64?

        /// The item ids stand for the items: hashing every title and summary for each message cost
        /// more than the lookup saved. Equality still compares everything (cheap for the copies of one
        /// edition, which share their strings), so an item edited between two previews is no hit.
        func hash(into hasher: inout Hasher) {
            hasher.combine(date)
            hasher.combine(hasName)
            hasher.combine(language)
            hasher.combine(editionID)
            for section in selection.sections {
                hasher.combine(section.kind)
                for item in section.items { hasher.combine(item.itemID) }
            }
        }
    }

    public init(configuration: Configuration, templates: DigestTemplates, signer: LinkSigner) throws {
        self.configuration = configuration
        self.templates = templates
        self.signer = signer
        ranker = Ranker(digest: configuration.digest, timeZone: configuration.site.timeZone)
        from = try Mailbox(parsing: configuration.mail.from)
        replyTo = try configuration.mail.replyTo.map { try Mailbox(parsing: $0) }
        senderDomain = from.address.asciiDomain
        listID = "\(configuration.site.name) <digest.\(senderDomain)>"
        replyAddress = ReplyAddress(configuration: configuration.mail, signer: signer)
        // With reply addresses each message has a Reply-To of its own; the fixed fields leave it out.
        fixedFields = try MessageBuilder.FixedFields(
            from: from, replyTo: replyAddress == nil ? replyTo : nil, listID: listID)
        dkim = try DKIMSigner(configuration: configuration.mail.dkim)
        bounceAddress = BounceAddress(configuration: configuration.mail, signer: signer)
        voteLink = DigestVoteLink(signer: signer)
    }

    /// Signs the vote link of each item of each reader's digest.
    public let voteLink: DigestVoteLink

    /// `subscriber`'s vote link for `itemID` of `edition`: `/v/TOKEN`, short enough that a plain-text digest
    /// keeps it on one line.
    public func voteURL(for subscriber: Subscriber, itemID: Int64, in edition: EditionReference) -> String {
        voteLink.urls(base: configuration.web.baseURL, edition: edition, itemIDs: [itemID], subscriberID: subscriber.id ?? 0)[0]
    }

    /// The digests' Reply-To (`mail.replyAddress`): `reply+TOKEN@…` naming the reader and the edition, so a reply
    /// can carry commands; nil keeps `mail.replyTo`.
    public let replyAddress: ReplyAddress?

    /// The Reply-To of `subscriber`'s digest of (`date`, `kind`): their reply address (with `mail.replyTo`'s name,
    /// else the site's), or `mail.replyTo`; a test send to someone who is not a reader keeps `mail.replyTo`.
    func replyTo(for subscriber: Subscriber, date: Day, kind: EditionKind, testSend: TestSend?) -> Mailbox? {
        guard let replyAddress, let id = subscriber.id, testSend?.inertLinks != true else { return replyTo }
        let address = replyAddress.address(for: .init(date: date, kind: kind, subscriberID: id))
        return Mailbox(name: replyTo?.name ?? configuration.site.name, address: address)
    }

    /// VERP envelope senders (`mail.bounceAddress`); nil sends from the address of `mail.from`.
    public let bounceAddress: BounceAddress?

    /// Signs every message this composer builds; nil when `mail.dkim` is empty. Keys are read (and
    /// a bad one refused, naming its file) when the composer is made, before anything is sent.
    public let dkim: DKIMSigner?

    /// The reader's share of `edition`, leaving out what they already received, cut to their length, and for a
    /// catch-up to what came out after their last edition (`coversSince`).
    ///
    /// A stored edition never changes, so readers who want the same sections and already got the
    /// same candidates (usually none) share one selection instead of each copying the items out.
    public func selection(
        for subscriber: Subscriber, in edition: Edition, alreadyReceived: Set<Int64>, coversSince: Day? = nil
    ) -> DigestSelection {
        let since = coversSince.map(ranker.cutoff(for:))
        func select() -> DigestSelection {
            ranker.select(
                from: edition, wants: subscriber.wants, alreadyReceived: alreadyReceived, length: subscriber.length,
                since: since)
        }
        guard let editionID = edition.id else { return select() }
        let received =
            alreadyReceived.isEmpty
            ? [] : edition.candidates.compactMap { alreadyReceived.contains($0.itemID) ? $0.itemID : nil }
        let key = SelectionKey(
            editionID: editionID, date: edition.date, sections: subscriber.sections, received: received,
            length: subscriber.length, since: coversSince)
        if let cached = selections.withLock({ $0[key] }) { return cached }
        let selection = select()
        selections.withLock { $0.insert(selection, for: key) }
        return selection
    }

    struct SelectionKey: Hashable {
        var editionID: Int64
        var date: Day
        var sections: [ItemKind]
        /// The candidates the reader already received.
        var received: [Int64]
        var length: ReadingLength
        var since: Day?
    }
    private let selections = Mutex(BoundedCache<SelectionKey, DigestSelection>(countLimit: cacheLimit))

    /// The Message-ID of `subscriber`'s copy of edition `date`: the same on every try, so a
    /// re-send after a crash is recognisable as the same message.
    public func messageID(date: Day, subscriberID: Int64) -> String {
        let fingerprint = signer.fingerprint("\(date)|\(subscriberID)")
        return "<digest.\(date.compact).\(subscriberID).\(fingerprint)@\(senderDomain)>"
    }

    public func unsubscribeURL(for subscriber: Subscriber) -> String {
        link("unsubscribe", signer.token(.unsubscribe, subscriberID: subscriber.id ?? 0, email: subscriber.email))
    }

    public func preferencesURL(for subscriber: Subscriber) -> String {
        link("preferences", signer.token(.preferences, subscriberID: subscriber.id ?? 0, email: subscriber.email))
    }

    private func link(_ path: String, _ token: String) -> String { "\(configuration.web.baseURL)/\(path)?token=\(token)" }

    /// `subscriber`'s digest of `edition`: the one way from what they already received to a message, used
    /// by `send`, its dry run, and `preview`. Nil when nothing new is left for them and `digest.skipWhenEmpty`
    /// says to send nothing (`skippingEmpty: false` composes it anyway, for a preview).
    ///
    /// `signing: false` leaves the DKIM signatures out, for a caller that signs the message later (on another
    /// thread) with `dkim.sign(_:time:)` and `now`: the bytes are then the same as signed here.
    public func digest(
        for subscriber: Subscriber, in edition: Edition, alreadyReceived: Set<Int64>, now: Date,
        coversSince: Day? = nil, skippingEmpty: Bool = true, testSend: TestSend? = nil, signing: Bool = true
    ) throws -> ComposedDigest? {
        let selection = selection(
            for: subscriber, in: edition, alreadyReceived: alreadyReceived, coversSince: coversSince)
        if selection.isEmpty && skippingEmpty && configuration.digest.skipWhenEmpty { return nil }
        return try compose(
            selection: selection, date: edition.date, kind: edition.kind, editionID: edition.id, subscriber: subscriber,
            now: now, testSend: testSend, signing: signing)
    }

    /// The items of `edition`'s candidates that readers already received in earlier editions, by reader:
    /// one query for a whole batch of readers.
    public func alreadyReceived(by subscriberIDs: [Int64], before edition: Edition, in store: Store) throws -> [Int64: Set<Int64>] {
        try store.receivedItemIDs(
            subscriberIDs: subscriberIDs, before: edition.date, since: ranker.lookbackStart(for: edition))
    }

    /// What makes a test send (`send --to`) different from the reader's real digest.
    public struct TestSend: Sendable {
        /// A Message-ID of its own, never the real digest's (receivers drop repeated Message-IDs).
        public var messageID: String
        /// The address is not a subscriber: its links must not act for anyone.
        public var inertLinks: Bool
    }

    /// A fresh Message-ID for a test send of edition `date`.
    public func testMessageID(date: Day) -> String {
        return "<test.\(date.compact).\(UUID().uuidString.lowercased().filter { $0 != "-" })@\(senderDomain)>"
    }

    /// The token of the links in a test send to an address that is not a subscriber: the pages
    /// refuse it like any forged token, and it says why to whoever reads the link.
    public static let inertLinkToken = "test-send-not-a-subscriber"

    /// The complete message for `subscriber`, dated `now`; signed (DKIM) unless `signing` is false. Its item
    /// links go through `/r/TOKEN` when clicks are counted and `editionID` names the frozen edition they are from.
    public func compose(
        selection: DigestSelection, date: Day, kind: EditionKind = .daily, editionID: Int64? = nil,
        subscriber: Subscriber, now: Date, testSend: TestSend? = nil, signing: Bool = true
    ) throws -> ComposedDigest {
        // Names reach a header and the greeting: one line, whatever was stored.
        let name = subscriber.name?.collapsingWhitespace ?? ""
        let counted = configuration.privacy.clickCounting == .off ? nil : editionID
        let rendered = rendered(
            CacheKey(
                selection: selection, date: date, kind: kind, cadence: subscriber.cadence, hasName: !name.isEmpty,
                language: templates.languages.language(subscriber.language).code, editionID: counted))
        let inert = testSend?.inertLinks == true
        let unsubscribe = inert ? link("unsubscribe", Self.inertLinkToken) : unsubscribeURL(for: subscriber)
        var values: [PersonalizedText.Field: String] = [
            .name: name, .email: subscriber.email.description, .unsubscribeURL: unsubscribe,
            .preferencesURL: inert ? link("preferences", Self.inertLinkToken) : preferencesURL(for: subscriber),
        ]
        // One vote link per item, numbered as the digest numbers them (`DigestView`: across sections).
        let itemIDs = selection.itemIDs
        let voteURLs =
            inert
            ? Array(repeating: "\(configuration.web.baseURL)/v/\(Self.inertLinkToken)", count: itemIDs.count)
            : voteLink.urls(
                base: configuration.web.baseURL, edition: EditionReference(date: date, kind: kind), itemIDs: itemIDs,
                subscriberID: subscriber.id ?? 0)
        for (index, url) in voteURLs.enumerated() { values[.voteURL(index + 1)] = url }
        // A test send's clicks count for the item alone: its address is not a reader.
        if let counted, configuration.privacy.clickCounting == .perReader, !inert, let id = subscriber.id {
            values[.clickReader] = ClickToken.readerSuffix(editionID: counted, subscriberID: id, signer: signer)
        }
        let subject = rendered.subject.fill(values)
        let html = subscriber.format == .html ? rendered.html : nil
        let htmlValues = html == nil ? [:] : values.mapValues(HTMLEscaping.escape)
        let messageID = testSend?.messageID ?? messageID(date: date, subscriberID: subscriber.id ?? 0)
        var listUnsubscribe = [unsubscribe]
        if let mailto = configuration.mail.unsubscribeMailto {
            listUnsubscribe.append("mailto:\(mailto)?subject=unsubscribe")
        }
        var builder = MessageBuilder(
            from: from, to: Mailbox(name: name.isEmpty ? nil : name, address: subscriber.email),
            replyTo: replyTo(for: subscriber, date: date, kind: kind, testSend: testSend),
            subject: subject, date: now, messageID: messageID, listID: listID, listUnsubscribe: listUnsubscribe,
            oneClickUnsubscribe: oneClick, text: "", html: nil)
        builder.fixed = fixedFields
        builder.subjectField = rendered.subjectField
        builder.dkim = signing ? dkim : nil
        // Each body's transfer encoding, chosen once per rendering by size (base64 for mostly non-Latin text).
        let (textEncoding, htmlEncoding) = (rendered.text.transferEncoding, rendered.html.transferEncoding)
        let data = try builder.build(
            bodyReserve: rendered.text.reserve(values, textEncoding) + (html?.reserve(htmlValues, htmlEncoding) ?? 0),
            text: { rendered.text.append(values, textEncoding, to: &$0) },
            html: html.map { html in { html.append(htmlValues, htmlEncoding, to: &$0) } },
            textEncoding: textEncoding, htmlEncoding: htmlEncoding)
        return ComposedDigest(
            subject: subject, textBody: rendered.text, textValues: values, htmlBody: html, htmlValues: htmlValues,
            message: MailMessage(
                sender: bounceAddress?.sender(for: .init(date: date, subscriberID: subscriber.id ?? 0)) ?? from.address,
                recipient: subscriber.email, messageID: messageID, data: data),
            itemIDs: itemIDs, isEmpty: selection.isEmpty,
            notes: oneClick ? [] : ["web.baseURL is not https: List-Unsubscribe-Post (RFC 8058 one-click) is left out"])
    }

    /// RFC 8058 one-click unsubscribe needs an https link; over plain http the header is left out.
    var oneClick: Bool { configuration.web.baseURL.hasPrefix("https://") }

    /// `List-Id` (RFC 2919): the site's name and a list identifier under the sender's domain.
    let listID: String
    /// From, Reply-To and List-Id, folded once for every message.
    let fixedFields: MessageBuilder.FixedFields

    private func rendered(_ key: CacheKey) -> RenderedDigest {
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let rendered = render(key)
        cache.withLock { $0.insert(rendered, for: key) }
        return rendered
    }

    /// The edition's page in the archive (`/archive/DATE`, `/archive/DATE/weekly`, with its key when the archive
    /// is for readers only), or nil when there is no archive (or the edition has no page: a catch-up is cut to
    /// each reader).
    func webVersion(of date: Day, kind: EditionKind = .daily) -> String? {
        guard kind != .catchUp else { return nil }
        let page = configuration.web.baseURL + "/archive/" + kind.archivePath(date)
        switch configuration.web.archive {
        case .public: return page
        case .readers: return page + "?key=" + signer.archiveKey(for: date)
        case .off: return nil
        }
    }

    /// Where an item's link in the digest leads: straight to the item, or, when clicks are counted, through
    /// `/r/TOKEN`, the same for every reader of the edition (`aggregate`) or ending in the reader's part
    /// (`perReader`, a placeholder filled per copy), so the body is still rendered once per selection.
    func itemLink(editionID: Int64?) -> (EditionItem) -> String {
        guard let editionID else { return \.url }
        let reader = configuration.privacy.clickCounting == .perReader ? PersonalizedText.placeholder(.clickReader) : ""
        return { [signer, configuration] item in
            configuration.web.baseURL + "/r/" + ClickToken.item(editionID: editionID, itemID: item.itemID, signer: signer)
                + reader
        }
    }

    private func render(_ key: CacheKey) -> RenderedDigest {
        let reader = DigestView.Reader(
            name: PersonalizedText.placeholder(.name), hasName: key.hasName, email: PersonalizedText.placeholder(.email))
        let links = DigestView.Links(
            unsubscribe: PersonalizedText.placeholder(.unsubscribeURL),
            preferences: PersonalizedText.placeholder(.preferencesURL), webVersion: webVersion(of: key.date, kind: key.kind))
        let language = templates.languages.language(key.language)
        var view = DigestView(
            selection: key.selection, date: key.date, kind: key.kind, cadence: key.cadence, configuration: configuration,
            language: language, reader: reader, links: links, itemLink: itemLink(editionID: key.editionID),
            voteURL: { PersonalizedText.placeholder(.voteURL($0)) })
        // One line, whatever the template or the titles hold: a subject can never add a header.
        view.subject = DigestView.cap(templates.render(view, "subject.txt").collapsingWhitespace, Self.subjectLimit)
        // A right-to-left subject starts with a right-to-left mark, so a mail list (Gmail's) lays it out right to
        // left even when it opens with the site's Latin name or an English title.
        if language.isRightToLeft { view.subject = "\u{200F}" + view.subject }
        let text = TextWrapping.wrap(templates.render(view, "digest.txt").trimmingCharacters(in: .newlines) + "\n")
        let html = templates.render(view, "digest.html")
        return RenderedDigest(
            subject: PersonalizedText(view.subject), text: PersonalizedText(text), html: PersonalizedText(html))
    }
}

public enum HTMLEscaping {
    /// The five characters that matter in HTML text and quoted attributes.
    public static func escape(_ text: String) -> String {
        // Most values (links, most names) hold none of them.
        if !text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
