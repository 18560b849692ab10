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
///   form `20261124T073000Z`.
///
/// A date without a zone is taken as UTC. Impossible dates (31 February, 25:00) are refused (nil).
public enum FeedDate {
    /// Parses `text` in any of the supported forms; nil when it is none of them.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        if let first = trimmed.unicodeScalars.first, CharacterSet.decimalDigits.contains(first),
            let date = iso8601(trimmed)
        {
            return date
        }
        return rfc822(trimmed)
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

    /// "Nov", "November", "Sept"; not any word that merely starts like a month ("Marathon").
    private static func monthNumber(_ text: String) -> Int? {
        let lower = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard lower.count >= 3, let index = months.firstIndex(of: String(lower.prefix(3))) else { return nil }
        guard monthNames[index].hasPrefix(lower) || lower == "sept" else { return nil }
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
    /// `2026-11`, `2026`, `20261124T073000Z`.
    static func iso8601(_ text: String) -> Date? {
        var scanner = DigitScanner(text)
        guard let year = scanner.number(4) else { return nil }
        var month = 1
        var day = 1
        // The basic form writes no separators: 20261124T073000Z.
        let basic = scanner.atDigit
        if basic {
            guard let m = scanner.number(2), let d = scanner.number(2) else { return nil }
            month = m
            day = d
        } else if !scanner.atEnd {
            guard scanner.expect("-") else { return nil }
            let start = scanner.index
            // An ordinal date, 2003-335: the 335th day of 2003.
            if let ordinal = scanner.number(3), scanner.atEnd || !scanner.atDigit {
                guard (1...366).contains(ordinal),
                    let date = makeDate(year: year, month: 1, day: 1, hour: 0, minute: 0, second: 0, offset: 0)
                else { return nil }
                let shifted = date.addingTimeInterval(TimeInterval((ordinal - 1) * 86_400))
                guard utcCalendar.component(.year, from: shifted) == year else { return nil }
                let parts = utcCalendar.dateComponents([.month, .day], from: shifted)
                month = parts.month!
                day = parts.day!
                if scanner.atEnd {
                    return makeDate(year: year, month: month, day: day, hour: 0, minute: 0, second: 0, offset: 0)
                }
                return nil
            }
            scanner.index = start
            guard let m = scanner.number(2) else { return nil }
            month = m
            if !scanner.atEnd {
                guard scanner.expect("-"), let d = scanner.number(2) else { return nil }
                day = d
            }
        }
        var hour = 0
        var minute = 0
        var second = 0
        var offset = 0
        if !scanner.atEnd {
            guard scanner.expect("Tt ") else { return nil }
            guard let h = scanner.number(2) else { return nil }
            hour = h
            if basic {
                guard let m = scanner.number(2) else { return nil }
                minute = m
                if let s = scanner.number(2) { second = s }
            } else {
                guard scanner.expect(":"), let m = scanner.number(2) else { return nil }
                minute = m
                if scanner.expect(":") {
                    guard let s = scanner.number(2) else { return nil }
                    second = s
                }
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
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
    }

    // MARK: Shared

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offset: Int)
        -> Date?
    {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second), (1000...9999).contains(year)
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let local = utcCalendar.date(from: components),
            utcCalendar.component(.day, from: local) == day || second == 60
        else { return nil }
        return local.addingTimeInterval(TimeInterval(-offset))
    }
}
