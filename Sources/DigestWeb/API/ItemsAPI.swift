import DigestCore
import Foundation
import Hummingbird
import Logging

/// The items API, for a site that pushes its stories and vote counts instead of publishing a feed.
///
/// ```
/// GET  /api/items?since=ISO8601          items, newest first, in the JSON item format
/// POST /api/items                        one item object or an array; upsert by url
/// POST /api/items/votes                  {"url", "votes"} or {"url", "add"}, one or an array
/// GET  /api/items/votes?since=ISO8601    items readers voted for from their digests since then (all when
///                                        `since` is left out): {"since", "items": [{"url", "digestVotes",
///                                        "digestVotesSince", "votes"}]}, most votes since first
/// ```
/// Every route needs `Authorization: Bearer <token>`, the token read from `tokenVariable`.
struct ItemsAPI: Sendable {
    /// The store, reached off the request's thread with the request's deadline.
    let database: StoreExecutor
    /// nil (the variable is not set) turns the API off: every route answers 503.
    let adminToken: String?
    /// Name of the environment variable holding the token, for messages.
    let tokenVariable: String
    let logger: Logger
    /// Longest request body accepted; a longer one gets 413.
    var maxBodyBytes = 1024 * 1024

    init(database: StoreExecutor, adminToken: String?, tokenVariable: String, logger: Logger) {
        self.database = database
        self.adminToken = adminToken
        self.tokenVariable = tokenVariable
        self.logger = logger
    }

    /// Adds the routes under `/api/items` to `router`.
    func register<Context: RequestContext>(on router: Router<Context>) {
        let group = router.apiGroup("api/items", token: adminToken, tokenVariable: tokenVariable)
        group.get { request, _ in try await listItems(request) }
        group.post { request, _ in try await upsertItems(request) }
        group.post("votes") { request, _ in try await updateVotes(request) }
        group.get("votes") { request, _ in try await digestVotes(request) }
    }

    // MARK: Handlers

    func listItems(_ request: Request) async throws -> Response {
        let since: Date?
        switch Self.since(request) {
        case .success(let date): since = date
        case .failure(let failure): return failure.response
        }
        let items = try await database.run { [since] in try $0.items(since: since) }
        return APIResponse.json(data: try ItemJSON.encode(items))
    }

    /// Votes from the digests' vote links, for a site that shows them beside its own.
    func digestVotes(_ request: Request) async throws -> Response {
        let since: Date
        switch Self.since(request) {
        case .success(let date): since = date ?? .distantPast
        case .failure(let failure): return failure.response
        }
        let counts = try await database.run { try $0.digestVoteCounts(since: since) }
        return APIResponse.json(
            DigestVotesReply(
                since: since == .distantPast ? nil : DateParsing.iso8601String(since),
                items: counts.map {
                    DigestVotesReply.Item(
                        url: $0.url, digestVotes: $0.digestVotes, digestVotesSince: $0.recent, votes: $0.votes)
                }))
    }

    /// The `since` query parameter (nil when absent), or the 400 answer for one that is not an ISO 8601 time.
    static func since(_ request: Request) -> Result<Date?, ResponseFailure> {
        guard let text = request.uri.queryParameters.get("since") else { return .success(nil) }
        guard let date = DateParsing.iso8601(text) else {
            return .failure(
                ResponseFailure(
                    APIResponse.error(
                        .badRequest, "expected an ISO 8601 time such as 2026-11-24T00:00:00Z, found \"\(text)\"",
                        field: "since")))
        }
        return .success(date)
    }

    func upsertItems(_ request: Request) async throws -> Response {
        let records: [JSONValue]
        switch try await readRecords(request) {
        case .success(let values): records = values
        case .failure(let failure): return failure.response
        }
        var drafts: [ItemDraft] = []
        var errors: [APIErrorBody] = []
        var seen: [String: Int] = [:]
        for (index, record) in records.enumerated() {
            do {
                let draft = try ItemRecordParser.parse(record)
                if let first = seen[draft.url] {
                    errors.append(.init(error: "same url as record \(first)", index: index, field: "url"))
                    continue
                }
                seen[draft.url] = index
                drafts.append(draft)
            } catch {
                errors.append(.init(error: error.message, index: index, field: error.field))
            }
        }
        if let first = errors.first {
            // The first error at the top level, as the API promises; every one of them under "errors".
            return APIResponse.json(ValidationFailure(first: first, errors: errors), status: .unprocessableContent)
        }
        let counts = try await database.run { [drafts] in try $0.upsert(drafts) }
        logger.info(
            "items received over the API", metadata: ["inserted": "\(counts.inserted)", "updated": "\(counts.updated)"])
        return APIResponse.json(["inserted": counts.inserted, "updated": counts.updated])
    }

    func updateVotes(_ request: Request) async throws -> Response {
        let records: [JSONValue]
        switch try await readRecords(request) {
        case .success(let values): records = values
        case .failure(let failure): return failure.response
        }
        var changes: [VoteChange] = []
        for (index, record) in records.enumerated() {
            switch Self.voteChange(record) {
            case .success(let change): changes.append(change)
            case .failure(let error):
                return APIResponse.error(.unprocessableContent, error.error, index: index, field: error.field)
            }
        }
        do {
            let votes = try await database.run { [changes] in try $0.applyVotes(changes) }
            let items = zip(changes, votes).map { VoteResult(url: $0.url, votes: $1) }
            return APIResponse.json(VoteReply(updated: items.count, items: items))
        } catch let error as UnknownItemError {
            return APIResponse.error(.notFound, error.description, index: error.index, field: "url")
        }
    }

    // MARK: Reading requests

    /// The body as JSON records (an object is one record), or the error response to send.
    private func readRecords(_ request: Request) async throws -> Result<[JSONValue], ResponseFailure> {
        try await APIRequest.records(request, maxBodyBytes: maxBodyBytes, what: "items")
    }

    static func voteChange(_ value: JSONValue) -> Result<VoteChange, APIErrorBody> {
        guard case .object(let object) = value else {
            return .failure(.init(error: "expected an object, found \(value.typeName)"))
        }
        if let unknown = object.keys.filter({ !["url", "votes", "add"].contains($0) }).sorted().first {
            return .failure(.init(error: "unknown key (known keys: add, url, votes)", field: unknown))
        }
        guard case .string(let url)? = object["url"], !url.isEmpty else {
            return .failure(.init(error: "is required (a string)", field: "url"))
        }
        func whole(_ key: String, _ range: ClosedRange<Int>) -> Result<Int, APIErrorBody>? {
            guard let value = object[key], value != .null else { return nil }
            guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
                return .failure(.init(error: "expected a whole number, found \(value.typeName)", field: key))
            }
            guard range.contains(Int(number)) else {
                return .failure(
                    .init(error: "expected a whole number from \(range.lowerBound) to \(range.upperBound)", field: key))
            }
            return .success(Int(number))
        }
        let limit = Int(Int32.max)
        switch (whole("votes", 0...limit), whole("add", -limit...limit)) {
        case (nil, nil):
            return .failure(.init(error: "give either \"votes\" (set) or \"add\" (increase)", field: "votes"))
        case (.some, .some): return .failure(.init(error: "give \"votes\" or \"add\", not both", field: "add"))
        case (.some(.failure(let error)), nil), (nil, .some(.failure(let error))): return .failure(error)
        case (.some(.success(let votes)), nil): return .success(VoteChange(url: url, .set(votes)))
        case (nil, .some(.success(let add))): return .success(VoteChange(url: url, .add(add)))
        }
    }
}

/// An error response carried through a `Result`.
struct ResponseFailure: Error {
    var response: Response
    init(_ response: Response) { self.response = response }
}

private struct ValidationFailure: Encodable {
    var error: String
    var index: Int?
    var field: String?
    var errors: [APIErrorBody]

    init(first: APIErrorBody, errors: [APIErrorBody]) {
        error = first.error
        index = first.index
        field = first.field
        self.errors = errors
    }
}

private struct VoteResult: Encodable {
    var url: String
    var votes: Int
}

private struct DigestVotesReply: Encodable {
    struct Item: Encodable {
        var url: String
        var digestVotes: Int
        var digestVotesSince: Int
        var votes: Int
    }
    var since: String?
    var items: [Item]
}

private struct VoteReply: Encodable {
    var updated: Int
    var items: [VoteResult]
}
