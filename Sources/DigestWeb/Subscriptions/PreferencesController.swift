import DigestCore
import Foundation
import Hummingbird
import Logging

/// A reader's settings, reached from the link in every digest:
///
/// ```
/// GET  /preferences?token=…          sections, format, language, length, cadence and weekday, pause, time
///                                    zone, delivery hour; a link to unsubscribe. In the reader's language, or
///                                    the one of the page's switch (`&lang=ar`)
/// POST /preferences                  token in the body → saved, saying what changed (or the form again, 422)
/// POST /preferences/resume           token in the body → the pause cleared, and a page that says so
/// GET  /preferences/resume?token=…   303 to the page: only the button resumes
/// ```
struct PreferencesController: Sendable {
    let reader: ReaderPages

    func addRoutes(to routes: PageRoutes) {
        routes.get("preferences") { request, _ in
            let token = request.uri.queryParameters.get(FormField.token)
            let subscriber = try await reader.subscriber(for: token, .preferences)
            return form(
                PreferencesForm(subscriber, today: reader.today(reader.settings.now())), subscriber: subscriber,
                token: token ?? "", language: reader.language(for: request, stored: subscriber.language))
        }
        routes.post("preferences", reader.posted(save))
        routes.get("preferences/resume") { request, _ in reader.seeOther("preferences", request) }
        routes.post("preferences/resume", reader.posted(resume))
    }

    struct PreferencesForm {
        var sections: Set<ItemKind>?
        var format: DigestFormat
        var timeZone: String
        var deliveryHour: String
        /// The language chosen (a code of `site.languages`; empty: the site's).
        var language: String
        var choices: ChoicesForm
        var errors: [String: String] = [:]

        init(_ subscriber: Subscriber, today: Day) {
            sections = subscriber.sections.isEmpty ? nil : Set(subscriber.sections)
            format = subscriber.format
            timeZone = subscriber.timeZone ?? ""
            deliveryHour = subscriber.deliveryHour.map(String.init) ?? ""
            language = subscriber.language ?? ""
            choices = ChoicesForm(subscriber, today: today)
        }
    }

    /// The page; `saved` holds what a save changed, one sentence each (nil: nothing was saved).
    func form(
        _ form: PreferencesForm, subscriber: Subscriber, token: String, language: Language, saved: [String]? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let configuration = reader.configuration
        let languages = reader.pages.languages
        let hours = (0...23).map { hour in
            ["value": "\(hour)", "label": ChoiceWording.hour(hour, language), "selected": form.deliveryHour == "\(hour)"]
        }
        let chosenLanguage = languages.language(form.language.isEmpty ? nil : form.language).code
        let languageChoices = languages.codes.map { code -> [String: Any] in
            let choice = languages.language(code)
            return [
                "code": code, "name": choice.text("language.name"), "direction": choice.direction,
                "checked": code == (languages.offers(form.language) ? form.language : chosenLanguage),
            ]
        }
        // The zone the hour is read in: the reader's own when it is a valid one, else the site's.
        let ownZone = form.timeZone.isEmpty ? nil : TimeZone(identifier: form.timeZone).map { _ in form.timeZone }
        let unsubscribe = reader.signer.token(.unsubscribe, subscriberID: subscriber.id ?? 0, email: subscriber.email)
        let email = subscriber.email.description
        let siteZone = configuration.site.timeZone.identifier
        let noMore = Language.split(language.text("prefs.noMore", ["email": email]), at: "link")
        var view: [String: Any] = [
            "title": language.text("prefs.title"), "email": email, "token": token,
            "forReader": subscriber.status == .active
                ? language.text("prefs.for", ["email": email])
                : language.text("prefs.forInactive", ["email": email, "status": language.text("status.\(subscriber.status.rawValue)")]),
            "fullEditionLabel": "",
            "timeZoneHint": language.text("prefs.timeZoneHint", ["zone": siteZone]),
            "deliveryHourHint": language.text(
                ownZone == nil ? "prefs.deliveryHourHintSite" : "prefs.deliveryHourHint", ["zone": ownZone ?? siteZone]),
            "usualTime": language.text("choice.usualTime", ["hour": ChoiceWording.hour(configuration.digest.sendHour, language)]),
            "noMore": ["before": noMore.before, "after": noMore.after],
            "languageChoices": languageChoices, "hasLanguageChoice": languages.codes.count > 1,
            "saved": saved != nil, "changes": saved ?? [], "hasChanges": saved?.isEmpty == false,
            "unchanged": saved?.isEmpty == true,
            "status": subscriber.status.rawValue, "isActive": subscriber.status == .active,
            "sections": reader.sectionChoices(checked: form.sections, language: language),
            "formatHTML": form.format == .html, "formatText": form.format == .text,
            "timeZone": form.timeZone, "siteTimeZone": configuration.site.timeZone.identifier,
            "effectiveTimeZone": ownZone ?? configuration.site.timeZone.identifier,
            "usesSiteTimeZone": ownZone == nil, "timeZones": TimeZone.knownTimeZoneIdentifiers.sorted(),
            "hours": hours, "defaultHour": String(format: "%02d:00", configuration.digest.sendHour),
            "defaultHourSelected": form.deliveryHour.isEmpty,
            "unsubscribeURL": "unsubscribe?token=\(unsubscribe)",
            "dataURL": "preferences/data?token=\(token)", "deleteURL": "preferences/delete?token=\(token)",
        ]
        let today = reader.today(reader.settings.now())
        view.merge(form.choices.view(today: today, configuration: configuration, language: language)) { $1 }
        view["fullEditionLabel"] = language.text("prefs.lengthSite", ["full": view["fullEdition"] as? String ?? ""])
        if let pause = form.choices.currentPause { view["pauseNote"] = ChoiceWording.paused(until: pause, language) }
        reader.addErrors(form.errors, to: &view)
        let query = ReaderPages.queryValue(token)
        reader.languageSwitch(current: language, to: &view) { "preferences?token=\(query)&lang=\($0)" }
        return reader.pages.page("preferences", view, status: status, language: language)
    }

    /// The reader a POST here is for (the token in the body, or in the query), within the per-address limit.
    private func poster(_ request: Request, body: FormData, now: Date) async throws -> (String, Subscriber) {
        let token = body[FormField.token] ?? request.uri.queryParameters.get(FormField.token) ?? ""
        let subscriber = try await reader.subscriber(for: token, .preferences)
        try reader.limitAddress(subscriber.email, now: now)
        return (token, subscriber)
    }

    @Sendable func save(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let (token, found) = try await poster(request, body: body, now: now)
        var subscriber = found
        let before = subscriber
        let today = reader.today(now)
        var form = PreferencesForm(subscriber, today: today)
        let languages = reader.pages.languages
        // The page answers in the language just chosen, or the reader's own.
        if let chosen = body[FormField.language] {
            form.language = chosen
            if languages.offers(chosen) {
                subscriber.language = chosen
            }
        }
        let language = languages.language(subscriber.language)
        if let chosen = body[FormField.language], !languages.offers(chosen) {
            form.errors[FormField.language] = language.text("error.language")
        }
        let (kinds, sectionsError) = reader.chosenSections(body, language: language)
        form.sections = kinds
        if let sectionsError { form.errors[FormField.sections] = sectionsError }
        let format = body[FormField.format] ?? ""
        if let value = DigestFormat(rawValue: format) {
            form.format = value
        } else {
            form.errors[FormField.format] = language.text("error.format")
        }
        form.timeZone = body[FormField.timeZone] ?? ""
        if !form.timeZone.isEmpty && (TimeZone(identifier: form.timeZone) == nil || form.timeZone.count > 64) {
            form.errors[FormField.timeZone] = language.text("error.timeZone")
        }
        form.deliveryHour = body[FormField.deliveryHour] ?? ""
        if !form.deliveryHour.isEmpty && Int(form.deliveryHour).map({ (0...23).contains($0) }) != true {
            form.errors[FormField.deliveryHour] = language.text("error.deliveryHour")
        }
        form.choices.read(
            body, into: &subscriber, today: today, configuration: reader.configuration, language: language,
            errors: &form.errors)
        guard form.errors.isEmpty else {
            return self.form(form, subscriber: subscriber, token: token, language: language, status: .unprocessableContent)
        }
        subscriber.sections = reader.storedSections(kinds)
        subscriber.format = form.format
        subscriber.timeZone = form.timeZone.isEmpty ? nil : form.timeZone
        subscriber.deliveryHour = form.deliveryHour.isEmpty ? nil : Int(form.deliveryHour)
        try await reader.save(subscriber, "preferences saved")
        return self.form(
            PreferencesForm(subscriber, today: today), subscriber: subscriber, token: token, language: language,
            saved: ChoiceWording.changes(
                from: before, to: subscriber, configuration: reader.configuration, languages: languages))
    }

    /// "Resume now": the pause is cleared (a reader not paused is told so, nothing written).
    @Sendable func resume(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        var (_, subscriber) = try await poster(request, body: body, now: now)
        let language = reader.pages.languages.language(subscriber.language)
        let edition = ChoiceWording.edition(subscriber, language)
        guard subscriber.pausedUntil != nil else {
            return reader.choiceSaved(
                language.text("choice.notPaused"), [language.text("choice.asUsual", ["edition": edition])],
                for: subscriber)
        }
        subscriber.pausedUntil = nil
        try await reader.save(subscriber, "pause ended by the reader")
        return reader.choiceSaved(
            language.text("choice.resumedTitle"),
            [ChoiceWording.resumed(language), language.text("choice.youGet", ["edition": edition])], for: subscriber)
    }
}
