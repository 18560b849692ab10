import DigestCore
import Foundation
import Hummingbird
import Logging

/// Form field names: a stable contract, documented in README, so sites can embed the form.
enum FormField {
    static let email = "email"
    static let name = "name"
    static let answer = "answer"
    static let token = "token"
    static let sections = "sections"
    static let format = "format"
    /// The honeypot: hidden from people, filled by naive bots.
    static let honeypot = "website"
    static let timeZone = "timeZone"
    static let deliveryHour = "deliveryHour"
    /// `daily`, `weekly` or `monthly` (the sign-up form offers the first two).
    static let cadence = "cadence"
    /// `mon` … `sun`: the day of the weekly edition.
    static let weekday = "weekday"
    /// How long to pause: `keep`, `none`, `1w`, `2w`, `1m` or `until` (then `pausedUntil`, `YYYY-MM-DD`).
    static let pause = "pause"
    static let pausedUntil = "pausedUntil"
    /// `site`, `counts` (then `maxStories`, `maxPosts`) or `minutes` (then `readingMinutes`).
    static let length = "length"
    static let maxStories = "maxStories"
    static let maxPosts = "maxPosts"
    static let readingMinutes = "readingMinutes"
    /// One of `site.languages`: the language the reader signs up in, or chooses in preferences.
    static let language = "language"
}

/// What the reader-facing controllers share: the store (through `database`, never on the caller's
/// thread), the templates, signed-link checks, the
/// form body reader and the per-client and per-address limits.
struct ReaderPages: Sendable {
    let database: StoreExecutor
    let configuration: Configuration
    let signer: LinkSigner
    let pages: WebPages
    let settings: WebSettings
    let clientLimiter: RateLimiter
    let addressLimiter: RateLimiter
    let logger: Logger

    init(
        database: StoreExecutor, configuration: Configuration, signer: LinkSigner, pages: WebPages, settings: WebSettings,
        logger: Logger
    ) {
        self.database = database
        self.configuration = configuration
        self.signer = signer
        self.pages = pages
        self.settings = settings
        clientLimiter = RateLimiter(capacity: settings.ipLimit.capacity, refillEvery: settings.ipLimit.interval)
        addressLimiter = RateLimiter(
            capacity: settings.addressLimit.capacity, refillEvery: settings.addressLimit.interval)
        self.logger = logger
    }

    /// The subscriber a signed link names; throws the page to answer with: 400 for a token that is
    /// malformed, forged, for another purpose or expired; 404 when its subscriber is gone.
    func subscriber(for token: String?, _ purpose: TokenPurpose, acceptExpired: Bool = false) async throws
        -> Subscriber
    {
        guard let token, let id = LinkSigner.subscriberID(in: token) else { throw PageError.badLink }
        guard let subscriber = try await database.run({ try $0.subscriber(id: id) }) else {
            throw PageError.notOnTheList
        }
        switch signer.verify(token, purpose: purpose, subscriberID: id, email: subscriber.email, now: settings.now()) {
        case .valid: return subscriber
        case .expired where acceptExpired: return subscriber
        case .expired: throw PageError.expiredLink(days: Int(settings.confirmLinkLifetime / 86400))
        case .invalid: throw PageError.badLink
        }
    }

    /// The language a page is shown in (`WebPages.language(for:stored:)`).
    func language(for request: Request, stored: String? = nil) -> Language {
        pages.language(for: request, stored: stored)
    }

    /// The language switch of a page shown in `current`: a link to the same page in each other language of the
    /// site, named in its own language (`href` makes the link from the code).
    func languageSwitch(current: Language, to view: inout [String: Any], href: (String) -> String) {
        let others = pages.languages.codes.filter { $0 != current.code }.map { code -> [String: Any] in
            let language = pages.languages.language(code)
            return ["code": code, "name": language.text("language.name"), "direction": language.direction, "href": href(code)]
        }
        view["languages"] = others
        view["hasLanguages"] = !others.isEmpty
    }

    /// The sign-up page's address (after `base`, the way to the site's root) in `language`: with `?lang=` when
    /// that is not the site's own.
    func subscribeLink(_ base: String = "", in language: Language) -> String {
        base + "subscribe" + (language.code == pages.languages.site.code ? "" : "?lang=\(language.code)")
    }

    /// The day `now` falls on in the site's zone: what "pause for a month" counts from.
    func today(_ now: Date) -> Day { Day(now, in: configuration.site.timeZone) }

    /// The page that says what a reader's choice changed (`title`, then one paragraph a sentence), with links
    /// back to their preferences and to the unsubscribe page. Its URLs are relative to a page one folder
    /// down (`/unsubscribe/weekly`, `/preferences/resume`), like every form action here, so `web.baseURL`
    /// may carry a path.
    func choiceSaved(_ title: String, _ sentences: [String], for subscriber: Subscriber) -> Response {
        let (id, email) = (subscriber.id ?? 0, subscriber.email)
        let language = pages.languages.language(subscriber.language)
        let toPreferences = Language.split(language.text("saved.preferences"), at: "link")
        let toUnsubscribe = Language.split(language.text("saved.stop"), at: "link")
        return pages.page(
            "choice-saved",
            [
                "title": title, "sentences": sentences,
                "toPreferences": ["before": toPreferences.before, "after": toPreferences.after],
                "toUnsubscribe": ["before": toUnsubscribe.before, "after": toUnsubscribe.after],
                "preferencesURL": "../preferences?token=\(signer.token(.preferences, subscriberID: id, email: email))",
                "unsubscribeURL": "../unsubscribe?token=\(signer.token(.unsubscribe, subscriberID: id, email: email))",
            ], language: language)
    }

    /// A GET of a path whose only business is a POST (`/unsubscribe/weekly`, `/preferences/resume`): a mail
    /// scanner, a reload or a pasted link is sent on to `page` (relative, one folder up) with the same token,
    /// and nothing changes.
    func seeOther(_ page: String, _ request: Request) -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? ""
        return Response(status: .seeOther, headers: [.location: "../\(page)?token=\(Self.queryValue(token))"])
    }

    /// `text` as a value in a URL's query: letters, digits and `-._~` as they are, the rest percent-encoded.
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Writes a reader's changed settings (every field, as `Store.update` does), then logs `event` about them.
    func save(_ subscriber: Subscriber, _ event: Logger.Message, metadata: Logger.Metadata = [:]) async throws {
        try await database.run { try $0.update(subscriber) }
        logger.info(event, metadata: metadata.merging(["subscriber.id": "\(subscriber.id ?? 0)"]) { $1 })
    }

    /// Takes one token of `email`'s bucket, or throws the 429 page.
    func limitAddress(_ email: EmailAddress, now: Date) throws {
        guard addressLimiter.allow(email.description.lowercased(), now: now) else { throw PageError.tooManyRequests }
    }

    /// What every POST handler starts with: the body as form fields (a 413 page when it is too large),
    /// then the per-client limit (a 429 page), then `handle` with the fields and the request's time.
    func posted(
        limitedPerClient: Bool = true,
        _ handle: @escaping @Sendable (Request, WebRequestContext, FormData, Date) async throws -> Response
    ) -> PageRoutes.Handler {
        { request, context in
            let now = settings.now()
            let body = try await readForm(request)
            if limitedPerClient, !clientLimiter.allow(context.clientAddress, now: now) {
                throw PageError.tooManyRequests
            }
            return try await handle(request, context, body, now)
        }
    }

    /// The body as form fields; throws the 413 page when it is over `settings.maxFormBytes`.
    func readForm(_ request: Request) async throws -> FormData {
        try await FormData.read(request, limit: settings.maxFormBytes)
    }

    /// The configured sections as checkboxes; nil `checked` means every one.
    func sectionChoices(checked: Set<ItemKind>?, language: Language) -> [[String: Any]] {
        configuration.digest.sections.map { section in
            [
                "value": section.kind.rawValue, "label": section.title(in: language.code),
                "id": "section-\(section.kind.rawValue)",
                "checked": checked?.contains(section.kind) ?? true,
            ]
        }
    }

    /// The section kinds a form chose, checked against the configuration, and an error message when
    /// none is ticked (the same in both forms: a digest with no section is no digest) or one is
    /// unknown. Empty values are the forms' hidden marker that says "the checkboxes were shown".
    func chosenSections(_ body: FormData, language: Language) -> (Set<ItemKind>, error: String?) {
        let chosen = body.values(FormField.sections).filter { !$0.isEmpty }
        let configured = Set(configuration.digest.sections.map(\.kind))
        let kinds = Set(chosen.compactMap(ItemKind.init(rawValue:)))
        if chosen.isEmpty { return (kinds, language.text("error.sectionsNone")) }
        if chosen.contains(where: { ItemKind(rawValue: $0).map { !configured.contains($0) } ?? true }) {
            return (kinds, language.text("error.sectionsUnknown"))
        }
        return (kinds, nil)
    }

    /// `kinds` as stored: every configured section is stored as "every section" (empty), so sections
    /// added later reach the reader too.
    func storedSections(_ kinds: Set<ItemKind>) -> [ItemKind] {
        let ordered = configuration.digest.sections.map(\.kind).filter { kinds.contains($0) }
        return ordered.count == configuration.digest.sections.count ? [] : ordered
    }

    /// Puts each field's error under `<field>Error` and all of them, in form order, under `errors`
    /// (the summary at the top links to each field).
    func addErrors(_ errors: [String: String], to view: inout [String: Any]) {
        let order = [
            "form", FormField.email, FormField.name, FormField.sections, FormField.format, FormField.length,
            FormField.maxStories, FormField.maxPosts, FormField.readingMinutes, FormField.cadence, FormField.weekday,
            FormField.pause, FormField.pausedUntil, FormField.answer, FormField.timeZone, FormField.deliveryHour,
        ]
        view["hasErrors"] = !errors.isEmpty
        view["errors"] = order.compactMap { field in
            errors[field].map { ["field": field == "form" ? FormField.email : field, "message": $0] }
        }
        for (field, message) in errors { view[field + "Error"] = message }
    }
}
