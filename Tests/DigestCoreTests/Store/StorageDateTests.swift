import Foundation
import GRDB
import Testing

@testable import DigestCore

/// The ledger writes dates as text itself; it must be the text GRDB writes and reads back.
struct StorageDateTests {
    @Test func sameTextAsGRDB() throws {
        var generator = SystemRandomNumberGenerator()
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 0.0005), Date(timeIntervalSince1970: 0.9999),
            Date(timeIntervalSince1970: 951_782_400.123),  // 2000-02-29
            Date(timeIntervalSince1970: 1_795_478_400.9996),  // 2026-11-24, just below a full second
            Date(timeIntervalSince1970: 4_102_444_799.999),  // 2099-12-31 23:59:59.999
            Date(timeIntervalSince1970: -86_400.25),  // before 1970
        ]
        for _ in 0..<2000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator)))
        }
        for date in dates {
            let ours = StorageDate.databaseValue(date)
            #expect(ours == date.databaseValue, "\(date.timeIntervalSince1970)")
            // And GRDB reads it back to the same millisecond.
            let back = try #require(Date.fromDatabaseValue(ours))
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001)
        }
    }
}
