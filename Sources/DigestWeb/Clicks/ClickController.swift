import DigestCore
import Hummingbird

/// The counted item links of a digest (`privacy.clickCounting`, README "Clicks, counted privately"):
///
/// ```
/// GET  /r/TOKEN   302 to the item's URL, and one click counted (for the reader too with perReader)
/// HEAD /r/TOKEN   the same answer, nothing counted (link checkers and mail scanners use HEAD)
/// ```
///
/// A token whose signature does not match, or that names an item its edition does not hold, gets a 404
/// page: the redirect only ever leads to URLs of a frozen edition. The answer never waits for a write;
/// counting is `ClickCounter`'s, in memory. With `off`, links sent earlier still redirect, uncounted.
struct ClickController: Sendable {
    let signer: LinkSigner
    let targets: ClickTargets
    let counter: ClickCounter
    let counting: Configuration.ClickCounting

    func addRoutes(to routes: PageRoutes) {
        routes.get("r/:token") { request, context in try await redirect(request, context) }
    }

    func redirect(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let text = context.parameters.get("token"), var key = ClickToken.verify(text, signer: signer),
            let url = try await targets.url(editionID: key.editionID, itemID: key.itemID)
        else { throw Self.unknownLink }
        if request.method == .get && counting != .off {
            // A perReader link clicked after the site went back to aggregate counts for the item alone.
            if counting != .perReader { key.subscriberID = nil }
            counter.count(key)
        }
        // `no-store`: a cached redirect would still lead on, but would not be counted.
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }

    static let unknownLink = PageError(
        status: .notFound, title: "This link is not valid",
        text: "The link may have been cut short or changed. Copy the whole link from the email and try again.",
        link: ("archive", "See past editions"), key: "unknownLink")
}
