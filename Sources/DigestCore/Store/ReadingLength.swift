import Foundation

/// How long a reader wants their digest: the site's counts (nothing set), "at most N stories and M posts"
/// (each within the site's count for the section), or "about N minutes" of reading. An edition never has
/// fewer than one item in a section that has any.
public struct ReadingLength: Sendable, Equatable, Hashable, Codable {
    /// Most stories (`story` sections); nil: the site's count.
    public var stories: Int?
    /// Most posts (`post` sections); nil: the site's count.
    public var posts: Int?
    /// About this many minutes of reading (titles and summaries at `wordsPerMinute`); nil: no budget.
    public var minutes: Int?

    public init(stories: Int? = nil, posts: Int? = nil, minutes: Int? = nil) {
        self.stories = stories
        self.posts = posts
        self.minutes = minutes
    }

    /// The site's counts, no budget.
    public static let site = ReadingLength()

    /// Words a reader reads in a minute, for "about N minutes": the usual figure for reading on a screen
    /// (skimming titles and summaries goes faster than prose; 200 keeps a promised 5 minutes under 5).
    public static let wordsPerMinute = 200

    /// The most items of `kind` a section shows for this reader, given the site's `count` for it.
    public func limit(for kind: ItemKind, siteCount count: Int) -> Int {
        let wanted: Int? =
            switch kind {
            case .story: stories
            case .post: posts
            }
        return max(1, min(count, wanted ?? count))
    }

    /// Checks a length given by a person (a form, a flag, a CSV cell): counts and minutes from 1 to 100,
    /// minutes or counts but not both.
    public func validated() throws -> ReadingLength {
        for (name, value) in [("stories", stories), ("posts", posts), ("minutes", minutes)] {
            if let value, !(1...100).contains(value) {
                throw SubscriberError("\(name) must be a whole number from 1 to 100, not \(value)")
            }
        }
        if minutes != nil && (stories != nil || posts != nil) {
            throw SubscriberError("a length is either minutes of reading or counts of stories and posts, not both")
        }
        return self
    }

    /// "at most 3 stories and 2 posts", "about 5 minutes", "the site's full edition".
    public var description: String {
        if let minutes { return "about \(minutes) minute\(minutes == 1 ? "" : "s") of reading" }
        var parts: [String] = []
        if let stories { parts.append("\(stories) stor\(stories == 1 ? "y" : "ies")") }
        if let posts { parts.append("\(posts) post\(posts == 1 ? "" : "s")") }
        return parts.isEmpty ? "the full edition" : "at most " + parts.joined(separator: " and ")
    }
}
