import DigestCore
import Foundation
import Hummingbird
import Logging

/// `/admin/readers?q=&status=&page=` (a search by address or name, paged) and `/admin/readers/ID`: a reader's
/// status and choices, their deliveries from the ledger, the bounces and complaints reported about them, the
/// admin actions taken on them, and the actions: reactivate, unsubscribe, erase (as `subscribers remove`),
/// send the confirmation again, send tonight's digest to them now as a test. Every action is a POST with the
/// CSRF token, written with its audit row in one transaction.
struct ReadersController: Sendable {
    let admin: AdminPages
    let database: StoreExecutor
    let preview: DigestPreview
    let confirmation: ConfirmationMail
    let outbox: OutboxWorker
    let logger: Logger
    static let pageSize = 50

    func addRoutes(to routes: PageRoutes) {
        routes.get("readers") { request, context in try await list(request, context) }
        routes.get("readers/:id") { request, context in try await reader(request, context) }
        routes.post("readers/:id/:action") { request, context in try await act(request, context) }
    }

    func list(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let text = query.get("q").map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let status = query.get("status").flatMap(SubscriberStatus.init(rawValue:))
        let page = max(1, query.get("page").flatMap(Int.init) ?? 1)
        let offset = (page - 1) * Self.pageSize
        let found = try await database.run { store in
            try store.searchSubscribers(query: text, status: status, limit: Self.pageSize, offset: offset)
        }
        var link = "readers?"
        if !text.isEmpty { link += "q=" + PreviewController.queryEscaped(text) + "&" }
        if let status { link += "status=\(status.rawValue)&" }
        let view: [String: Any] = [
            "title": "Readers", "q": text, "total": ChartNumber.count(Double(found.total)), "isEmpty": found.subscribers.isEmpty,
            "statuses": [["value": "", "label": "Any status", "selected": status == nil]]
                + SubscriberStatus.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == status] },
            "readers": found.subscribers.map { subscriber -> [String: Any] in
                [
                    "id": subscriber.id ?? 0, "email": subscriber.email.description, "name": subscriber.name ?? "",
                    "status": subscriber.status.rawValue, "created": AdminPages.time(subscriber.createdAt),
                ]
            },
            "pager": Pager.links(page: page, pageSize: Self.pageSize, total: found.total, link: { link + "page=\($0)" }),
        ]
        return admin.page("admin-readers", view, section: .readers, context: context)
    }

    func reader(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let (detail, audit) = try await database.run { store in
            (try store.subscriberDetail(id: id), try store.auditLog(limit: 50, subscriberID: id))
        }
        guard let detail else { throw Self.notFound }
        let subscriber = detail.subscriber
        let status = subscriber.status
        func date(_ value: Date?) -> String { value.map(AdminPages.time) ?? "–" }
        let language: String = subscriber.language ?? "the site’s (\(admin.pages.languages.site.code))"
        let view: [String: Any] = [
            "title": subscriber.email.description, "id": id, "email": subscriber.email.description,
            "facts": [
                ["label": "Status", "value": status.rawValue],
                ["label": "Name", "value": subscriber.name ?? "–"],
                ["label": "Sections", "value": subscriber.sections.isEmpty ? "all" : subscriber.sections.map(\.rawValue).joined(separator: ", ")],
                ["label": "Format", "value": subscriber.format.rawValue],
                ["label": "Language", "value": language],
                ["label": "Time zone", "value": subscriber.timeZone ?? "the site’s"],
                ["label": "Delivery hour", "value": subscriber.deliveryHour.map { "\($0):00" } ?? "the site’s"],
                ["label": "Gets", "value": subscriber.choicesDescription],
                ["label": "Signed up", "value": date(subscriber.createdAt)],
                ["label": "Confirmed", "value": date(subscriber.confirmedAt)],
                ["label": "Unsubscribed", "value": date(subscriber.unsubscribedAt)],
                ["label": "Bounces counted", "value": "\(subscriber.bounceCount)"],
            ],
            "canReactivate": status == .bounced || status == .unsubscribed,
            "canUnsubscribe": status == .active || status == .pending,
            "canConfirm": status == .pending,
            "canTest": true,
            "previewHref": "../preview?subscriber=" + PreviewController.queryEscaped(subscriber.email.description),
            "deliveries": detail.deliveries.map { delivery -> [String: Any] in
                [
                    "edition": delivery.editionDate, "status": delivery.status.rawValue, "attempts": delivery.attempts,
                    "reply": delivery.lastReply ?? "", "updated": AdminPages.time(delivery.updatedAt),
                    "sent": date(delivery.sentAt),
                ]
            },
            "hasDeliveries": !detail.deliveries.isEmpty,
            "bounces": detail.bounces.map { bounce -> [String: Any] in
                [
                    "kind": bounce.kind.rawValue, "status": bounce.status, "reason": bounce.reason, "source": bounce.source,
                    "received": AdminPages.time(bounce.receivedAt), "edition": bounce.editionDate ?? "–",
                    "report": bounce.reportKey,
                ]
            },
            "hasBounces": !detail.bounces.isEmpty,
            "audit": audit.map(AdminPages.auditRow), "hasAudit": !audit.isEmpty,
        ]
        return admin.page("admin-reader", view, section: .readers, depth: 1, context: context)
    }

    static let notFound = PageError(status: .notFound, title: "No such reader", text: "No reader has this number (erased?).")

    static func id(_ context: WebRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw notFound }
        return id
    }

    /// The actions of a reader's page. Each answers with a page saying what changed, linking back.
    func act(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let action = context.parameters.get("action") ?? ""
        let now = admin.settings.now()
        _ = try await FormData.read(request, limit: admin.settings.maxFormBytes)
        guard let subscriber = try await database.run({ store in try store.subscriber(id: id) }) else { throw Self.notFound }
        let email = subscriber.email
        let audit = admin.audit(context, action: "reader.\(action)", subscriber: subscriber, now: now)
        func done(_ title: String, _ text: String, status: HTTPResponse.Status = .ok) -> Response {
            // From /admin/readers/ID/ACTION: "../ID" is the reader's page.
            admin.message(title, text, section: .readers, depth: 2, context: context, status: status, link: ("../\(id)", "Back to \(email)"))
        }
        switch action {
        case "reactivate":
            let change = try await database.run { store in try store.reactivateSubscriber(id: id, now: now, audit: audit) }
            if case .changed = change { return done("Reactivated", "\(email) is active again and gets the next digest.") }
            return done("Not reactivated", "Only an unsubscribed or bounced reader can be reactivated.", status: .conflict)
        case "unsubscribe":
            let change = try await database.run { store in try store.unsubscribeSubscriber(id: id, now: now, audit: audit) }
            if case .changed = change { return done("Unsubscribed", "\(email) gets no more digests.") }
            return done("Already unsubscribed", "\(email) was already unsubscribed; nothing changed.")
        case "erase":
            let erased = try await database.run { store in try store.removeSubscriber(id: id, now: now, audit: audit) }
            guard erased else { throw Self.notFound }
            return admin.message(
                "Erased", "\(email) and everything stored about them (deliveries, bounces) are deleted; the audit log keeps the action.",
                section: .readers, depth: 2, context: context, link: ("../../readers", "Back to the readers"))
        case "confirm":
            let queued = try await database.run { [confirmation] store in
                try store.resendConfirmation(id: id, now: now, audit: audit, compose: { try confirmation.message(for: $0, now: now) })
            }
            guard queued else {
                return done("Not sent", "Only a pending reader is asked to confirm.", status: .conflict)
            }
            outbox.wake()
            return done("Confirmation queued", "A new confirmation mail is on its way to \(email) through the outbox.")
        case "test":
            let subject = try await database.run { [preview] store in
                let (_, digest) = try preview.testDigest(date: nil, to: email, now: now)
                var audit = audit
                audit.detail = digest.subject
                try store.queueOutboxMail(digest.message, purpose: "test", subscriberID: id, now: now, audit: audit)
                return digest.subject
            }
            outbox.wake()
            return done("Test queued", "Tonight’s digest as \(email) would get it (“\(subject)”) is on its way through the outbox.")
        default:
            throw PageError(status: .notFound, title: "No such action", text: "This page has no action named \(action).")
        }
    }
}
