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
