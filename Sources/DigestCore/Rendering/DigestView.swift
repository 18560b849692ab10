import Foundation

/// The one view model both the text and the HTML templates render. Field names are the
/// template contract (see templates/README.md).
struct DigestView {
    struct Site {
        var name: String
        var url: String
        var language: String
        var direction: String
    }

    struct Reader {
        var name: String
        var hasName: Bool
        var email: String
    }

    struct Links {
        var unsubscribe: String
        var preferences: String
        /// The edition's page in the archive ("View in your browser"); nil when `web.archive` is off. The same
        /// for every reader of the edition: nothing personal.
        var webVersion: String? = nil
    }

    struct ItemView {
        /// Place within its section ("1", "2", … in each), in the reader's digits.
        var rank: String
        /// Place in the whole digest, counted across sections, in the reader's digits: the number reply commands
        /// name (`+3`, or `+٣`: the reply parser reads both) and `Store.digestItem(number:…)` reads back.
        var number: String
        /// The item's vote link (`/vote?token=…`, signed for this reader); a placeholder until personalized.
        var voteURL: String
        /// The vote link's accessible name, "Vote for <title>".
        var voteLabel: String
        var title: String
        var url: String
        var summary: String?
        var author: String?
        var votes: Int
        var votesLabel: String
        var imageURL: String?
    }

    struct SectionView {
        var kind: String
        var title: String
        var titleUppercased: String
        var items: [ItemView]
    }

    /// Which edition this is, for the heading, the subject and the footer.
    struct EditionInfo {
        var kind: String
        /// "The week's best", "The month's best", "While you were away"; nil for the daily edition (its mails
        /// read as they always did).
        var label: String?
        /// The reader's cadence, for "You receive this weekly digest".
        var cadence: String

        init(kind: EditionKind, cadence: Cadence, language: Language) {
            self.kind = kind.rawValue
            self.cadence = language.text("cadence.\(cadence.rawValue)")
            label = kind.headingKey.map { language.text($0) }
        }
    }

    /// The sentences of the mail in the reader's language (catalog `digest.*`), filled in. `{site}` of the
    /// footer is cut out in `footerBefore` and `footerAfter`, so the HTML template puts a link there.
    struct Texts {
        var subject: String
        var viewInBrowser: String
        var picks: String
        var greeting: String
        var empty: String
        /// The footer's sentence with the site's address, for plain text.
        var footer: String
        var footerBefore: String
        var footerAfter: String
        var preferences: String
        var unsubscribeOneClick: String
        var unsubscribe: String
        /// The vote link's text ("Vote"), and the text part's label before it.
        var vote: String
        /// "Or reply with one word: …", when replies take commands.
        var replyCommands: String
    }

    var site: Site
    var edition: EditionInfo
    var text: Texts
    var date: String
    var subject: String
    var preheader: String
    var reader: Reader
    var links: Links
    var sections: [SectionView]
    var hasItems: Bool
    var itemCount: Int
    /// For the subject template: the best item's title, and how many more the digest holds.
    var topTitle: String?
    var moreCount: Int?
    /// Whether a reply can change the digest (`mail.replyAddress`): the footer says how.
    var repliesTakeCommands = false
}

extension DigestView {
    /// `voteURL` gives each item's vote link from its number (1-based, across sections).
    init(
        selection: DigestSelection, date: Day, kind: EditionKind = .daily, cadence: Cadence = .daily,
        configuration: Configuration, language: Language, reader: Reader, links: Links, subject: String = "",
        itemLink: (EditionItem) -> String = \.url, voteURL: (Int) -> String = { _ in "" }
    ) {
        edition = EditionInfo(kind: kind, cadence: cadence, language: language)
        site = Site(
            name: configuration.site.name, url: configuration.site.url, language: language.code,
            direction: language.direction)
        self.date = language.longDate(date)
        self.subject = subject
        self.reader = reader
        self.links = links
        repliesTakeCommands = configuration.mail.replyAddress != nil
        let limit = configuration.digest.summaryLimit
        let titles = Dictionary(configuration.digest.sections.map { ($0.kind, $0.title(in: language.code)) }) { a, _ in a }
        var number = 0
        sections = selection.sections.filter { !$0.items.isEmpty }.map { section in
            let title = titles[section.kind] ?? section.title
            return SectionView(
                kind: section.kind.rawValue, title: title, titleUppercased: title.uppercased(with: language.locale),
                items: section.items.enumerated().map { index, item in
                    number += 1
                    return ItemView(
                        rank: language.number(index + 1), number: language.number(number), voteURL: voteURL(number),
                        voteLabel: language.text("digest.voteFor", ["title": item.title]), title: item.title,
                        url: itemLink(item),
                        summary: item.summary.isEmpty || limit == 0 ? nil : Self.cap(item.summary, limit),
                        author: item.author?.isEmpty == false ? item.author : nil, votes: item.votes,
                        votesLabel: language.text("digest.votes", count: item.votes), imageURL: item.imageURL)
                })
        }
        let all = selection.sections.flatMap(\.items)
        itemCount = all.count
        hasItems = !all.isEmpty
        topTitle = all.max { ($0.votes, $1.publishedAt) < ($1.votes, $0.publishedAt) }
            .map { Self.cap($0.title, Self.topTitleLimit) }
        moreCount = all.count > 1 ? all.count - 1 : nil
        let firstTitles = all.prefix(3).map(\.title).joined(separator: " · ")
        preheader = all.isEmpty ? language.text("digest.preheaderEmpty") : Self.cap(firstTitles, 140)
        text = Self.texts(
            language: language, edition: edition, topTitle: topTitle, moreCount: moreCount, itemCount: itemCount,
            reader: reader, siteURL: configuration.site.url)
    }

    private static func texts(
        language: Language, edition: EditionInfo, topTitle: String?, moreCount: Int?, itemCount: Int, reader: Reader,
        siteURL: String
    ) -> Texts {
        let subject =
            switch (topTitle, moreCount) {
            case (let title?, let more?): language.text("digest.subject.topAndMore", count: more, ["title": title])
            case (let title?, nil): language.text("digest.subject.top", ["title": title])
            case (nil, _): language.text("digest.subject.empty", ["cadence": edition.cadence])
            }
        let footer = language.text("digest.footer", ["cadence": edition.cadence, "site": "{site}"])
        let (footerBefore, footerAfter) = Language.split(footer, at: "site")
        return Texts(
            subject: subject, viewInBrowser: language.text("digest.viewInBrowser"),
            picks: language.text("digest.picks", count: itemCount),
            greeting: reader.hasName
                ? language.text("digest.greetingNamed", ["name": reader.name]) : language.text("digest.greeting"),
            empty: language.text("digest.empty"), footer: Language.fill(footer, ["site": siteURL]),
            footerBefore: footerBefore, footerAfter: footerAfter, preferences: language.text("digest.preferences"),
            unsubscribeOneClick: language.text("digest.unsubscribeOneClick"),
            unsubscribe: language.text("digest.unsubscribe"), vote: language.text("digest.vote"),
            replyCommands: language.text("digest.replyCommands"))
    }

    /// Longest `topTitle` in characters (cut at a word with "…"), so the subject keeps its end
    /// ("and 14 more") however long the best item's title is.
    static let topTitleLimit = 60

    /// Cuts `text` to at most `limit` characters at a word boundary, adding an ellipsis.
    static func cap(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        let prefix = text.prefix(limit)
        let cut = prefix.lastIndex(of: " ").map { prefix[..<$0] } ?? prefix
        return cut.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)) + "…"
    }
}
