import DigestCore
import Foundation
import Hummingbird
import Logging

/// Votes from the digest (issue 26): every item of a digest links to its vote page, signed for the reader
/// (`DigestVoteLink`).
///
/// ```
/// GET  /v/TOKEN        the link in the mail (short: a plain-text digest keeps it on one line): a page naming
///                      the item, with one button (HEAD too); changes nothing, so a mail scanner that follows
///                      every link of a digest votes for nothing
/// GET  /vote?token=…   the same page
/// POST /vote?token=…   counts the reader's vote for the item once (the button's form); a second POST says
///                      they already voted
/// ```
///
/// A forged, altered or cut token, or one whose edition, item or reader is gone, gets the 404 page; a token
/// past its edition's window and the grace period (`DigestVoteLink.expiry`) gets the 410 page. The POST needs
/// no CSRF token: like one-click unsubscribe, the signed token is the whole authority, and a page that could
/// make a reader's browser POST it would have to hold the token already, so it could POST it itself. What
/// it can do is bounded: one vote for one item by one reader, once.
struct VoteController: Sendable {
    let reader: ReaderPages
    let link: DigestVoteLink

    func addRoutes(to routes: PageRoutes) {
        routes.get("v/:token") { request, context in
            try await page(context.parameters.get("token") ?? "", base: "../", request: request)
        }
        routes.get("vote") { request, _ in
            try await page(request.uri.queryParameters.get(FormField.token) ?? "", base: "", request: request)
        }
        routes.post("vote", reader.posted(vote))
    }

    /// The page of `token`, in the reader's language; `base` leads from the page's folder to the site's root (the
    /// form posts to `vote` there, so `web.baseURL` may carry a path). The form's action carries the language
    /// (`?lang=`), so the answer to the POST is in it too.
    func page(_ token: String, base: String, request: Request) async throws -> Response {
        let vote = try Self.vote(in: token, link)
        guard let target = try await reader.database.run({ try $0.digestVoteTarget(vote) }) else {
            throw PageError.voteNotFound
        }
        guard reader.settings.now() <= target.expires else { throw PageError.voteExpired }
        let language = reader.pages.language(for: request, stored: target.language)
        return reader.pages.page(
            "vote",
            [
                "title": language.text("vote.title"), "action": base + "vote?lang=\(language.code)",
                "heading": language.text(target.alreadyVoted ? "vote.headingVoted" : "vote.heading"),
                "itemTitle": target.item.title, "itemURL": target.item.url, "token": token,
                "from": language.text("vote.from", ["edition": vote.edition.words(language)]),
                "alreadyVoted": target.alreadyVoted,
            ],
            language: language)
    }

    @Sendable func vote(
        _ request: Request, _ context: WebRequestContext, body: FormData, now: Date
    ) async throws -> Response {
        let token = request.uri.queryParameters.get(FormField.token) ?? body[FormField.token] ?? ""
        let vote = try Self.vote(in: token, link)
        // The page's form asks in the reader's language (`?lang=`); else the browser's.
        let language = reader.pages.language(for: request)
        switch try await reader.database.run({ try $0.recordDigestVote(vote, now: now) }) {
        case .recorded(let item, let count):
            reader.logger.info(
                "vote from a digest",
                metadata: [
                    "subscriber.id": "\(vote.subscriberID)", "item.id": "\(vote.itemID)", "item.digestVotes": "\(count)",
                    "edition": "\(vote.edition.date) \(vote.edition.kind.rawValue)",
                ])
            return reader.pages.message(
                language.text("vote.thanksTitle"), language.text("vote.thanksText", ["title": item.title]),
                link: (href: item.url, label: language.text("vote.readStory")), language: language)
        case .alreadyVoted(let item):
            return reader.pages.message(
                language.text("vote.alreadyTitle"), language.text("vote.alreadyText", ["title": item.title]),
                link: (href: item.url, label: language.text("vote.readStory")), language: language)
        case .expired: throw PageError.voteExpired
        case .notFound: throw PageError.voteNotFound
        }
    }

    /// The vote `token` names, or the 404 page when it is not one of ours as sent.
    static func vote(in token: String, _ link: DigestVoteLink) throws -> DigestVote {
        guard let vote = link.vote(in: token) else { throw PageError.voteNotFound }
        return vote
    }
}

extension PageError {
    /// A vote link that is not one of ours as sent (cut short, changed, forged), or whose edition, story or
    /// reader is gone.
    static let voteNotFound = PageError(
        status: .notFound, title: "This vote link does not work",
        text: "The link may have been cut short or changed, or the story is no longer here. Copy the whole link "
            + "from the email and try again.",
        key: "voteNotFound")

    /// A vote link past its edition's window and the grace period (`DigestVoteLink.expiry`).
    static let voteExpired = PageError(
        status: .gone, title: "This vote link has expired",
        text: "Votes from a digest count while its stories are news: for the edition's span and a week more. "
            + "The newest digest has links that work.",
        key: "voteExpired")
}
