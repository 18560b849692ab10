import Foundation

/// Dates as feeds write them: RFC 822/1123 (RSS `pubDate`), ISO 8601/RFC 3339 (Atom, Dublin Core),
/// with or without seconds, with numeric or named zones. A date without a zone is taken as UTC.
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

    // MARK: RFC 822 / 1123 / 2822

    /// `[Tue,] 24 Nov 2026 07:30[:00] GMT|+0200|EST…`, month names short or long, 2- or 4-digit years.
    static func rfc822(_ text: String) -> Date? {
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        // A leading day name is optional and carries nothing the date does not already say.
        if let first = tokens.first, first.first?.isLetter == true { tokens.removeFirst() }
        guard tokens.count >= 3 else { return nil }
        var day: Int?
        var month: Int?
        // Both "24 Nov" and "Nov 24" occur in the wild.
        if let d = Int(tokens[0]), let m = monthNumber(tokens[1]) {
            day = d
            month = m
        } else if let m = monthNumber(tokens[0]), let d = Int(tokens[1]) {
            day = d
            month = m
        }
        guard let day, let month, var year = Int(tokens[2]) else { return nil }
        if tokens[2].count == 2 { year += year < 50 ? 2000 : 1900 }
        var hour = 0
        var minute = 0
        var second = 0
        var offset = 0
        if tokens.count >= 4 {
            let time = tokens[3].split(separator: ":").map { Int($0) }
            guard time.count >= 2, time.count <= 3, !time.contains(nil) else { return nil }
            hour = time[0]!
            minute = time[1]!
            second = time.count == 3 ? time[2]! : 0
        }
        if tokens.count >= 5 {
            guard let zone = zoneOffset(tokens[4]) else { return nil }
            offset = zone
        }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func monthNumber(_ text: String) -> Int? {
        let prefix = text.lowercased().prefix(3)
        guard text.count >= 3, let index = months.firstIndex(of: String(prefix)) else { return nil }
        return index + 1
    }

    /// Named zones of RFC 822 §5.1 and a few more that feeds use; offsets in seconds east of UTC.
    private static let namedZones: [String: Int] = [
        "GMT": 0, "UT": 0, "UTC": 0, "Z": 0, "WET": 0,
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
        "AKST": -9, "AKDT": -8, "HST": -10,
        "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "WEST": 1,
        "MSK": 3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
    ].mapValues { $0 * 3600 }

    private static func zoneOffset(_ text: String) -> Int? {
        if let named = namedZones[text.uppercased()] { return named }
        return numericOffset(Substring(text))
    }

    /// `+hhmm`, `-hh:mm` or `+hh`.
    private static func numericOffset(_ text: Substring) -> Int? {
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.allSatisfy(\.isASCII), digits.count == 4 || digits.count == 2,
            let hours = Int(digits.prefix(2)), let minutes = Int(digits.count == 4 ? digits.suffix(2) : "00"),
            hours <= 23, minutes <= 59
        else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == "-" ? -seconds : seconds
    }

    // MARK: ISO 8601 / RFC 3339

    /// `2026-11-24`, `2026-11-24T07:30Z`, `2026-11-24 07:30:00.123+02:00`, `2026-11-24T07:30:00+0200`.
    static func iso8601(_ text: String) -> Date? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func number(_ length: Int) -> Int? {
            guard index + length <= scalars.count else { return nil }
            var value = 0
            for scalar in scalars[index..<index + length] {
                guard (0x30...0x39).contains(scalar.value) else { return nil }
                value = value * 10 + Int(scalar.value - 0x30)
            }
            index += length
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < scalars.count, Character(scalars[index]) == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else {
            return nil
        }
        var hour = 0
        var minute = 0
        var second = 0
        var offset = 0
        if index < scalars.count {
            guard expect("T") || expect("t") || expect(" ") else { return nil }
            guard let h = number(2), expect(":"), let m = number(2) else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2) else { return nil }
                second = s
                if expect(".") || expect(",") {
                    // Fractions of a second are dropped: items are ordered to the second.
                    while index < scalars.count, (0x30...0x39).contains(scalars[index].value) {
                        index += 1
                    }
                }
            }
            if index < scalars.count {
                let rest = String(String.UnicodeScalarView(scalars[index...])).trimmingCharacters(in: .whitespaces)
                if rest == "Z" || rest == "z" {
                    offset = 0
                } else if let numeric = numericOffset(Substring(rest)) {
                    offset = numeric
                } else if let named = namedZones[rest.uppercased()] {
                    offset = named
                } else {
                    return nil
                }
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
        guard (1...12).contains(month), (1...31).contains(day), (0...24).contains(hour), (0...59).contains(minute),
            (0...60).contains(second), (1000...9999).contains(year)
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let local = utcCalendar.date(from: components),
            utcCalendar.component(.day, from: local) == day || hour == 24 || second == 60
        else { return nil }
        return local.addingTimeInterval(TimeInterval(-offset))
    }
}
