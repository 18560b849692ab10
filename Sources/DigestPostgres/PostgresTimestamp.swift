import DigestCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A `timestamptz` in PostgreSQL's binary form (microseconds since 2000-01-01 UTC), converted through
/// seconds since 1970 (the way `StorageDate` and `Date(timeIntervalSince1970:)` build dates) and rounded,
/// so a date of whole microseconds, e.g. the whole milliseconds SQLite keeps, reads back as the very same
/// `Date`. postgres-nio's own conversion truncates (x.123 s may come back as x.122999 s) and counts
/// from 2000 in floating point, which can miss by one unit in the last place.
struct PostgresTimestamp: PostgresNonThrowingEncodable {
    var date: Date

    /// 2000-01-01 UTC in microseconds since 1970.
    private static let epoch2000: Int64 = 946_684_800 * 1_000_000

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    init(date: Date) { self.date = date }

    init(_ bytes: ByteBuffer) throws {
        guard bytes.readableBytes == 8, let microseconds = bytes.getInteger(at: bytes.readerIndex, as: Int64.self) else {
            throw SQLDecodingError(column: "?", message: "a timestamp of \(bytes.readableBytes) bytes (8 expected)")
        }
        date = Date(timeIntervalSince1970: Double(microseconds + Self.epoch2000) / 1e6)
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(Int64((date.timeIntervalSince1970 * 1e6).rounded()) - Self.epoch2000)
    }
}
