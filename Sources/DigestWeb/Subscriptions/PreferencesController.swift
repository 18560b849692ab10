import DigestCore
import Foundation
import Hummingbird
import Logging

/// A reader's settings, reached from the link in every digest:
///
/// ```
/// GET  /preferences?token=…   sections, format, time zone, delivery hour; a link to unsubscribe
/// POST /preferences           token in the body → saved (or the form again, 422)
/// ```
struct PreferencesController: Sendable {
    let reader: ReaderPages

    func addRoutes(to routes: PageRoutes) {
        routes.get("preferences") { request, _ in
            let token = request.uri.queryParameters.get(FormField.token)
            let subscriber = try await reader.subscriber(for: token, .preferences)
            return form(PreferencesForm(subscriber), subscriber: subscriber, token: token ?? "")
        }
        routes.post("preferences", reader.posted(save))
    }

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

    func form(
        _ form: PreferencesForm, subscriber: Subscriber, token: String, saved: Bool = false,
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
            "saved": saved, "status": subscriber.status.rawValue, "isActive": subscriber.status == .active,
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
        reader.addErrors(form.errors, to: &view)
        return reader.pages.page("preferences", view, status: status)
    }

    @Sendable func save(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = body[FormField.token] ?? request.uri.queryParameters.get(FormField.token) ?? ""
        var subscriber = try await reader.subscriber(for: token, .preferences)
        try reader.limitAddress(subscriber.email, now: now)
        var form = PreferencesForm(subscriber)
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
        guard form.errors.isEmpty else {
            return self.form(form, subscriber: subscriber, token: token, status: .unprocessableContent)
        }
        subscriber.sections = reader.storedSections(kinds)
        subscriber.format = form.format
        subscriber.timeZone = form.timeZone.isEmpty ? nil : form.timeZone
        subscriber.deliveryHour = form.deliveryHour.isEmpty ? nil : Int(form.deliveryHour)
        let changed = subscriber
        try await reader.database.run { try $0.update(changed) }
        reader.logger.info("preferences saved", metadata: ["subscriber.id": "\(subscriber.id ?? 0)"])
        return self.form(PreferencesForm(subscriber), subscriber: subscriber, token: token, saved: true)
    }
}
