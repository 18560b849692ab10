import DigestCore
import Foundation
import Hummingbird
import Logging

/// The reader-facing pages:
///
/// ```
/// GET  /subscribe                 the form, with a fresh math question
/// POST /subscribe                 sign up → "check your inbox" (or the form again, 422)
/// GET  /confirm?token=…           a page with a button (changes nothing: link scanners follow GETs)
/// POST /confirm                   token in the body → active
/// GET  /unsubscribe?token=…       a page with a button
/// POST /unsubscribe?token=…       unsubscribes at once (RFC 8058 body `List-Unsubscribe=One-Click`, or the button)
/// GET  /preferences?token=…       sections, format, time zone, delivery hour
/// POST /preferences               token in the body → saved (or the form again, 422)
/// ```
struct SubscriptionRoutes: Sendable {
    /// Form field names: a stable contract, documented in README, so sites can embed the form.
    enum Field {
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
    }

    let store: Store
    let configuration: Configuration
    let signer: LinkSigner
    let challenges: ChallengeSigner
    let pages: WebPages
    let mailer: ConfirmationMailer
    let settings: WebSettings
    let ipLimiter: RateLimiter
    let addressLimiter: RateLimiter
    let from: Mailbox
    let dkim: DKIMSigner?
    let logger: Logger

    init(
        store: Store, configuration: Configuration, signer: LinkSigner, pages: WebPages, mailer: ConfirmationMailer,
        settings: WebSettings, logger: Logger
    ) throws {
        self.store = store
        self.configuration = configuration
        self.signer = signer
        challenges = ChallengeSigner(signer: signer, lifetime: settings.challengeLifetime)
        self.pages = pages
        self.mailer = mailer
        self.settings = settings
        ipLimiter = RateLimiter(capacity: settings.ipLimit.capacity, refillEvery: settings.ipLimit.interval)
        addressLimiter = RateLimiter(
            capacity: settings.addressLimit.capacity, refillEvery: settings.addressLimit.interval)
        from = try Mailbox(parsing: configuration.mail.from)
        dkim = try DKIMSigner(configuration: configuration.mail.dkim)
        self.logger = logger
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "subscribe"])
        }
        router.get("subscribe") { _, _ in subscribeForm(SubscribeForm(), status: .ok) }
        router.post("subscribe") { request, context in try await posted(request, context, subscribe) }
        router.get("confirm") { request, _ in try confirmPage(request) }
        router.post("confirm") { request, context in try await posted(request, context, confirm) }
        router.get("unsubscribe") { request, _ in try unsubscribePage(request) }
        router.post("unsubscribe") { request, context in
            try await posted(request, context, limitedPerIP: false, unsubscribe)
        }
        router.get("preferences") { request, _ in try preferencesPage(request) }
        router.post("preferences") { request, context in try await posted(request, context, savePreferences) }
    }

    // MARK: Subscribe

    /// What the reader typed, and what is wrong with it, to show the form again.
    struct SubscribeForm {
        var email = ""
        var name = ""
        var sections: Set<ItemKind>? = nil
        var format: DigestFormat = .html
        var errors: [String: String] = [:]
    }

    func subscribeForm(_ form: SubscribeForm, status: HTTPResponse.Status) -> Response {
        let challenge = challenges.make(now: settings.now())
        var view: [String: Any] = [
            "title": "Subscribe",
            "email": form.email, "name": form.name,
            "sections": sectionChoices(checked: form.sections),
            "formatHTML": form.format == .html, "formatText": form.format == .text,
            "question": challenge.question, "token": challenge.token,
        ]
        addErrors(form.errors, to: &view)
        return pages.page("subscribe", view, status: status)
    }

    func subscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {

        var form = SubscribeForm()
        form.email = body[Field.email] ?? ""
        form.name = body[Field.name] ?? ""
        let chosen = body.values(Field.sections)
        // No `sections` field at all (a form that leaves them out) means every section.
        form.sections = chosen.isEmpty ? nil : Set(chosen.compactMap(ItemKind.init(rawValue:)))
        if let format = body[Field.format] {
            if let value = DigestFormat(rawValue: format) {
                form.format = value
            } else {
                form.errors[Field.format] = "Choose HTML or plain text."
            }
        }

        if body[Field.honeypot] != nil {
            logger.info("sign-up refused: honeypot filled", metadata: ["http.peer": "\(context.peerIP)"])
            form.errors["form"] = "This form could not be sent. If you are a person, leave the field “Website” empty."
            return subscribeForm(form, status: .unprocessableContent)
        }

        if let error = try checkChallenge(token: body[Field.token], answer: body[Field.answer], now: now) {
            form.errors[Field.answer] = error
        }

        var email: EmailAddress?
        if form.email.isEmpty {
            form.errors[Field.email] = "Enter your email address."
        } else {
            do {
                email = try EmailAddress(form.email)
            } catch {
                form.errors[Field.email] = "Enter a valid email address, like name@example.com (this one \(error.reason))."
            }
        }
        if form.name.count > 200 { form.errors[Field.name] = "Shorten your name to 200 characters or fewer." }
        let configuredKinds = Set(configuration.digest.sections.map(\.kind))
        if chosen.contains(where: { ItemKind(rawValue: $0).map { !configuredKinds.contains($0) } ?? true }) {
            form.errors[Field.sections] = "Choose sections from the list."
        }
        guard form.errors.isEmpty, let email else { return subscribeForm(form, status: .unprocessableContent) }

        guard addressLimiter.allow(email.description.lowercased(), now: now) else { return tooManyRequests() }

        // All sections chosen is stored as "every section", so new sections reach the reader too.
        let kinds = configuration.digest.sections.map(\.kind).filter { form.sections?.contains($0) ?? true }
        let draft = try Subscriber.validated(
            email: email, name: form.name.isEmpty ? nil : form.name, format: form.format.rawValue, timeZone: nil,
            sections: kinds.count == configuredKinds.count ? nil : kinds.map(\.rawValue).joined(separator: ","),
            deliveryHour: nil, confirmed: false, now: now)
        let outcome = try store.signUp(draft, now: now, resendInterval: settings.confirmationResendInterval)
        switch outcome {
        case .sendConfirmation(let subscriber):
            do {
                mailer.enqueue(try confirmationMail(for: subscriber, now: now))
                logger.info("sign-up: confirmation mail queued", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
            } catch {
                logger.error("confirmation mail could not be built", metadata: ["error": "\(error)"])
            }
        case .recentlySent(let subscriber):
            logger.info("sign-up: confirmation sent recently, none sent", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        case .alreadyActive(let subscriber):
            logger.info("sign-up: already active, nothing changed", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        }
        // The same page whatever happened: the form must not reveal who is subscribed.
        return pages.page("check-inbox", ["title": "Check your inbox", "email": email.description])
    }

    /// nil when the answer is right; otherwise the message for the answer field. Any well-formed
    /// token is used up by this one try, right or wrong.
    private func checkChallenge(token: String?, answer: String?, now: Date) throws -> String? {
        guard let token else { return "The question was missing. Please solve the new one." }
        let check = challenges.check(token: token, answer: answer ?? "", now: now)
        let id: String
        let expiresAt: Date
        switch check {
        case .malformed: return "The question was not valid. Please solve the new one."
        case .correct(let i, let e), .wrong(let i, let e), .expired(let i, let e):
            id = i
            expiresAt = e
        }
        guard try store.useChallenge(id: id, expiresAt: expiresAt, now: now) else {
            return "That question was already answered. Please solve the new one."
        }
        switch check {
        case .correct: return nil
        case .expired:
            return "The question expired (each lasts \(Int(settings.challengeLifetime / 60)) minutes). Please solve the new one."
        default:
            return answer == nil ? "Enter the result of the sum." : "That is not the right result. Please try the new question."
        }
    }

    /// The confirmation mail for `subscriber`, with a signed link that expires.
    func confirmationMail(for subscriber: Subscriber, now: Date) throws -> MailMessage {
        let id = subscriber.id ?? 0
        let token = signer.token(
            .confirm, subscriberID: id, email: subscriber.email, expires: now + settings.confirmLinkLifetime)
        let view: [String: Any] = [
            "confirmURL": "\(configuration.web.baseURL)/confirm?token=\(token)",
            "email": subscriber.email.description,
            "name": subscriber.name ?? "", "hasName": subscriber.name != nil,
            "expiresInDays": Int(settings.confirmLinkLifetime / 86400),
        ]
        let subject = pages.render("confirm-subject.txt", view)
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        let text = pages.render("confirm.txt", view)
        let html = subscriber.format == .html ? pages.render("confirm.html", view) : nil
        let random = UUID().uuidString.lowercased().prefix(13)
        let messageID = "<confirm.\(id).\(Int(now.timeIntervalSince1970)).\(random)@\(from.address.asciiDomain)>"
        let data = try MessageBuilder(
            from: from, to: Mailbox(name: subscriber.name, address: subscriber.email), subject: subject, date: now,
            messageID: messageID, text: text, html: html, dkim: dkim
        ).build()
        return MailMessage(sender: from.address, recipient: subscriber.email, messageID: messageID, data: data)
    }

    // MARK: Confirm

    func confirmPage(_ request: Request) throws -> Response {
        let token = request.uri.queryParameters.get(Field.token)
        switch try check(token, .confirm) {
        case .failure(let failure): return failure.response
        case .success(let subscriber):
            if subscriber.status == .active {
                return pages.message("Already confirmed", "\(subscriber.email) is subscribed. There is nothing more to do.")
            }
            guard subscriber.status == .pending else { return notApplicable() }
            return pages.page("confirm", ["title": "Confirm your subscription", "email": subscriber.email.description, "token": token ?? ""])
        }
    }

    func confirm(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = body[Field.token] ?? request.uri.queryParameters.get(Field.token)
        switch try check(token, .confirm) {
        case .failure(let failure): return failure.response
        case .success(let subscriber):
            switch try store.confirmSubscriber(id: subscriber.id!, now: now) {
            case .changed(let subscriber), .unchanged(let subscriber):
                logger.info("subscription confirmed", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
                return pages.message(
                    "You are subscribed",
                    "Thank you. The daily digest of \(configuration.site.name) will reach \(subscriber.email) from the next edition on.")
            case .notApplicable: return notApplicable()
            case .notFound: return notFound()
            }
        }
    }

    // MARK: Unsubscribe

    func unsubscribePage(_ request: Request) throws -> Response {
        let token = request.uri.queryParameters.get(Field.token)
        switch try check(token, .unsubscribe, acceptExpired: true) {
        case .failure(let failure): return failure.response
        case .success(let subscriber):
            if subscriber.status == .unsubscribed {
                return pages.message(
                    "Already unsubscribed", "\(subscriber.email) receives no more digests.",
                    link: (href: "subscribe", label: "Subscribe again"))
            }
            return pages.page(
                "unsubscribe",
                ["title": "Unsubscribe", "email": subscriber.email.description, "token": token ?? "",
                 "action": "unsubscribe?token=\(token ?? "")"])
        }
    }

    /// RFC 8058 §3.2: the mail provider POSTs `List-Unsubscribe=One-Click` to the URL of the
    /// List-Unsubscribe header; the button on the page POSTs the same. Either unsubscribes at once.
    /// No per-IP limit here: one-click POSTs come from a few mail-provider servers for many readers,
    /// and the signed token already limits what a request can do.
    func unsubscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = request.uri.queryParameters.get(Field.token) ?? body[Field.token]
        switch try check(token, .unsubscribe, acceptExpired: true) {
        case .failure(let failure): return failure.response
        case .success(let subscriber):
            switch try store.unsubscribeSubscriber(id: subscriber.id!, now: now) {
            case .changed(let subscriber), .unchanged(let subscriber), .notApplicable(let subscriber):
                logger.info(
                    "unsubscribed",
                    metadata: [
                        "subscriber.id": "\(subscriber.id ?? 0)",
                        "oneClick": "\(body["List-Unsubscribe"] == "One-Click")",
                    ])
                return pages.message(
                    "You are unsubscribed", "\(subscriber.email) will receive no more digests.",
                    link: (href: "subscribe", label: "Changed your mind? Subscribe again"))
            case .notFound: return notFound()
            }
        }
    }

    // MARK: Preferences

    struct PreferencesForm {
        var sections: Set<ItemKind>?
        var format: DigestFormat
        var timeZone: String
        var deliveryHour: String
        var errors: [String: String] = [:]

        init(_ subscriber: Subscriber) {
            sections = subscriber.sections.isEmpty ? nil : Set(subscriber.sections)
            format = subscriber.format
            timeZone = subscriber.timeZone ?? ""
            deliveryHour = subscriber.deliveryHour.map(String.init) ?? ""
        }
    }

    func preferencesForm(
        _ form: PreferencesForm, subscriber: Subscriber, token: String, saved: Bool = false,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let hours = (0...23).map { hour in
            ["value": "\(hour)", "label": String(format: "%02d:00", hour), "selected": form.deliveryHour == "\(hour)"]
        }
        var view: [String: Any] = [
            "title": "Your digest preferences", "email": subscriber.email.description, "token": token,
            "saved": saved, "status": subscriber.status.rawValue, "isActive": subscriber.status == .active,
            "sections": sectionChoices(checked: form.sections),
            "formatHTML": form.format == .html, "formatText": form.format == .text,
            "timeZone": form.timeZone, "siteTimeZone": configuration.site.timeZone.identifier,
            "timeZones": TimeZone.knownTimeZoneIdentifiers.sorted(),
            "hours": hours, "defaultHour": String(format: "%02d:00", configuration.digest.sendHour),
            "defaultHourSelected": form.deliveryHour.isEmpty,
        ]
        addErrors(form.errors, to: &view)
        return pages.page("preferences", view, status: status)
    }

    func preferencesPage(_ request: Request) throws -> Response {
        let token = request.uri.queryParameters.get(Field.token)
        switch try check(token, .preferences) {
        case .failure(let failure): return failure.response
        case .success(let subscriber):
            return preferencesForm(PreferencesForm(subscriber), subscriber: subscriber, token: token ?? "")
        }
    }

    func savePreferences(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = body[Field.token] ?? request.uri.queryParameters.get(Field.token) ?? ""
        var subscriber: Subscriber
        switch try check(token, .preferences) {
        case .failure(let failure): return failure.response
        case .success(let found): subscriber = found
        }
        guard addressLimiter.allow(subscriber.email.description.lowercased(), now: now) else {
            return tooManyRequests()
        }
        var form = PreferencesForm(subscriber)
        let chosen = body.values(Field.sections)
        form.sections = Set(chosen.compactMap(ItemKind.init(rawValue:)))
        let configuredKinds = Set(configuration.digest.sections.map(\.kind))
        if chosen.isEmpty {
            form.errors[Field.sections] = "Choose at least one section."
        } else if chosen.contains(where: { ItemKind(rawValue: $0).map { !configuredKinds.contains($0) } ?? true }) {
            form.errors[Field.sections] = "Choose sections from the list."
        }
        let format = body[Field.format] ?? ""
        if let value = DigestFormat(rawValue: format) {
            form.format = value
        } else {
            form.errors[Field.format] = "Choose HTML or plain text."
        }
        form.timeZone = body[Field.timeZone] ?? ""
        if !form.timeZone.isEmpty && (TimeZone(identifier: form.timeZone) == nil || form.timeZone.count > 64) {
            form.errors[Field.timeZone] =
                "Enter a time zone name from the list, such as Europe/Berlin or America/New_York, or leave it empty."
        }
        form.deliveryHour = body[Field.deliveryHour] ?? ""
        if !form.deliveryHour.isEmpty && Int(form.deliveryHour).map({ (0...23).contains($0) }) != true {
            form.errors[Field.deliveryHour] = "Choose an hour from 00:00 to 23:00."
        }
        guard form.errors.isEmpty else {
            return preferencesForm(form, subscriber: subscriber, token: token, status: .unprocessableContent)
        }
        let kinds = configuration.digest.sections.map(\.kind).filter { form.sections?.contains($0) ?? true }
        subscriber.sections = kinds.count == configuredKinds.count ? [] : kinds
        subscriber.format = form.format
        subscriber.timeZone = form.timeZone.isEmpty ? nil : form.timeZone
        subscriber.deliveryHour = form.deliveryHour.isEmpty ? nil : Int(form.deliveryHour)
        try store.update(subscriber)
        logger.info("preferences saved", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        return preferencesForm(PreferencesForm(subscriber), subscriber: subscriber, token: token, saved: true)
    }

    // MARK: Shared

    /// The subscriber a signed link names, or the page to answer with: 400 for a token that is
    /// malformed, forged, for another purpose or expired; 404 when its subscriber is gone.
    func check(_ token: String?, _ purpose: TokenPurpose, acceptExpired: Bool = false) throws
        -> Result<Subscriber, ResponseFailure>
    {
        guard let token, let id = LinkSigner.subscriberID(in: token) else { return .failure(ResponseFailure(badLink())) }
        guard let subscriber = try store.subscriber(id: id) else { return .failure(ResponseFailure(notFound())) }
        switch signer.verify(token, purpose: purpose, subscriberID: id, email: subscriber.email, now: settings.now()) {
        case .valid: return .success(subscriber)
        case .expired where acceptExpired: return .success(subscriber)
        case .expired:
            return .failure(
                ResponseFailure(
                    pages.message(
                        "This link has expired",
                        "Confirmation links last \(Int(settings.confirmLinkLifetime / 86400)) days. Sign up again to get a new one.",
                        status: .badRequest, link: (href: "subscribe", label: "Sign up again"))))
        case .invalid: return .failure(ResponseFailure(badLink()))
        }
    }

    func badLink() -> Response {
        pages.message(
            "This link is not valid",
            "The link may have been cut short or changed. Copy the whole link from the email and try again.",
            status: .badRequest)
    }

    func notFound() -> Response {
        pages.message(
            "Not on the list", "This link belongs to an address that is no longer on the list.", status: .notFound,
            link: (href: "subscribe", label: "Subscribe"))
    }

    func notApplicable() -> Response {
        pages.message(
            "This link no longer applies", "This address was unsubscribed since the link was sent. Sign up again to resume.",
            status: .badRequest, link: (href: "subscribe", label: "Sign up again"))
    }

    func tooManyRequests() -> Response {
        var response = pages.message(
            "Too many requests", "Please wait a few minutes, then try again.", status: .tooManyRequests)
        response.headers[.retryAfter] = "120"
        return response
    }

    /// What every POST handler starts with: the body as form fields (a 413 page when it is too large),
    /// then the per-IP limit (a 429 page), then `handle` with the fields and the request's time.
    private func posted(
        _ request: Request, _ context: WebRequestContext, limitedPerIP: Bool = true,
        _ handle: (Request, WebRequestContext, FormData, Date) async throws -> Response
    ) async throws -> Response {
        let now = settings.now()
        let body: FormData
        switch try await readForm(request) {
        case .success(let form): body = form
        case .failure(let failure): return failure.response
        }
        if limitedPerIP, !ipLimiter.allow(context.peerIP, now: now) { return tooManyRequests() }
        return try await handle(request, context, body, now)
    }

    /// The body as form fields, or a 413 page when it is over `settings.maxFormBytes`.
    func readForm(_ request: Request) async throws -> Result<FormData, ResponseFailure> {
        let limit = settings.maxFormBytes
        let tooLarge = ResponseFailure(
            pages.message(
                "Too much data", "The form sent more than \(limit / 1024) KB. Please shorten what you entered.",
                status: .contentTooLarge))
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return .failure(tooLarge) }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return .success(FormData(bytes: buffer.readableBytesView))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return .failure(tooLarge)
        }
    }

    /// The configured sections as checkboxes; nil `checked` means every one.
    private func sectionChoices(checked: Set<ItemKind>?) -> [[String: Any]] {
        configuration.digest.sections.map { section in
            [
                "value": section.kind.rawValue, "label": section.title, "id": "section-\(section.kind.rawValue)",
                "checked": checked?.contains(section.kind) ?? true,
            ]
        }
    }

    /// Puts each field's error under `<field>Error` and all of them, in form order, under `errors`
    /// (the summary at the top links to each field).
    private func addErrors(_ errors: [String: String], to view: inout [String: Any]) {
        let order = ["form", Field.email, Field.name, Field.sections, Field.format, Field.answer, Field.timeZone,
                     Field.deliveryHour]
        view["hasErrors"] = !errors.isEmpty
        view["errors"] = order.compactMap { field in
            errors[field].map { ["field": field == "form" ? Field.email : field, "message": $0] }
        }
        for (field, message) in errors { view[field + "Error"] = message }
    }
}
