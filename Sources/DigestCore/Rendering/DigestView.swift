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
        /// Place within its section (1, 2, … in each).
        var rank: Int
        /// Place in the whole digest, counted across sections: the number reply commands name (`+3`) and
        /// `Store.digestItem(number:…)` reads back.
        var number: Int
        /// The item's vote link (`/vote?token=…`, signed for this reader); a placeholder until personalized.
        var voteURL: String
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

        init(kind: EditionKind, cadence: Cadence) {
            self.kind = kind.rawValue
            self.cadence = cadence.rawValue
            label = kind.heading
        }
    }

    var site: Site
    var edition: EditionInfo
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
        configuration: Configuration, reader: Reader, links: Links, subject: String = "",
        itemLink: (EditionItem) -> String = \.url, voteURL: (Int) -> String = { _ in "" }
    ) {
        edition = EditionInfo(kind: kind, cadence: cadence)
        let locale = Locale(identifier: configuration.site.language)
        site = Site(
            name: configuration.site.name, url: configuration.site.url, language: configuration.site.language,
            direction: configuration.site.direction)
        self.date = Self.format(date, locale: locale)
        self.subject = subject
        self.reader = reader
        self.links = links
        repliesTakeCommands = configuration.mail.replyAddress != nil
        let limit = configuration.digest.summaryLimit
        var number = 0
        sections = selection.sections.filter { !$0.items.isEmpty }.map { section in
            SectionView(
                kind: section.kind.rawValue, title: section.title,
                titleUppercased: section.title.uppercased(with: locale),
                items: section.items.enumerated().map { index, item in
                    number += 1
                    return ItemView(
                        rank: index + 1, number: number, voteURL: voteURL(number), title: item.title, url: itemLink(item),
                        summary: item.summary.isEmpty || limit == 0 ? nil : Self.cap(item.summary, limit),
                        author: item.author?.isEmpty == false ? item.author : nil, votes: item.votes,
                        votesLabel: item.votes == 1 ? "1 reader voted" : "\(item.votes) readers voted",
                        imageURL: item.imageURL)
                })
        }
        let all = selection.sections.flatMap(\.items)
        itemCount = all.count
        hasItems = !all.isEmpty
        topTitle = all.max { ($0.votes, $1.publishedAt) < ($1.votes, $0.publishedAt) }
            .map { Self.cap($0.title, Self.topTitleLimit) }
        moreCount = all.count > 1 ? all.count - 1 : nil
        let titles = all.prefix(3).map(\.title).joined(separator: " · ")
        preheader = all.isEmpty ? "Nothing new today." : Self.cap(titles, 140)
    }

    /// Longest `topTitle` in characters (cut at a word with "…"), so the subject keeps its end
    /// ("and 14 more") however long the best item's title is.
    static let topTitleLimit = 60

    /// "Tuesday, 24 November 2026", in the site's language.
    static func format(_ day: Day, locale: Locale) -> String {
        let noon = day.instant(hour: 12, in: TimeZone(identifier: "UTC")!)
        var style = Date.FormatStyle(date: .complete, time: .omitted, locale: locale)
        style.timeZone = TimeZone(identifier: "UTC")!
        return noon.formatted(style)
    }

    /// Cuts `text` to at most `limit` characters at a word boundary, adding an ellipsis.
    static func cap(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        let prefix = text.prefix(limit)
        let cut = prefix.lastIndex(of: " ").map { prefix[..<$0] } ?? prefix
        return cut.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)) + "…"
    }
}
