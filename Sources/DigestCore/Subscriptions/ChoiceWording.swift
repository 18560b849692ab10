import Foundation

/// How the reader pages and the mails that confirm a reply command put a reader's choices into words. One place,
/// so the unsubscribe page's offers, the pages that confirm them, the preferences page's "saved" notice and the
/// "Done:" mail say each thing the same way.
public enum ChoiceWording {
    /// "a daily digest", "the week's best every Monday", "the month's best on the 1st of each month".
    public static func edition(_ subscriber: Subscriber) -> String {
        switch subscriber.cadence {
        case .daily: "a daily digest"
        case .weekly: "the week's best every \(subscriber.weekday.name)"
        case .monthly: "the month's best on the 1st of each month"
        }
    }

    /// "You will get the week's best every Monday instead of a daily digest."
    public static func cadenceChange(from old: Subscriber, to new: Subscriber) -> String {
        "You will get \(edition(new)) instead of \(edition(old))."
    }

    /// What a pause means, said where it is set and wherever it is shown.
    public static func paused(until day: Day) -> String {
        "Paused until \(day): nothing is sent until then; that day you get one catch-up of what you missed."
    }

    public static let resumed = "No longer paused: your digests come again from the next one."

    /// The pause a reader has on `today`: nil when none, or when it ended before today (the day it ends
    /// still counts: that day brings the catch-up).
    public static func pause(of subscriber: Subscriber, today: Day) -> Day? {
        subscriber.pausedUntil.flatMap { $0 >= today ? $0 : nil }
    }

    /// One sentence per choice that differs between `old` and `new`, in the preferences page's order;
    /// empty when nothing changed.
    public static func changes(from old: Subscriber, to new: Subscriber, configuration: Configuration) -> [String] {
        var sentences: [String] = []
        if old.sections != new.sections {
            let titles = configuration.digest.sections.filter { new.wants($0.kind) }.map(\.title)
            sentences.append("Sections: \(titles.joined(separator: ", ")).")
        }
        if old.format != new.format {
            sentences.append(
                new.format == .html ? "Format: HTML (with a plain-text copy)." : "Format: plain text only.")
        }
        if old.length != new.length { sentences.append("Length: \(new.length.description).") }
        if old.cadence != new.cadence || (new.cadence == .weekly && old.weekday != new.weekday) {
            sentences.append(cadenceChange(from: old, to: new))
        } else if old.weekday != new.weekday {
            sentences.append("Day of the weekly edition: \(new.weekday.name), for when you choose weekly.")
        }
        if old.pausedUntil != new.pausedUntil { sentences.append(new.pausedUntil.map(paused(until:)) ?? resumed) }
        if old.timeZone != new.timeZone {
            sentences.append("Time zone: \(new.timeZone ?? "the site's (\(configuration.site.timeZone.identifier))").")
        }
        if old.deliveryHour != new.deliveryHour {
            let hour = new.deliveryHour.map { String(format: "%02d:00", $0) }
            sentences.append(
                "Delivery hour: \(hour ?? String(format: "the usual time (%02d:00)", configuration.digest.sendHour)).")
        }
        return sentences
    }
}
