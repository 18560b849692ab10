import Foundation

/// An edition as the web archive shows it: what a reader who takes every section gets, built from the
/// frozen edition by the same ranker selection and the same view model (`DigestView`) as the mails, with
/// nothing personal (no name, no address, no token).
public struct EditionWebView: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var title: String
        public var url: String
        public var summary: String?
        public var author: String?
        public var votesLabel: String
    }

    public struct Section: Sendable, Equatable {
        public var kind: String
        public var title: String
        public var items: [Item]
    }

    public var date: Day
    public var kind: EditionKind
    /// "The week's best, Tuesday, 24 November 2026": the page's heading and its title after the site's name.
    public var heading: String
    /// "Tuesday, 24 November 2026", in the site's language.
    public var longDate: String
    public var sections: [Section]
    /// The first titles, for a page's description and its share card.
    public var preheader: String
    public var itemCount: Int

    /// The page of `edition` in `language` (the archive's pages are in the site's language).
    public init(edition: Edition, ranker: Ranker, configuration: Configuration, language: Language) {
        let selection = ranker.select(from: edition, wants: { _ in true }, alreadyReceived: [])
        let view = DigestView(
            selection: selection, date: edition.date, configuration: configuration, language: language,
            reader: .init(name: "", hasName: false, email: ""), links: .init(unsubscribe: "", preferences: ""))
        date = edition.date
        kind = edition.kind
        longDate = view.date
        heading = edition.kind.headingKey.map { "\(language.text($0)), \(view.date)" } ?? view.date
        preheader = view.preheader
        itemCount = view.itemCount
        sections = view.sections.map { section in
            Section(
                kind: section.kind, title: section.title,
                items: section.items.map {
                    Item(title: $0.title, url: $0.url, summary: $0.summary, author: $0.author, votesLabel: $0.votesLabel)
                })
        }
    }
}

extension LinkSigner {
    /// The key of edition `date`'s web page when the archive is for readers only (`web.archive: readers`):
    /// the same for every reader of that edition (nothing personal in the link), and unguessable without the
    /// link-signing secret.
    public func archiveKey(for date: Day) -> String { fingerprint("archive:\(date)", length: 32) }
}
