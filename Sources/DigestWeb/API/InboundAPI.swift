import DigestCore
import Foundation
import Hummingbird
import Logging

/// `POST /api/inbound`: one message that came back, raw (RFC 5322, as a mail server's pipe or a provider's inbound
/// webhook hands it over), applied by the same rules as `digest inbound import`.
///
/// ```
/// POST /api/inbound   Authorization: Bearer TOKEN   body: the raw message (message/rfc822)
/// ```
/// Reply: `{"kind": "bounce"|"complaint"|"auto-reply"|"command"|"letter"|"unrecognized", "applied": n,
/// "refused": n, "duplicates": n, "details": [line…]}`; an empty body answers 422. A message already applied
/// changes nothing (`duplicates`), so a webhook's retry is harmless.
struct InboundAPI: Sendable {
    let importer: InboundImporter
    /// Where `importer` runs: off the request's thread, with the request's deadline.
    let database: StoreExecutor
    let adminToken: String?
    let tokenVariable: String
    let logger: Logger
    var maxBodyBytes = 10 * 1024 * 1024
    let clock: @Sendable () -> Date
    /// Called after a message that may have queued mail (the outbox worker wakes up).
    let queued: @Sendable () -> Void

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.apiGroup("api/inbound", token: adminToken, tokenVariable: tokenVariable)
            .post { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        let raw: [UInt8]
        switch try await APIRequest.body(request, maxBodyBytes: maxBodyBytes, what: "messages") {
        case .success(let buffer): raw = Array(buffer.readableBytesView)
        case .failure(let failure): return failure.response
        }
        guard !raw.allSatisfy({ $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }) else {
            return APIResponse.error(.unprocessableContent, "the body is empty: send one raw message (message/rfc822)")
        }
        let (now, importer) = (clock(), importer)
        let (kind, summary) = try await database.run { _ in
            var summary = InboundImportSummary()
            let kind = try importer.apply(raw: raw, source: "POST /api/inbound", into: &summary, now: now)
            return (kind.name, summary)
        }
        queued()
        let recorded = summary.bounces.recorded
        let reply = InboundReply(
            kind: kind,
            applied: summary.applied.filter { $0.key != "refused" }.values.reduce(0, +) + recorded.hard + recorded.soft
                + recorded.failed + recorded.complaints,
            refused: summary.applied["refused"] ?? 0, duplicates: summary.duplicates + summary.bounces.duplicates,
            details: summary.details + summary.notForwarded + summary.bounces.lines.dropFirst())
        logger.info("inbound message received over the API", metadata: ["kind": "\(kind)", "applied": "\(reply.applied)"])
        return APIResponse.json(reply)
    }
}

private struct InboundReply: Encodable {
    var kind: String
    /// Changes made: a command applied, a letter forwarded, an auto-reply counted, a bounce or complaint recorded.
    var applied: Int
    /// Command replies that failed a trust check (counted, nothing changed).
    var refused: Int
    var duplicates: Int
    var details: [String]
}
