import Foundation
import Synchronization

/// A calendar day, as in an edition's date (`2026-11-24`).
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, refusing impossible dates.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day, calendar.component(.month, from: date) == month
        else { return nil }
    }

    /// The day `instant` falls on in `timeZone`.
    public init(_ instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        self.init(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// `YYYY-MM-DD`, digits written directly: it is part of every Message-ID, and `String(format:)`
    /// was a noticeable share of composing one.
    public var description: String {
        guard (0...9999).contains(year), (0...99).contains(month), (0...99).contains(day) else {
            return String(format: "%04d-%02d-%02d", year, month, day)
        }
        return String(decoding: digits(separator: 0x2D), as: UTF8.self)
    }

    /// `YYYY`, `MM` and `DD` as ASCII digits, with `separator` between them (none when nil). For years 0–9999.
    func digits(separator: UInt8?) -> [UInt8] {
        func digit(_ value: Int) -> UInt8 { 0x30 + UInt8(value % 10) }
        var bytes: [UInt8] = [digit(year / 1000), digit(year / 100), digit(year / 10), digit(year)]
        bytes.reserveCapacity(10)
        if let separator { bytes.append(separator) }
        bytes += [digit(month / 10), digit(month)]
        if let separator { bytes.append(separator) }
        bytes += [digit(day / 10), digit(day)]
        return bytes
    }

    /// The instant this day reaches `hour`:00 in `timeZone`. On a daylight-saving gap the
    /// first instant after it; on a repeated hour the first occurrence.
    public func instant(hour: Int, in timeZone: TimeZone) -> Date {
        let key = InstantKey(day: self, hour: hour, zone: timeZone.identifier)
        if let known = Self.instants.withLock({ $0[key] }) { return known }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Foundation moves a local time that falls in a spring-forward gap past the gap, and picks
        // the first of two repeated local times: both are what a reader would expect.
        let instant = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour))!
        Self.instants.withLock { known in
            if known.count >= 4096 { known.removeAll(keepingCapacity: true) }
            known[key] = instant
        }
        return instant
    }

    /// Instants already worked out: planning a night asks the same few (day, hour, zone) for every reader of a
    /// group, and each answer took Foundation's calendar ~10 µs (most of planning 100,000 readers). A zone's
    /// rules do not change while the process runs.
    private struct InstantKey: Hashable {
        var day: Day
        var hour: Int
        var zone: String
    }
    private static let instants = Mutex<[InstantKey: Date]>([:])

    /// The same day `months` months on; a day the month lacks becomes its last (31 January + 1 month is
    /// 28 or 29 February).
    public func adding(months: Int) -> Day {
        let total = year * 12 + (month - 1) + months
        let (newYear, newMonth) = (total / 12, total % 12 + 1)
        let first = DateParsing.daysSince1970(year: newYear, month: newMonth, day: 1)
        let next = newMonth == 12 ? (newYear + 1, 1) : (newYear, newMonth + 1)
        let length = DateParsing.daysSince1970(year: next.0, month: next.1, day: 1) - first
        return Day(year: newYear, month: newMonth, day: min(day, length))
    }

    public func adding(days: Int) -> Day {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day + days))!
        return Day(date, in: calendar.timeZone)
    }

    public static func < (lhs: Day, rhs: Day) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Stored as its `YYYY-MM-DD` text, which sorts as the days do.
extension Day: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(description) }
    public init(sqlValue: SQLValue) throws(SQLDecodingError) {
        let text = try String(sqlValue: sqlValue)
        guard let day = Day(text) else { throw SQLDecodingError(column: "?", message: "not a YYYY-MM-DD date: \(text)") }
        self = day
    }
}

extension Day {
    /// `20261124` → the day; nil for anything else.
    init?(compact field: some StringProtocol) {
        guard field.count == 8, field.allSatisfy(\.isASCIIDigit) else { return nil }
        self.init("\(field.prefix(4))-\(field.dropFirst(4).prefix(2))-\(field.suffix(2))")
    }

    /// `20261124`: part of every Message-ID, VERP address and vote link of a send, so written as digits
    /// (filtering the dashed form character by character cost a microsecond each time).
    var compact: String {
        guard (0...9999).contains(year) else { return description.filter { $0 != "-" } }
        return String(decoding: digits(separator: nil), as: UTF8.self)
    }
}
