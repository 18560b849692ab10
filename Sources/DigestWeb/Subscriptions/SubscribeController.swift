import DigestCore
import Foundation
import Hummingbird
import Logging

/// The sign-up form:
///
/// ```
/// GET  /            → 303 to the form
/// GET  /subscribe   the form, with a fresh math question, in the browser's language (Accept-Language) or
///                   the one chosen with the page's switch (`?lang=ar`)
/// POST /subscribe   sign up → "check your inbox" (or the form again, 422)
/// ```
///
/// A good sign-up writes the pending subscriber and its confirmation mail in one transaction; the
/// outbox worker sends the mail. The answer page reads the same whoever signs up, so the form never
/// tells who is on the list; a repeat of a sign-up that went through (a double click) gets it too.
struct SubscribeController: Sendable {
    let reader: ReaderPages
    let challenges: ChallengeSigner
    let confirmation: ConfirmationMail
    let outbox: OutboxWorker

    init(reader: ReaderPages, confirmation: ConfirmationMail, outbox: OutboxWorker) {
        self.reader = reader
        challenges = ChallengeSigner(signer: reader.signer, lifetime: reader.settings.challengeLifetime)
        self.confirmation = confirmation
        self.outbox = outbox
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "subscribe"]) }
        routes.get("subscribe") { request, _ in
            form(SubscribeForm(language: reader.language(for: request)), status: .ok)
        }
        routes.post("subscribe", reader.posted(subscribe))
    }

    /// What the reader typed, and what is wrong with it, to show the form again.
    struct SubscribeForm {
        var email = ""
        var name = ""
        var sections: Set<ItemKind>? = nil
        var format: DigestFormat = .html
        /// Daily or weekly: the one choice of issue 25 the form offers (weekly readers start on Mondays;
        /// the rest lives in preferences).
        var cadence: Cadence = .daily
        /// The page's language, stored as the reader's.
        var language: Language
        var errors: [String: String] = [:]
    }

    func form(_ form: SubscribeForm, status: HTTPResponse.Status) -> Response {
        let challenge = challenges.make(now: reader.settings.now())
        let language = form.language
        var view: [String: Any] = [
            "title": language.text("subscribe.title"),
            "email": form.email, "name": form.name,
            "sections": reader.sectionChoices(checked: form.sections, language: language),
            "formatHTML": form.format == .html, "formatText": form.format == .text,
            "cadenceDaily": form.cadence == .daily, "cadenceWeekly": form.cadence == .weekly,
            // Sections and format sit folded, so the form is one phone screen; open when not as they come.
            "moreOpen": form.sections.map { $0 != Set(reader.configuration.digest.sections.map(\.kind)) } ?? false
                || form.format != .html || form.errors[FormField.sections] != nil
                || form.errors[FormField.format] != nil,
            "question": language.digits(in: challenge.question), "token": challenge.token,
        ]
        reader.addErrors(form.errors, to: &view)
        reader.languageSwitch(current: language, to: &view) { "subscribe?lang=\($0)" }
        return reader.pages.page("subscribe", view, status: status, language: language)
    }

    @Sendable func subscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let logger = reader.logger
        let languages = reader.pages.languages
        let posted = body[FormField.language]
        let language = posted.flatMap { languages.offers($0) ? languages.language($0) : nil } ?? reader.language(for: request)
        var form = SubscribeForm(language: language)
        form.email = body[FormField.email] ?? ""
        form.name = body[FormField.name] ?? ""
        // No `sections` field at all (a form that leaves them out) means every section; the page's own
        // form always sends its hidden empty marker, so nothing ticked there is an error, as in preferences.
        if body.contains(FormField.sections) {
            let (kinds, error) = reader.chosenSections(body, language: language)
            form.sections = kinds
            if let error { form.errors[FormField.sections] = error }
        }
        if let format = body[FormField.format] {
            if let value = DigestFormat(rawValue: format) {
                form.format = value
            } else {
                form.errors[FormField.format] = language.text("error.format")
            }
        }
        if let cadence = body[FormField.cadence] {
            if let value = Cadence(rawValue: cadence), value != .monthly {
                form.cadence = value
            } else {
                form.errors[FormField.cadence] = language.text("error.cadenceSignUp")
            }
        }

        if body[FormField.honeypot] != nil {
            logger.info("sign-up refused: honeypot filled", metadata: ["http.client": "\(context.clientAddress)"])
            form.errors["form"] = language.text("error.honeypot")
            return self.form(form, status: .unprocessableContent)
        }

        var email: EmailAddress?
        if form.email.isEmpty {
            form.errors[FormField.email] = language.text("error.emailMissing")
        } else {
            do {
                email = try EmailAddress(form.email)
            } catch {
                form.errors[FormField.email] = language.text("error.emailInvalid", ["reason": error.reason])
            }
        }
        if form.name.count > 200 {
            form.errors[FormField.name] = language.text("error.nameTooLong", ["count": language.number(200)])
        }

        // The question is good for one try. A right answer is used up by the sign-up's own transaction
        // (below), which also remembers the address, so a repeat of the same POST is recognised.
        var challenge: UsedChallenge?
        let already = language.text("error.questionUsed")
        // A reader may type the sum in Arabic-Indic digits (١٢) as the page shows it.
        let answer = body[FormField.answer].map(Language.latinDigits)
        switch body[FormField.token].map({ challenges.check(token: $0, answer: answer ?? "", now: now) }) {
        case nil: form.errors[FormField.answer] = language.text("error.questionMissing")
        case .malformed?: form.errors[FormField.answer] = language.text("error.questionInvalid")
        case .correct(let id, let expiresAt)?: challenge = UsedChallenge(id: id, expiresAt: expiresAt)
        case .expired(let id, let expiresAt)?:
            let minutes = Int(reader.settings.challengeLifetime / 60)
            form.errors[FormField.answer] =
                try await useUp(UsedChallenge(id: id, expiresAt: expiresAt), now: now)
                ? language.text("error.questionExpired", count: minutes) : already
        case .wrong(let id, let expiresAt)?:
            let wrong = language.text(answer == nil ? "error.answerMissing" : "error.answerWrong")
            form.errors[FormField.answer] =
                try await useUp(UsedChallenge(id: id, expiresAt: expiresAt), now: now) ? wrong : already
        }
        if let right = challenge, !form.errors.isEmpty {
            if try await !useUp(right, now: now) { form.errors[FormField.answer] = already }
            challenge = nil
        }
        guard form.errors.isEmpty, let email, let challenge else {
            return self.form(form, status: .unprocessableContent)
        }

        try reader.limitAddress(email, now: now)
        var validated = try Subscriber.validated(
            email: email, name: form.name.isEmpty ? nil : form.name, format: form.format.rawValue, timeZone: nil,
            sections: form.sections.map { reader.storedSections($0).map(\.rawValue).joined(separator: ",") },
            deliveryHour: nil, confirmed: false, now: now)
        validated.cadence = form.cadence
        validated.language = language.code
        let draft = validated
        // Past the database deadline the reader gets a 503; the write may still commit meanwhile, and then
        // the same form sent again is recognised (`.repeated`) and answered as a sign-up that went through.
        let (confirmation, resendInterval) = (confirmation, reader.settings.confirmationResendInterval)
        let outcome = try await reader.database.run { store in
            try store.signUp(draft, challenge: challenge, now: now, resendInterval: resendInterval) { subscriber in
                try confirmation.message(for: subscriber, now: now)
            }
        }
        switch outcome {
        case .queued(let subscriber):
            outbox.wake()
            logger.info("sign-up: confirmation mail queued", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        case .requeued(let subscriber):
            outbox.wake()
            logger.info(
                "sign-up: unsent confirmation mail made due again", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        case .recentlySent(let subscriber):
            logger.info(
                "sign-up: confirmation sent recently, none sent", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        case .alreadyActive(let subscriber):
            logger.info("sign-up: already active, nothing changed", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        case .repeated:
            logger.info("sign-up: the same form sent again, nothing changed")
        case .questionUsed:
            form.errors[FormField.answer] = already
            return self.form(form, status: .unprocessableContent)
        }
        // The same page whatever happened: the form must not reveal who is subscribed.
        let again = Language.split(language.text("checkInbox.again"), at: "link")
        return reader.pages.page(
            "check-inbox",
            [
                "title": language.text("checkInbox.heading"),
                "text": language.text("checkInbox.text", ["email": email.description]),
                "again": ["before": again.before, "after": again.after],
                "subscribeURL": reader.subscribeLink(in: language),
            ], language: language)
    }

    /// Marks a question used without a sign-up (a wrong or late answer, or a form with other errors);
    /// false when it already was.
    private func useUp(_ challenge: UsedChallenge, now: Date) async throws -> Bool {
        try await reader.database.run { try $0.useChallenge(id: challenge.id, expiresAt: challenge.expiresAt, now: now) }
    }
}
