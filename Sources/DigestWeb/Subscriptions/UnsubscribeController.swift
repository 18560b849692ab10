import DigestCore
import Foundation
import Hummingbird
import Logging

/// Leaving, with less offered before never (issue 25):
///
/// ```
/// GET  /unsubscribe?token=…           a page with the offers and the button (HEAD too: link checkers and
///                                     providers probe it)
/// POST /unsubscribe?token=…           unsubscribes at once (RFC 8058 body `List-Unsubscribe=One-Click`, or
///                                     the button): no question asked
/// POST /unsubscribe/weekly?token=…    the week's best instead of a daily digest
/// POST /unsubscribe/monthly?token=…   the month's best instead of the week's
/// POST /unsubscribe/pause?token=…     nothing for a month, then one catch-up
/// GET  /unsubscribe/<offer>?token=…   303 to the page: a mail scanner following links changes nothing
/// ```
///
/// The offers take the same unsubscribe-purpose token as the page (expired ones too, as leaving does).
struct UnsubscribeController: Sendable {
    let reader: ReaderPages

    /// What the page offers above the button: less often, or a break.
    enum Offer: String, CaseIterable {
        case weekly, monthly, pause
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("unsubscribe") { request, _ in try await page(request) }
        // No per-client limit here: one-click POSTs come from a few mail-provider servers for many
        // readers, and the signed token already limits what a request can do.
        routes.post("unsubscribe", reader.posted(limitedPerClient: false, unsubscribe))
        for offer in Offer.allCases {
            routes.get("unsubscribe/\(offer.rawValue)") { request, _ in reader.seeOther("unsubscribe", request) }
            routes.post(
                "unsubscribe/\(offer.rawValue)",
                reader.posted { request, _, body, now in try await take(offer, request, body: body, now: now) })
        }
    }

    func page(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? ""
        let subscriber = try await reader.subscriber(for: token, .unsubscribe, acceptExpired: true)
        if subscriber.status == .unsubscribed { return alreadyUnsubscribed(subscriber, from: "") }
        let language = reader.language(for: request, stored: subscriber.language)
        let today = reader.today(reader.settings.now())
        let pauseEnd = language.digits(in: Self.pauseEnd(today).description)
        let offers = offers(for: subscriber, today: today).map { offer in
            let (label, hint): (String, String) =
                switch offer {
                case .weekly:
                    (
                        language.text("unsubscribe.weekly"),
                        language.text(
                            "unsubscribe.weeklyHint", ["weekday": ChoiceWording.weekday(subscriber.weekday, language)])
                    )
                case .monthly: (language.text("unsubscribe.monthly"), language.text("unsubscribe.monthlyHint"))
                case .pause:
                    (language.text("unsubscribe.pause"), language.text("unsubscribe.pauseHint", ["day": pauseEnd]))
                }
            return [
                "id": "offer-\(offer.rawValue)", "url": "unsubscribe/\(offer.rawValue)?token=\(token)", "label": label,
                "hint": hint,
            ]
        }
        var view: [String: Any] = [
            "title": language.text("unsubscribe.title"), "email": subscriber.email.description, "token": token,
            "action": "unsubscribe?token=\(token)",
            "question": language.text(
                "unsubscribe.question",
                ["email": subscriber.email.description, "edition": ChoiceWording.edition(subscriber, language)]),
            "offers": offers, "hasOffers": !offers.isEmpty,
        ]
        if let pause = ChoiceWording.pause(of: subscriber, today: today) {
            view["pausedNote"] = ChoiceWording.paused(until: pause, language)
        }
        return reader.pages.page("unsubscribe", view, language: language)
    }

    /// The day "pause for a month" ends when taken on `today`.
    static func pauseEnd(_ today: Day) -> Day { today.adding(months: 1) }

    /// Less often than now (weekly for a daily reader, monthly for a weekly one), and a month's pause unless
    /// the reader is paused for that long already.
    func offers(for subscriber: Subscriber, today: Day) -> [Offer] {
        var offers: [Offer] = []
        switch subscriber.cadence {
        case .daily: offers.append(.weekly)
        case .weekly: offers.append(.monthly)
        case .monthly: break
        }
        if (subscriber.pausedUntil ?? today) < Self.pauseEnd(today) { offers.append(.pause) }
        return offers
    }

    /// An unsubscribed reader's answer, on the page and to an offer: nothing to change, they get nothing.
    /// `base` leads from the answering page's folder to the site's root.
    func alreadyUnsubscribed(_ subscriber: Subscriber, from base: String) -> Response {
        let language = reader.pages.languages.language(subscriber.language)
        return reader.pages.message(
            language.text("unsubscribe.already"),
            language.text("unsubscribe.alreadyText", ["email": subscriber.email.description]),
            link: (href: reader.subscribeLink(base, in: language), label: language.text("unsubscribe.again")),
            language: language)
    }

    /// An offer taken: the reader's cadence or pause changed, and a page that says so. Asked again (a double
    /// click, a page left open) it changes nothing more and says where things stand; a pause never shortens
    /// a longer one the reader set.
    func take(_ offer: Offer, _ request: Request, body: FormData, now: Date) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? body[FormField.token]
        var subscriber = try await reader.subscriber(for: token, .unsubscribe, acceptExpired: true)
        if subscriber.status == .unsubscribed { return alreadyUnsubscribed(subscriber, from: "../") }
        try reader.limitAddress(subscriber.email, now: now)
        let before = subscriber
        let language = reader.pages.languages.language(subscriber.language)
        let title: String
        switch offer {
        case .weekly, .monthly:
            subscriber.cadence = offer == .weekly ? .weekly : .monthly
            title = language.text(offer == .weekly ? "unsubscribe.weeklyDone" : "unsubscribe.monthlyDone")
        case .pause:
            let end = Self.pauseEnd(reader.today(now))
            subscriber.pausedUntil = max(subscriber.pausedUntil ?? end, end)
            title = language.text("unsubscribe.pauseDone")
        }
        // Asked again, nothing to write.
        if subscriber != before {
            try await reader.save(
                subscriber, "offer taken on the unsubscribe page", metadata: ["offer": "\(offer.rawValue)"])
        }
        let sentence =
            if offer == .pause, let end = subscriber.pausedUntil {
                ChoiceWording.paused(until: end, language)
            } else if subscriber.cadence == before.cadence {
                language.text("choice.alreadyGet", ["edition": ChoiceWording.edition(subscriber, language)])
            } else {
                ChoiceWording.cadenceChange(from: before, to: subscriber, language)
            }
        return reader.choiceSaved(title, [sentence], for: subscriber)
    }

    /// RFC 8058 §3.2: the mail provider POSTs `List-Unsubscribe=One-Click` to the URL of the
    /// List-Unsubscribe header; the button on the page POSTs the same. Either unsubscribes at once.
    @Sendable func unsubscribe(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? body[FormField.token]
        let id = try await reader.subscriber(for: token, .unsubscribe, acceptExpired: true).id!
        switch try await reader.database.run({ try $0.unsubscribeSubscriber(id: id, now: now) }) {
        case .changed(let subscriber), .unchanged(let subscriber), .notApplicable(let subscriber):
            reader.logger.info(
                "unsubscribed",
                metadata: [
                    "subscriber.id": "\(subscriber.id ?? 0)", "oneClick": "\(body["List-Unsubscribe"] == "One-Click")",
                ])
            let language = reader.pages.languages.language(subscriber.language)
            return reader.pages.message(
                language.text("unsubscribe.done"),
                language.text("unsubscribe.doneText", ["email": subscriber.email.description]),
                link: (href: reader.subscribeLink(in: language), label: language.text("unsubscribe.changedMind")),
                language: language)
        case .notFound: throw PageError.notOnTheList
        }
    }
}
