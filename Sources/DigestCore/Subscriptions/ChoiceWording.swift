import Foundation

/// How the reader pages and the mails that confirm a reply command put a reader's choices into words, in the
/// reader's language (catalog keys `choice.*`). One place, so the unsubscribe page's offers, the pages that confirm
/// them, the preferences page's "saved" notice and the "Done:" mail say each thing the same way.
public enum ChoiceWording {
    /// "a daily digest", "the week's best every Monday", "the month's best on the 1st of each month".
    public static func edition(_ subscriber: Subscriber, _ language: Language) -> String {
        switch subscriber.cadence {
        case .daily: language.text("choice.editionDaily")
        case .weekly: language.text("choice.editionWeekly", ["weekday": weekday(subscriber.weekday, language)])
        case .monthly: language.text("choice.editionMonthly")
        }
    }

    /// "3", "3 and 7", "3, 7 and 9" in `language` (`choice.listSeparator`, `choice.and`).
    public static func list(_ words: [String], _ language: Language) -> String {
        guard let last = words.last, words.count > 1 else { return words.joined() }
        let first = words.dropLast().joined(separator: language.text("choice.listSeparator") + " ")
        return language.text("choice.and", ["a": first, "b": last])
    }

    /// "Monday" in `language`.
    public static func weekday(_ day: Weekday, _ language: Language) -> String { language.text("weekday.\(day.rawValue)") }

    /// "07:00" in the language's digits.
    public static func hour(_ hour: Int, _ language: Language) -> String {
        language.digits(in: String(format: "%02d:00", hour))
    }

    /// "You will get the week's best every Monday instead of a daily digest."
    public static func cadenceChange(from old: Subscriber, to new: Subscriber, _ language: Language) -> String {
        language.text("choice.cadence", ["new": edition(new, language), "old": edition(old, language)])
    }

    /// What a pause means, said where it is set and wherever it is shown.
    public static func paused(until day: Day, _ language: Language) -> String {
        language.text("choice.paused", ["day": language.digits(in: day.description)])
    }

    public static func resumed(_ language: Language) -> String { language.text("choice.resumed") }

    /// The pause a reader has on `today`: nil when none, or when it ended before today (the day it ends
    /// still counts: that day brings the catch-up).
    public static func pause(of subscriber: Subscriber, today: Day) -> Day? {
        subscriber.pausedUntil.flatMap { $0 >= today ? $0 : nil }
    }

    /// "at most 3 stories and 2 posts", "about 5 minutes of reading", "the full edition".
    public static func length(_ length: ReadingLength, _ language: Language) -> String {
        if let minutes = length.minutes { return language.text("choice.lengthMinutes", count: minutes) }
        let parts = [
            length.stories.map { language.text("choice.stories", count: $0) },
            length.posts.map { language.text("choice.posts", count: $0) },
        ].compactMap { $0 }
        switch parts.count {
        case 0: return language.text("choice.lengthFull")
        case 1: return language.text("choice.lengthAtMost", ["items": parts[0]])
        default:
            return language.text(
                "choice.lengthAtMost", ["items": language.text("choice.and", ["a": parts[0], "b": parts[1]])])
        }
    }

    /// One sentence per choice that differs between `old` and `new`, in the preferences page's order;
    /// empty when nothing changed.
    public static func changes(
        from old: Subscriber, to new: Subscriber, configuration: Configuration, languages: Languages
    ) -> [String] {
        let language = languages.language(new.language)
        var sentences: [String] = []
        if old.sections != new.sections {
            let titles = configuration.digest.sections.filter { new.wants($0.kind) }.map { $0.title(in: language.code) }
            sentences.append(
                language.text(
                    "choice.sections",
                    ["sections": titles.joined(separator: language.text("choice.listSeparator") + " ")]))
        }
        if old.format != new.format {
            sentences.append(language.text(new.format == .html ? "choice.formatHTML" : "choice.formatText"))
        }
        if old.length != new.length {
            sentences.append(language.text("choice.length", ["length": length(new.length, language)]))
        }
        if old.cadence != new.cadence || (new.cadence == .weekly && old.weekday != new.weekday) {
            sentences.append(cadenceChange(from: old, to: new, language))
        } else if old.weekday != new.weekday {
            sentences.append(language.text("choice.weekday", ["weekday": weekday(new.weekday, language)]))
        }
        if old.pausedUntil != new.pausedUntil {
            sentences.append(new.pausedUntil.map { paused(until: $0, language) } ?? resumed(language))
        }
        if old.timeZone != new.timeZone {
            let zone =
                new.timeZone ?? language.text("choice.siteZone", ["zone": configuration.site.timeZone.identifier])
            sentences.append(language.text("choice.timeZone", ["zone": zone]))
        }
        if old.deliveryHour != new.deliveryHour {
            let hour =
                new.deliveryHour.map { self.hour($0, language) }
                ?? language.text("choice.usualTime", ["hour": self.hour(configuration.digest.sendHour, language)])
            sentences.append(language.text("choice.deliveryHour", ["hour": hour]))
        }
        if languages.language(old.language).code != language.code {
            sentences.append(language.text("choice.language", ["language": language.text("language.name")]))
        }
        return sentences
    }
}
