import DigestCore
import Foundation
import Hummingbird
import Logging

/// The sign-up form:
///
/// ```
/// GET  /            → 303 to the form
/// GET  /subscribe   the form, with a fresh math question
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
        routes.get("subscribe") { _, _ in form(SubscribeForm(), status: .ok) }
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
        var errors: [String: String] = [:]
    }

    func form(_ form: SubscribeForm, status: HTTPResponse.Status) -> Response {
        let challenge = challenges.make(now: reader.settings.now())
        var view: [String: Any] = [
            "title": "Subscribe",
            "email": form.email, "name": form.name,
            "sections": reader.sectionChoices(checked: form.sections),
            "formatHTML": form.format == .html, "formatText": form.format == .text,
            "cadenceDaily": form.cadence == .daily, "cadenceWeekly": form.cadence == .weekly,
            // Sections and format sit folded, so the form is one phone screen; open when not as they come.
            "moreOpen": form.sections.map { $0 != Set(reader.configuration.digest.sections.map(\.kind)) } ?? false
                || form.format != .html || form.errors[FormField.sections] != nil
                || form.errors[FormField.format] != nil,
            "question": challenge.question, "token": challenge.token,
        ]
        reader.addErrors(form.errors, to: &view)
        return reader.pages.page("subscribe", view, status: status)
    }

    @Sendable func subscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let logger = reader.logger
        var form = SubscribeForm()
        form.email = body[FormField.email] ?? ""
        form.name = body[FormField.name] ?? ""
        // No `sections` field at all (a form that leaves them out) means every section; the page's own
        // form always sends its hidden empty marker, so nothing ticked there is an error, as in preferences.
        if body.contains(FormField.sections) {
            let (kinds, error) = reader.chosenSections(body)
            form.sections = kinds
            if let error { form.errors[FormField.sections] = error }
        }
        if let format = body[FormField.format] {
            if let value = DigestFormat(rawValue: format) {
                form.format = value
            } else {
                form.errors[FormField.format] = "Choose HTML or plain text."
            }
        }
        if let cadence = body[FormField.cadence] {
            if let value = Cadence(rawValue: cadence), value != .monthly {
                form.cadence = value
            } else {
                form.errors[FormField.cadence] = "Choose daily or weekly."
            }
        }

        if body[FormField.honeypot] != nil {
            logger.info("sign-up refused: honeypot filled", metadata: ["http.client": "\(context.clientAddress)"])
            form.errors["form"] = "This form could not be sent. If you are a person, leave the field “Website” empty."
            return self.form(form, status: .unprocessableContent)
        }

        var email: EmailAddress?
        if form.email.isEmpty {
            form.errors[FormField.email] = "Enter your email address."
        } else {
            do {
                email = try EmailAddress(form.email)
            } catch {
                form.errors[FormField.email] =
                    "Enter a valid email address, like name@example.com (this one \(error.reason))."
            }
        }
        if form.name.count > 200 { form.errors[FormField.name] = "Shorten your name to 200 characters or fewer." }

        // The question is good for one try. A right answer is used up by the sign-up's own transaction
        // (below), which also remembers the address, so a repeat of the same POST is recognised.
        var challenge: UsedChallenge?
        let already = "That question was already answered. Please solve the new one."
        let answer = body[FormField.answer]
        switch body[FormField.token].map({ challenges.check(token: $0, answer: answer ?? "", now: now) }) {
        case nil: form.errors[FormField.answer] = "The question was missing. Please solve the new one."
        case .malformed?: form.errors[FormField.answer] = "The question was not valid. Please solve the new one."
        case .correct(let id, let expiresAt)?: challenge = UsedChallenge(id: id, expiresAt: expiresAt)
        case .expired(let id, let expiresAt)?:
            let minutes = Int(reader.settings.challengeLifetime / 60)
            form.errors[FormField.answer] =
                try await useUp(UsedChallenge(id: id, expiresAt: expiresAt), now: now)
                ? "The question expired (each lasts \(minutes) minutes). Please solve the new one." : already
        case .wrong(let id, let expiresAt)?:
            let wrong =
                answer == nil ? "Enter the result of the sum." : "That is not the right result. Please try the new question."
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
        return reader.pages.page("check-inbox", ["title": "Check your inbox", "email": email.description])
    }

    /// Marks a question used without a sign-up (a wrong or late answer, or a form with other errors);
    /// false when it already was.
    private func useUp(_ challenge: UsedChallenge, now: Date) async throws -> Bool {
        try await reader.database.run { try $0.useChallenge(id: challenge.id, expiresAt: challenge.expiresAt, now: now) }
    }
}
