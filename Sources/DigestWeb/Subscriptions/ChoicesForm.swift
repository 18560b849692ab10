import DigestCore
import Foundation

/// The reader's choices on the preferences page (length, cadence and weekday, pause) as the form shows
/// them, and read back from it field by field: what issue 25 adds beside sections, format, zone and hour.
///
/// A field the body leaves out keeps what is stored, so a form made before these choices existed (an
/// embedded copy, a page left open) still saves what it does send.
struct ChoicesForm {
    /// The pause select's options.
    enum Pause: String, CaseIterable {
        /// The pause the reader has (offered only while they have one).
        case keep
        case none
        case week = "1w"
        case twoWeeks = "2w"
        case month = "1m"
        /// The day in `pausedUntil`.
        case until
    }

    /// The length radios: the site's counts, at most so many stories and posts, or about so many minutes.
    enum Length: String {
        case site, counts, minutes
    }

    var cadence: String
    var weekday: String
    /// The pause stored, while it lasts: what `keep` keeps.
    let currentPause: Day?
    var pause: String
    /// The date input, shown with the current pause's end.
    var pausedUntil: String
    var length: String
    var maxStories: String
    var maxPosts: String
    var readingMinutes: String

    init(_ subscriber: Subscriber, today: Day) {
        cadence = subscriber.cadence.rawValue
        weekday = subscriber.weekday.rawValue
        currentPause = ChoiceWording.pause(of: subscriber, today: today)
        pause = currentPause == nil ? Pause.none.rawValue : Pause.keep.rawValue
        pausedUntil = currentPause?.description ?? ""
        let length = subscriber.length
        self.length = (length.minutes != nil ? Length.minutes : length == .site ? .site : .counts).rawValue
        maxStories = length.stories.map(String.init) ?? ""
        maxPosts = length.posts.map(String.init) ?? ""
        readingMinutes = length.minutes.map(String.init) ?? ""
    }

    /// The most items of `kind` a reader may ask for: the largest section of that kind (nil when the site
    /// has none, and the form asks nothing about it), and never more than a stored length allows.
    static func siteCount(_ kind: ItemKind, in configuration: Configuration) -> Int? {
        configuration.digest.sections.filter { $0.kind == kind }.map(\.count).max().map { min($0, 100) }
    }

    /// Reads the fields `body` sent into the form (to show again) and into `subscriber`; each problem goes
    /// under its field's name in `errors`, worded for people.
    mutating func read(
        _ body: FormData, into subscriber: inout Subscriber, today: Day, configuration: Configuration,
        errors: inout [String: String]
    ) {
        // One of a fixed list (radios, a select): kept as sent to show again, stored when it is one of them.
        func pick<Value: RawRepresentable>(
            _ field: String, _ shown: inout String, _ stored: inout Value, _ message: String
        ) where Value.RawValue == String {
            guard let text = body[field] else { return }
            shown = text
            if let value = Value(rawValue: text) { stored = value } else { errors[field] = message }
        }
        pick(FormField.cadence, &cadence, &subscriber.cadence, "Choose daily, weekly or monthly.")
        pick(FormField.weekday, &weekday, &subscriber.weekday, "Choose a day of the week.")
        if let text = body[FormField.pause] {
            pause = text
            pausedUntil = body[FormField.pausedUntil]?.trimmingCharacters(in: .whitespaces) ?? pausedUntil
            switch Pause(rawValue: text) {
            case .keep?: break
            // A pause that ended before today is history: left as stored, and not reported as a change.
            case .none?: if currentPause != nil { subscriber.pausedUntil = nil }
            case .week?: subscriber.pausedUntil = today.adding(days: 7)
            case .twoWeeks?: subscriber.pausedUntil = today.adding(days: 14)
            case .month?: subscriber.pausedUntil = today.adding(months: 1)
            case .until?:
                switch Day(pausedUntil) {
                case nil: errors[FormField.pausedUntil] = "Enter the day the pause ends, as YYYY-MM-DD."
                case let day?:
                    if let problem = Subscriber.pauseProblem(until: day, today: today) {
                        errors[FormField.pausedUntil] = problem
                    } else {
                        subscriber.pausedUntil = day
                    }
                }
            case nil: errors[FormField.pause] = "Choose how long to pause, or not paused."
            }
        }
        if let text = body[FormField.length] {
            length = text
            readLength(body, into: &subscriber, configuration: configuration, errors: &errors)
        }
    }

    private mutating func readLength(
        _ body: FormData, into subscriber: inout Subscriber, configuration: Configuration,
        errors: inout [String: String]
    ) {
        maxStories = body[FormField.maxStories]?.trimmingCharacters(in: .whitespaces) ?? ""
        maxPosts = body[FormField.maxPosts]?.trimmingCharacters(in: .whitespaces) ?? ""
        readingMinutes = body[FormField.readingMinutes]?.trimmingCharacters(in: .whitespaces) ?? ""
        // A whole number from 1 to `most`, or nil for an empty field; an error under `field` otherwise.
        func number(_ text: String, _ field: String, _ what: String, most: Int) -> Int? {
            if text.isEmpty { return nil }
            guard let value = Int(text), (1...most).contains(value) else {
                errors[field] = "Enter a number of \(what) from 1 to \(most), or leave it empty."
                return nil
            }
            return value
        }
        var wanted = ReadingLength.site
        switch Length(rawValue: length) {
        case .site?: break
        case .counts?:
            if let most = Self.siteCount(.story, in: configuration) {
                wanted.stories = number(maxStories, FormField.maxStories, "stories", most: most)
            }
            if let most = Self.siteCount(.post, in: configuration) {
                wanted.posts = number(maxPosts, FormField.maxPosts, "posts", most: most)
            }
            let field = Self.siteCount(.story, in: configuration) != nil ? FormField.maxStories : FormField.maxPosts
            if wanted == .site && errors[FormField.maxStories] == nil && errors[FormField.maxPosts] == nil {
                errors[field] = "Enter how many stories or posts at most, or choose the full edition."
            }
        case .minutes?:
            wanted.minutes = number(readingMinutes, FormField.readingMinutes, "minutes", most: 100)
            if wanted.minutes == nil && errors[FormField.readingMinutes] == nil {
                errors[FormField.readingMinutes] = "Enter about how many minutes, from 1 to 100."
            }
        case nil:
            errors[FormField.length] = "Choose the full edition, at most so many items, or about so many minutes."
            return
        }
        // The same rule the command line and CSV import keep.
        do {
            subscriber.length = try wanted.validated()
        } catch {
            errors[FormField.length] = "\(error)"
        }
    }

    /// The template's values for these fields.
    func view(today: Day, configuration: Configuration) -> [String: Any] {
        let cadences: [(Cadence, String)] = [
            (.daily, "Daily"), (.weekly, "Weekly: the week's best, on the day below"),
            (.monthly, "Monthly: the month's best, on the 1st"),
        ]
        let weekdays = Weekday.allCases.map { day in
            ["value": day.rawValue, "label": day.name, "selected": weekday == day.rawValue]
        }
        var pauses: [(Pause, String)] = currentPause.map { [(.keep, "Paused until \($0)")] } ?? []
        pauses += [
            (.none, "Not paused"), (.week, "For 1 week (until \(today.adding(days: 7)))"),
            (.twoWeeks, "For 2 weeks (until \(today.adding(days: 14)))"),
            (.month, "For 1 month (until \(today.adding(months: 1)))"), (.until, "Until the day below"),
        ]
        let stories = Self.siteCount(.story, in: configuration)
        let posts = Self.siteCount(.post, in: configuration)
        let full = [stories.map { "\($0) stories" }, posts.map { "\($0) posts" }].compactMap { $0 }
        return [
            "cadences": cadences.map { value, label in
                [
                    "id": "cadence-\(value.rawValue)", "value": value.rawValue, "label": label,
                    "checked": cadence == value.rawValue,
                ]
            },
            "weekdays": weekdays,
            "pauses": pauses.map { value, label in
                ["value": value.rawValue, "label": label, "selected": pause == value.rawValue]
            },
            "pausedUntil": pausedUntil, "tomorrow": today.adding(days: 1).description,
            "lastPauseDay": today.adding(months: 12).description,
            "lengthSite": length == Length.site.rawValue, "lengthCounts": length == Length.counts.rawValue,
            "lengthMinutes": length == Length.minutes.rawValue, "fullEdition": full.joined(separator: " and "),
            "maxStories": maxStories, "maxPosts": maxPosts, "readingMinutes": readingMinutes,
            "storyCount": stories ?? 0, "hasStories": stories != nil, "postCount": posts ?? 0, "hasPosts": posts != nil,
            "wordsPerMinute": ReadingLength.wordsPerMinute,
        ]
    }
}
