import Foundation

/// Dates as feeds write them, read the way feed readers read them:
///
/// - RFC 822/1123/2822 (`pubDate`): `[Tue,] 24 Nov 2026 07:30[:00] GMT`, the obsolete named zones
///   (`EST`, `PDT`, `UT`, military letters), numeric zones (`+0200`, `-05:00`, `GMT+2`), 2-digit years,
///   month and day names short or long, day and month in either order, a comment such as `(UTC)`;
/// - asctime and JavaScript's `Date.toString()`: `Sun Jul 15 01:16:00 +0000 2012`, `Sun Jul 15 01:16:00 2012`;
/// - "26 January 2004 16:31:00 ET", US zones without daylight letter (`ET`, `CT`, `MT`, `PT` as standard time),
///   `AM`/`PM`, IANA zone names (`Etc/GMT`, `America/New_York`);
/// - ISO 8601/W3C-DTF/RFC 3339 (Atom, Dublin Core): `2026-11-24T07:30:00.123+02:00`, a space for the
///   `T`, `2026-11-24`, and the partial dates `2003-12` and `2003` (their first day), the basic
///   form `20261124T073000Z`, ordinal dates (`2003-335`, `2003335`), a month written with three digits
///   (`2003-012-31`), and the reduced forms with a two-digit year of this century (`03-12-31`, `031231`,
///   `03335`, `-03-12`, `-0312`);
/// - month and day names in Greek (`Κυρ, 11 Ιούλ 2004 12:00:00 EST`) and Hungarian (`2004-július-13T9:15-05:00`),
///   and the Korean forms of OnBlog (`2004년 05월 28일 01:31:15`) and Nate (`2004-05-25 오후 11:23:17`),
///   whose times are Korean (UTC+9) unless they name a zone.
///
/// A date without a zone is taken as UTC. Years are read as written, 1 to 9999, in the proleptic Gregorian
/// calendar (year 100 is year 100, not a fallback). Impossible dates (31 February, 25:00) are refused (nil).
public enum FeedDate {
    /// Parses `text` in any of the supported forms; nil when it is none of them.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = trimmed.utf8.first else { return nil }
        if (0x30...0x39).contains(first) || first == UInt8(ascii: "-") {
            if let date = iso8601(trimmed) { return date }
            if trimmed.contains(where: \.isLetter), let date = monthNamedISO(trimmed) { return date }
        }
        if trimmed.utf8.contains(where: { $0 >= 0x80 }), let date = korean(trimmed) { return date }
        return rfc822(trimmed)
    }

    // MARK: Names of months and days in other languages

    /// "2004-július-13T9:15-05:00": W3C-DTF with the month's name in place of its number, one-digit days
    /// and hours allowed.
    static func monthNamedISO(_ text: String) -> Date? {
        let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = monthNumber(String(parts[1]))
        else { return nil }
        let rest = parts[2]
        let dayText = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard (1...2).contains(dayText.count), let day = Int(dayText) else { return nil }
        var iso = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        var time = rest.dropFirst(dayText.count)
        if time.first == "T" || time.first == " " {
            time = time.dropFirst()
            let hourText = time.prefix(while: { $0.isASCII && $0.isNumber })
            guard (1...2).contains(hourText.count), let hour = Int(hourText) else { return nil }
            iso += "T" + pad(hour, 2) + time.dropFirst(hourText.count)
        } else if !time.isEmpty {
            return nil
        }
        return iso8601(iso)
    }

    /// OnBlog's "2004년 05월 28일 01:31:15" (year, month and day marked by 년, 월, 일) and Nate's
    /// "2004-05-25 오후 11:23:17" (오전 before noon, 오후 after), in Korean time unless a zone is written.
    static func korean(_ text: String) -> Date? {
        var year: Int?
        var month: Int?
        var day: Int?
        var clock: (hour: Int, minute: Int, second: Int)?
        var meridiem: Character?
        var offset = 9 * 3600
        for token in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
            let number = Int(token.dropLast())
            if token.hasSuffix("년"), let number {
                year = number
            } else if token.hasSuffix("월"), let number {
                month = number
            } else if token.hasSuffix("일"), let number {
                day = number
            } else if token == "오전" || token == "오후" {
                meridiem = token == "오전" ? "a" : "p"
            } else if token.contains(":"), clock == nil, let parsed = clockTime(String(token)) {
                clock = (parsed.hour, parsed.minute, parsed.second)
                if let zone = parsed.offset { offset = zone }
            } else if year == nil, token.contains("-") {
                var scanner = DigitScanner(String(token))
                guard let date = isoDay(&scanner), scanner.atEnd else { return nil }
                (year, month, day) = (date.year, date.month, date.day)
            } else if let zone = zoneOffset(String(token)) {
                offset = zone
            } else {
                return nil
            }
        }
        guard let year, let month, let day, meridiem != nil || text.contains("년") else { return nil }
        var time = clock ?? (0, 0, 0)
        if let meridiem {
            guard (1...12).contains(time.hour) else { return nil }
            time.hour = time.hour % 12 + (meridiem == "p" ? 12 : 0)
        }
        return makeDate(
            year: year, month: month, day: day, hour: time.hour, minute: time.minute, second: time.second,
            offset: offset)
    }

    /// Greek (as Greek feeds abbreviate them, with and without accents) and Hungarian month names, folded
    /// to lowercase without accents.
    private static let foreignMonths: [String: Int] = [
        "ιαν": 1, "φεβ": 2, "μαρ": 3, "μαω": 3, "απρ": 4, "μαι": 5, "ιουν": 6, "ιον": 6, "ιουλ": 7, "ιολ": 7,
        "αυγ": 8, "σεπ": 9, "οκτ": 10, "νοε": 11, "δεκ": 12,
        "januar": 1, "februar": 2, "februari": 2, "marcius": 3, "aprilis": 4, "majus": 5, "maujus": 5,
        "junius": 6, "julius": 7, "augusztus": 8, "szeptember": 9, "oktober": 10,
    ]
    /// Greek day names as feeds abbreviate them (Κυρ, Δευ, Τρι, Τετ, Πεμ, Παρ, Σαβ), folded.
    private static let foreignDays: Set<String> = ["κυρ", "δευ", "τρι", "τετ", "πεμ", "παρ", "σαβ"]

    private static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: RFC 822 / 1123 / 2822, asctime and their relatives

    /// Reads the words of a date in any order: names of days (ignored), a month name, numbers for the
    /// day and year, a time with colons, a zone, AM/PM. Anything else refuses the date.
    static func rfc822(_ text: String) -> Date? {
        var cleaned = text
        // RFC 2822 comments: "+0000 (UTC)".
        while let open = cleaned.firstIndex(of: "("), let close = cleaned[open...].firstIndex(of: ")") {
            cleaned.removeSubrange(open...close)
        }
        var tokens: [String] = []
        for word in cleaned.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
            // "24-Nov-2026" and "Nov-24-2026": dashes between a month name and numbers.
            let startsLikeADate = word.first?.isNumber == true || monthNumber(String(word.prefix(3))) != nil
            if word.contains("-"), word.contains(where: \.isLetter), startsLikeADate, !word.contains("/") {
                tokens += word.split(separator: "-").map(String.init)
            } else {
                tokens.append(String(word))
            }
        }
        var day: Int?
        var month: Int?
        var year: Int?
        var yearDigits = 4
        var time: (hour: Int, minute: Int, second: Int)?
        var offset: Int?
        var zone: TimeZone?
        var meridiem: String?
        for token in tokens {
            let lower = token.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if token.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(token) {
                if token.count >= 3 {
                    guard year == nil else { return nil }
                    year = number
                } else if day == nil {
                    day = number
                } else if year == nil {
                    year = number
                    yearDigits = token.count
                } else {
                    return nil
                }
            } else if let m = monthNumber(lower), month == nil {
                month = m
            } else if dayNames.contains(where: { lower == $0 || (lower.count >= 3 && $0.hasPrefix(lower)) }) {
                continue
            } else if !lower.allSatisfy(\.isASCII), foreignDays.contains(folded(lower)) {
                continue
            } else if token.contains("/"), year == nil, month == nil, day == nil, let slashed = slashedDate(token) {
                // Perforce and others: "Fri, 2006/09/15 08:19:53 EDT".
                (year, month, day) = (slashed.year, slashed.month, slashed.day)
            } else if token.contains(":"), time == nil, let parsed = clockTime(token) {
                time = (parsed.hour, parsed.minute, parsed.second)
                if let zoneOffset = parsed.offset { offset = zoneOffset }
            } else if lower == "am" || lower == "pm" || lower == "a.m" || lower == "p.m" {
                meridiem = String(lower.prefix(1))
            } else if offset == nil, zone == nil, let zoneOffset = zoneOffset(token) {
                offset = zoneOffset
            } else if offset == nil, zone == nil, token.contains("/"), let named = TimeZone(identifier: token) {
                zone = named
            } else {
                return nil
            }
        }
        guard let day, let month, var year else { return nil }
        if yearDigits == 2 { year += year < 50 ? 2000 : 1900 }
        var clock = time ?? (0, 0, 0)
        if let meridiem {
            guard (1...12).contains(clock.hour) else { return nil }
            clock.hour = clock.hour % 12 + (meridiem == "p" ? 12 : 0)
        }
        guard
            let utc = makeDate(
                year: year, month: month, day: day, hour: clock.hour, minute: clock.minute, second: clock.second,
                offset: 0)
        else { return nil }
        if let zone {
            // The zone's offset at that local time; asked twice so a date next to a DST change lands right.
            let first = utc.addingTimeInterval(TimeInterval(-zone.secondsFromGMT(for: utc)))
            return utc.addingTimeInterval(TimeInterval(-zone.secondsFromGMT(for: first)))
        }
        return utc.addingTimeInterval(TimeInterval(-(offset ?? 0)))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december",
    ]
    private static let dayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// "Nov", "November", "Sept"; not any word that merely starts like a month ("Marathon"); the Greek
    /// and Hungarian names.
    private static func monthNumber(_ text: String) -> Int? {
        if !text.allSatisfy(\.isASCII) { return foreignMonths[folded(text)] }
        let lower = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard lower.count >= 3, let index = months.firstIndex(of: String(lower.prefix(3))),
            monthNames[index].hasPrefix(lower) || lower == "sept"
        else { return foreignMonths[lower] }
        return index + 1
    }

    /// `2006/09/15`: year first, so it cannot be read as a US or European day order.
    private static func slashedDate(_ token: String) -> (year: Int, month: Int, day: Int)? {
        let parts = token.split(separator: "/")
        guard parts.count == 3, parts[0].count == 4, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        return (year, month, day)
    }

    /// `07:30`, `07:30:00`, `7:30:00.25`, with a zone stuck on (`07:30:00Z`, `07:30:00+02:00`).
    private static func clockTime(_ token: String) -> (hour: Int, minute: Int, second: Int, offset: Int?)? {
        var text = Substring(token)
        var offset: Int?
        if text.hasSuffix("Z") || text.hasSuffix("z") {
            offset = 0
            text = text.dropLast()
        } else if let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let numeric = numericOffset(text[sign...]) else { return nil }
            offset = numeric
            text = text[..<sign]
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let secondsText = parts.count == 3 ? parts[2].prefix(while: { $0 != "." && $0 != "," }) : "0"
        guard let hour = Int(parts[0]), let minute = Int(parts[1]), let second = Int(secondsText),
            parts[0].count <= 2, parts[1].count == 2, secondsText.count <= 2
        else { return nil }
        return (hour, minute, second, offset)
    }

    /// Named zones of RFC 822 §5.1 and those feeds use; offsets in seconds east of UTC. ET, CT, MT and PT
    /// (no daylight letter) count as standard time.
    private static let namedZones: [String: Int] = {
        var zones: [String: Double] = [
            "GMT": 0, "UT": 0, "UTC": 0, "Z": 0, "WET": 0, "GMT0": 0,
            "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
            "ET": -5, "CT": -6, "MT": -7, "PT": -8, "AST": -4, "ADT": -3, "AT": -4, "NST": -3.5, "NDT": -2.5,
            "AKST": -9, "AKDT": -8, "HST": -10,
            "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "WEST": 1,
            "MSK": 3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "ACST": 9.5, "AWST": 8, "NZST": 12, "NZDT": 13,
        ]
        // RFC 2822 §4.3: the military letters of RFC 822 had their signs reversed in practice, so they
        // "SHOULD all be considered equivalent to -0000" (UTC, zone unknown).
        for letter in "ABCDEFGHIKLMNOPQRSTUVWXY" { zones[String(letter)] = 0 }
        return zones.mapValues { Int($0 * 3600) }
    }()

    private static func zoneOffset(_ text: String) -> Int? {
        let upper = text.uppercased()
        if let named = namedZones[upper] { return named }
        // "GMT+2", "UTC-05:00", "GMT+0530".
        for prefix in ["GMT", "UTC", "UT"] where upper.hasPrefix(prefix) && upper.count > prefix.count {
            return numericOffset(Substring(upper.dropFirst(prefix.count)))
        }
        return numericOffset(Substring(text))
    }

    /// `+hhmm`, `-hh:mm`, `+hh` or `+h`.
    private static func numericOffset(_ text: Substring) -> Int? {
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), [1, 2, 4].contains(digits.count),
            let hours = Int(digits.count == 4 ? digits.prefix(2) : digits[...]),
            let minutes = Int(digits.count == 4 ? digits.suffix(2) : "00"),
            hours <= 23, minutes <= 59
        else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == "-" ? -seconds : seconds
    }

    // MARK: ISO 8601 / W3C-DTF / RFC 3339

    /// `2026-11-24`, `2026-11-24T07:30Z`, `2026-11-24 07:30:00.123+02:00`, `2026-11-24T07:30:00+0200`,
    /// `2026-11`, `2026`, `20261124T073000Z`, `2026-328`, `26-11-24`, `-2611`.
    static func iso8601(_ text: String) -> Date? {
        var scanner = DigitScanner(text)
        guard let date = isoDay(&scanner) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var offset = 0
        if !scanner.atEnd {
            guard scanner.expect("Tt "), let h = scanner.number(2) else { return nil }
            hour = h
            // Extended (07:30:00) or basic (073000) time.
            if scanner.expect(":") {
                guard let m = scanner.number(2) else { return nil }
                minute = m
                if scanner.expect(":") {
                    guard let s = scanner.number(2) else { return nil }
                    second = s
                }
            } else {
                guard let m = scanner.number(2) else { return nil }
                minute = m
                if let s = scanner.number(2) { second = s }
            }
            if scanner.expect(".,") {
                // Fractions of a second are dropped: items are ordered to the second.
                while scanner.atDigit { scanner.index += 1 }
            }
            if !scanner.atEnd {
                let rest = scanner.rest.trimmingCharacters(in: .whitespaces)
                guard let zone = zoneOffset(rest) else { return nil }
                offset = zone
            }
        }
        return makeDate(
            year: date.year, month: date.month, day: date.day, hour: hour, minute: minute, second: second,
            offset: offset)
    }

    /// The calendar date an ISO 8601 text starts with, the scanner left after it. Four-digit years: `2003-12-31`,
    /// `20031231`, `2003-12`, `2003`, `2003-335`, `2003335`, `2003-012-31` (a month with three digits, as
    /// Google wrote it). Two-digit years, of this century: `03-12-31`, `031231`, `03-335`, `03335`,
    /// `-03-12`, `-0312` (the last two name a month).
    static func isoDay(_ scanner: inout DigitScanner) -> (year: Int, month: Int, day: Int)? {
        if scanner.expect("-") {
            guard let year = scanner.number(2) else { return nil }
            _ = scanner.expect("-")
            guard let month = scanner.number(2), scanner.atEnd else { return nil }
            return (2000 + year, month, 1)
        }
        let run = scanner.digitRun
        let year: Int
        switch run {
        case 2, 5, 6: year = 2000 + scanner.number(2)!
        case 4, 7, 8: year = scanner.number(4)!
        default: return nil
        }
        var month = 1
        var day = 1
        switch run {
        case 6, 8:
            month = scanner.number(2)!
            day = scanner.number(2)!
        case 5, 7:
            guard let date = ordinalDay(year: year, scanner.number(3)!) else { return nil }
            (month, day) = date
        default:
            if run == 4, scanner.atEnd || !scanner.expect("-") {
                // A year alone, or a year and a time ("2003T…" is not a form anyone writes: refused below).
                guard scanner.atEnd else { return nil }
                break
            }
            if run == 2 { guard scanner.expect("-") else { return nil } }
            switch scanner.digitRun {
            case 2:
                month = scanner.number(2)!
                if scanner.expect("-") {
                    guard let d = scanner.number(2) else { return nil }
                    day = d
                }
            case 3:
                let start = scanner.index
                let number = scanner.number(3)!
                if number < 100, scanner.expect("-"), let d = scanner.number(2) {
                    (month, day) = (number, d)
                } else {
                    scanner.index = start + 3
                    guard let date = ordinalDay(year: year, number) else { return nil }
                    (month, day) = date
                }
            default: return nil
            }
        }
        return (year, month, day)
    }

    /// Month and day of the `ordinal`th day of `year`; nil past its last day.
    private static func ordinalDay(year: Int, _ ordinal: Int) -> (month: Int, day: Int)? {
        var left = ordinal
        guard left >= 1 else { return nil }
        for month in 1...12 {
            let length = daysIn(month: month, year: year)
            if left <= length { return (month, left) }
            left -= length
        }
        return nil
    }

    // MARK: Shared

    private static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The instant by arithmetic in the proleptic Gregorian calendar (as RFC 3339 and ISO 8601 count,
    /// and Python's `calendar.timegm`), not Foundation's calendar, which is Julian before 1582.
    private static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offset: Int)
        -> Date?
    {
        guard (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil: years counted from March).
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
