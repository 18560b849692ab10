import Foundation

/// Date formats read from files, feeds and the command line.
public enum DateParsing {
    /// ISO 8601 date-time with a zone (`Z` or `±hh:mm`), with or without fractional seconds;
    /// nil for anything else, impossible dates included (see `checkedISO8601`).
    public static func iso8601(_ text: String) -> Date? {
        try? checkedISO8601(text).get()
    }

    /// Why a text is not an ISO 8601 instant, in words.
    public struct DateProblem: Error, Sendable, Equatable {
        public var reason: String
    }

    /// `YYYY-MM-DDThh:mm[:ss[.fff]](Z|±hh:mm|±hhmm)`, checked field by field: 30 February, hour 25 or
    /// minute 60 are refused with the reason instead of being moved to another day, as Foundation's
    /// parsers do.
    public static func checkedISO8601(_ text: String) -> Result<Date, DateProblem> {
        var scanner = DigitScanner(text.trimmingCharacters(in: .whitespaces))
        func fail(_ reason: String) -> Result<Date, DateProblem> { .failure(DateProblem(reason: reason)) }
        guard let year = scanner.number(4), scanner.expect("-"), let month = scanner.number(2), scanner.expect("-"),
            let day = scanner.number(2)
        else { return fail("not a date") }
        guard scanner.expect("Tt") else { return fail("no time (a date needs a time and a zone, e.g. T07:30:00Z)") }
        guard let hour = scanner.number(2), scanner.expect(":"), let minute = scanner.number(2) else {
            return fail("not a time")
        }
        var second = 0
        var fraction = 0.0
        if scanner.expect(":") {
            guard let s = scanner.number(2) else { return fail("not a time") }
            second = s
            if scanner.expect(".,") {
                var scale = 0.1
                let start = scanner.index
                while scanner.atDigit {
                    fraction += Double(scanner.scalars[scanner.index].value - 0x30) * scale
                    scale /= 10
                    scanner.index += 1
                }
                guard scanner.index > start else { return fail("not a time") }
            }
        }
        var offset = 0
        if scanner.expect("Zz") {
        } else if scanner.expect("+-") {
            let negative = scanner.scalars[scanner.index - 1] == "-"
            guard let hours = scanner.number(2) else { return fail("not a zone offset") }
            _ = scanner.expect(":")
            guard let minutes = scanner.number(2) else { return fail("not a zone offset") }
            guard hours <= 23, minutes <= 59 else { return fail("zone offset out of range") }
            offset = (hours * 3600 + minutes * 60) * (negative ? -1 : 1)
        } else if scanner.atEnd {
            return fail("no time zone (add Z for UTC, or an offset such as +02:00)")
        }
        guard scanner.atEnd else { return fail("unexpected text after the time") }
        guard (1...12).contains(month) else { return fail("there is no month \(month)") }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else {
            return fail("there is no day \(day) in \(monthNames[month - 1]) \(year), which has \(days) days")
        }
        guard hour <= 23 else { return fail("there is no hour \(hour) (0–23)") }
        guard minute <= 59 else { return fail("there is no minute \(minute) (0–59)") }
        guard second <= 59 else { return fail("there is no second \(second) (0–59)") }
        let seconds = daysSince1970(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return .success(Date(timeIntervalSince1970: TimeInterval(seconds - offset) + fraction))
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`,
    /// https://howardhinnant.github.io/date_algorithms.html#days_from_civil): arithmetic, no Calendar,
    /// since an item file of 125,000 records reads this many dates.
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Formats an instant as ISO 8601 UTC with seconds, as the JSON outputs print it.
    public static func iso8601String(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
