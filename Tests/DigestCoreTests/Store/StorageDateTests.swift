import Foundation
import GRDB
import Testing

@testable import DigestCore

/// The ledger writes dates as text itself; it must be the text GRDB writes and reads back.
struct StorageDateTests {
    @Test func sameTextAsGRDB() throws {
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 0.0005), Date(timeIntervalSince1970: 0.9999),
            Date(timeIntervalSince1970: 951_782_400.123),  // 2000-02-29
            Date(timeIntervalSince1970: 1_795_478_400.9996),  // 2026-11-24, just below a full second
            Date(timeIntervalSince1970: 4_102_444_799.999),  // 2099-12-31 23:59:59.999
            Date(timeIntervalSince1970: -86_400.25),  // before 1970
        ]
        // Fixed, so a failure repeats: 1,000 instants spread over 1970–2099 with varied fractions, and
        // 1,000 a fraction of a millisecond apart, where rounding decides.
        for i in 0..<1000 {
            dates.append(Date(timeIntervalSince1970: Double(i) * 4_102_444.800_731))
            dates.append(Date(timeIntervalSince1970: 1_795_478_400 + Double(i) * 0.000_731))
        }
        for date in dates {
            let text = StorageDate.databaseValue(date)
            #expect(text == date.databaseValue, "\(date.timeIntervalSince1970)")
            // And GRDB reads it back to the same millisecond.
            let back = try #require(Date.fromDatabaseValue(text))
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001)
            // And the store's own reader (no DateFormatter either) reads the same instant.
            let ours = try #require(StorageDate.date(StorageDate.text(date)), "\(StorageDate.text(date))")
            #expect(abs(ours.timeIntervalSince(back)) < 0.000_001, "\(StorageDate.text(date))")
        }
    }
}
