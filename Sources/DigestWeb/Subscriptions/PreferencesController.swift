import DigestCore
import Foundation
import Hummingbird
import Logging

/// A reader's settings, reached from the link in every digest:
///
/// ```
/// GET  /preferences?token=…          sections, format, length, cadence and weekday, pause, time zone,
///                                    delivery hour; a link to unsubscribe
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
                token: token ?? "")
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
        var choices: ChoicesForm
        var errors: [String: String] = [:]

        init(_ subscriber: Subscriber, today: Day) {
            sections = subscriber.sections.isEmpty ? nil : Set(subscriber.sections)
            format = subscriber.format
            timeZone = subscriber.timeZone ?? ""
            deliveryHour = subscriber.deliveryHour.map(String.init) ?? ""
            choices = ChoicesForm(subscriber, today: today)
        }
    }

    /// The page; `saved` holds what a save changed, one sentence each (nil: nothing was saved).
    func form(
        _ form: PreferencesForm, subscriber: Subscriber, token: String, saved: [String]? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let configuration = reader.configuration
        let hours = (0...23).map { hour in
            ["value": "\(hour)", "label": String(format: "%02d:00", hour), "selected": form.deliveryHour == "\(hour)"]
        }
        // The zone the hour is read in: the reader's own when it is a valid one, else the site's.
        let ownZone = form.timeZone.isEmpty ? nil : TimeZone(identifier: form.timeZone).map { _ in form.timeZone }
        let unsubscribe = reader.signer.token(.unsubscribe, subscriberID: subscriber.id ?? 0, email: subscriber.email)
        var view: [String: Any] = [
            "title": "Your digest preferences", "email": subscriber.email.description, "token": token,
            "saved": saved != nil, "changes": saved ?? [], "hasChanges": saved?.isEmpty == false,
            "unchanged": saved?.isEmpty == true,
            "status": subscriber.status.rawValue, "isActive": subscriber.status == .active,
            "sections": reader.sectionChoices(checked: form.sections),
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
        view.merge(form.choices.view(today: today, configuration: configuration)) { $1 }
        if let pause = form.choices.currentPause { view["pauseNote"] = ChoiceWording.paused(until: pause) }
        reader.addErrors(form.errors, to: &view)
        return reader.pages.page("preferences", view, status: status)
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
        let (kinds, sectionsError) = reader.chosenSections(body)
        form.sections = kinds
        if let sectionsError { form.errors[FormField.sections] = sectionsError }
        let format = body[FormField.format] ?? ""
        if let value = DigestFormat(rawValue: format) {
            form.format = value
        } else {
            form.errors[FormField.format] = "Choose HTML or plain text."
        }
        form.timeZone = body[FormField.timeZone] ?? ""
        if !form.timeZone.isEmpty && (TimeZone(identifier: form.timeZone) == nil || form.timeZone.count > 64) {
            form.errors[FormField.timeZone] =
                "Enter a time zone name from the list, such as Europe/Berlin or America/New_York, or leave it empty."
        }
        form.deliveryHour = body[FormField.deliveryHour] ?? ""
        if !form.deliveryHour.isEmpty && Int(form.deliveryHour).map({ (0...23).contains($0) }) != true {
            form.errors[FormField.deliveryHour] = "Choose an hour from 00:00 to 23:00."
        }
        form.choices.read(
            body, into: &subscriber, today: today, configuration: reader.configuration, errors: &form.errors)
        guard form.errors.isEmpty else {
            return self.form(form, subscriber: subscriber, token: token, status: .unprocessableContent)
        }
        subscriber.sections = reader.storedSections(kinds)
        subscriber.format = form.format
        subscriber.timeZone = form.timeZone.isEmpty ? nil : form.timeZone
        subscriber.deliveryHour = form.deliveryHour.isEmpty ? nil : Int(form.deliveryHour)
        try await reader.save(subscriber, "preferences saved")
        return self.form(
            PreferencesForm(subscriber, today: today), subscriber: subscriber, token: token,
            saved: ChoiceWording.changes(from: before, to: subscriber, configuration: reader.configuration))
    }

    /// "Resume now": the pause is cleared (a reader not paused is told so, nothing written).
    @Sendable func resume(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        var (_, subscriber) = try await poster(request, body: body, now: now)
        guard subscriber.pausedUntil != nil else {
            return reader.choiceSaved(
                "Not paused", ["You get \(ChoiceWording.edition(subscriber)), as usual."], for: subscriber)
        }
        subscriber.pausedUntil = nil
        try await reader.save(subscriber, "pause ended by the reader")
        return reader.choiceSaved(
            "Resumed", [ChoiceWording.resumed, "You get \(ChoiceWording.edition(subscriber))."], for: subscriber)
    }
}
