import DigestCore
import Foundation
import Hummingbird
import Logging

/// `POST /api/bounces`: bounces and complaints for a site that sends through a provider and gets
/// them as webhooks rather than as report mails. The same rules as `digest bounces import`.
///
/// ```
/// POST /api/bounces   {"email" or "messageId", "type": "hard"|"soft"|"complaint", "reason", "id"?}, one or an array
/// ```
/// Reply: `{"recorded": n, "duplicates": n, "unmatched": [index…], "bounced": [email…], "unsubscribed": [email…]}`.
/// A record that fails validation answers 422 and nothing of the request is applied.
struct BouncesAPI: Sendable {
    let importer: BounceImporter
    /// Where `importer` runs: off the request's thread, with the request's deadline.
    let database: StoreExecutor
    let adminToken: String?
    let tokenVariable: String
    let logger: Logger
    var maxBodyBytes = 1024 * 1024
    let clock: @Sendable () -> Date

    init(
        database: StoreExecutor, adminToken: String?, tokenVariable: String, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        importer = BounceImporter(store: database.store, bounceAddress: nil)
        self.database = database
        self.adminToken = adminToken
        self.tokenVariable = tokenVariable
        self.logger = logger
        self.clock = clock
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.apiGroup("api/bounces", token: adminToken, tokenVariable: tokenVariable)
            .post { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        let records: [JSONValue]
        switch try await APIRequest.records(request, maxBodyBytes: maxBodyBytes, what: "bounces") {
        case .success(let values): records = values
        case .failure(let failure): return failure.response
        }
        var notices: [BounceNotice] = []
        for (index, record) in records.enumerated() {
            switch Self.notice(record) {
            case .success(let notice): notices.append(notice)
            case .failure(let error):
                return APIResponse.error(.unprocessableContent, error.error, index: index, field: error.field)
            }
        }
        var reply = BounceReply()
        let (now, importer) = (clock(), importer)
        let effects = try await database.run { [notices] _ in
            try notices.map { notice in try importer.apply(notice, now: now).map { Applied(effect: $0.0, email: $0.1) } }
        }
        for (index, applied) in effects.enumerated() {
            guard let (effect, email) = applied.map({ ($0.effect, $0.email) }) else {
                reply.unmatched.append(index)
                continue
            }
            switch effect {
            case .duplicate: reply.duplicates += 1
            case .recorded(let status):
                reply.recorded += 1
                if status == .bounced { reply.bounced.append(email.description) }
                if status == .unsubscribed { reply.unsubscribed.append(email.description) }
            }
        }
        logger.info(
            "bounces received over the API",
            metadata: ["recorded": "\(reply.recorded)", "duplicates": "\(reply.duplicates)", "unmatched": "\(reply.unmatched.count)"])
        return APIResponse.json(reply)
    }

    static func notice(_ value: JSONValue) -> Result<BounceNotice, APIErrorBody> {
        guard case .object(let object) = value else {
            return .failure(.init(error: "expected an object, found \(value.typeName)"))
        }
        let known = ["email", "messageId", "type", "reason", "id"]
        if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
            return .failure(.init(error: "unknown key (known keys: \(known.sorted().joined(separator: ", ")))", field: unknown))
        }
        var values: [String: String] = [:]
        for key in known {
            switch object[key] {
            case nil, .null?: continue
            case .string(let text)?: if !text.isEmpty { values[key] = text }
            case let other?: return .failure(.init(error: "expected a string, found \(other.typeName)", field: key))
            }
        }
        guard let typeText = values["type"] else {
            return .failure(.init(error: "is required: \"hard\", \"soft\" or \"complaint\"", field: "type"))
        }
        let kind: BounceReport.Kind
        switch typeText {
        case "hard": kind = .hard
        case "soft": kind = .soft
        case "complaint": kind = .complaint
        default: return .failure(.init(error: "expected \"hard\", \"soft\" or \"complaint\", found \"\(typeText)\"", field: "type"))
        }
        var email: EmailAddress?
        if let text = values["email"] {
            guard let address = try? EmailAddress(text) else {
                return .failure(.init(error: "expected an email address, found \"\(text)\"", field: "email"))
            }
            email = address
        }
        var messageID = values["messageId"]
        if let id = messageID, !id.hasPrefix("<") { messageID = "<\(id)>" }
        if email == nil && messageID == nil {
            return .failure(.init(error: "give \"email\" or \"messageId\" to name the reader", field: "email"))
        }
        let reason = values["reason"].map { String($0.prefix(1000)) } ?? "reported over the API (\(typeText))"
        return .success(BounceNotice(email: email, messageID: messageID, kind: kind, reason: reason, id: values["id"]))
    }
}

/// One notice's effect, carried back from the store's thread.
private struct Applied: Sendable {
    var effect: BounceEffect
    var email: EmailAddress
}

private struct BounceReply: Encodable {
    var recorded = 0
    var duplicates = 0
    /// Indexes of the records that matched no reader.
    var unmatched: [Int] = []
    var bounced: [String] = []
    var unsubscribed: [String] = []
}
