import Foundation
import GRDB

/// The text GRDB stores a `Date` as ("yyyy-MM-dd HH:mm:ss.SSS", UTC), written with integer calendar
/// arithmetic. GRDB's own conversion goes through a `DateFormatter` (ICU), which the ledger's recorder
/// paid once per committed batch, and at one connection that is once per message.
enum StorageDate {
    /// The same text as `date.databaseValue`.
    static func databaseValue(_ date: Date) -> DatabaseValue {
        text(date).databaseValue
    }

    static func text(_ date: Date) -> String {
        // Rounded to the millisecond the way the formatter does it: "UDate ud = (at +
        // kCFAbsoluteTimeIntervalSince1970) * 1000.0 + 0.5;" (CoreFoundation, CFDateFormatter.c), and ICU
        // takes the whole milliseconds of that.
        let milliseconds = Int64(((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down))
        let (days, millisecondOfDay) = RFC5322Date.floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = RFC5322Date.civilDate(daysSince1970: days)
        let secondOfDay = millisecondOfDay / 1000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(23)
        append(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int64(month), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        append(secondOfDay / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        append(millisecondOfDay % 1000, width: 3, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The date a stored text names: "yyyy-MM-dd", then optionally " HH:mm", ":ss", ".SSS" (or "T" for the
    /// space, and a trailing "Z"), all UTC: the forms GRDB reads and writes. Nil for anything else.
    static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func skip(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds: Int64 = 0
        var milliseconds: Int64 = 0
        if skip(" ") || skip("T") {
            guard let hour = number(2), skip(":"), let minute = number(2), hour < 24, minute < 60 else { return nil }
            seconds = hour * 3600 + minute * 60
            if skip(":") {
                guard let second = number(2), second < 61 else { return nil }
                seconds += second
                if skip(".") {
                    let start = index
                    while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                        index += 1
                    }
                    let digits = String(decoding: bytes[start..<min(index, start + 3)], as: UTF8.self)
                    guard !digits.isEmpty, let value = Int64(digits.padding(toLength: 3, withPad: "0", startingAt: 0))
                    else { return nil }
                    milliseconds = value
                }
            }
        }
        _ = skip("Z")
        guard index == bytes.count else { return nil }
        let days = RFC5322Date.daysSince1970(year: year, month: Int(month), day: day)
        return Date(timeIntervalSince1970: Double(days * 86_400 + seconds) + Double(milliseconds) / 1000)
    }

    /// Zero-padded decimal digits of a non-negative `value` (years beyond 9999 keep all their digits).
    private static func append(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if digits.count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        bytes.append(contentsOf: digits.reversed())
    }
}
