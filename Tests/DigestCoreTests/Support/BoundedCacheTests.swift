import Testing

@testable import DigestCore

@Suite struct BoundedCacheTests {
    @Test func emptiedWhenOneMoreEntryWouldPassItsCount() {
        var cache = BoundedCache<Int, String>(countLimit: 3)
        for key in 1...3 { cache.insert("v\(key)", for: key) }
        #expect(cache.count == 3 && cache[1] == "v1")
        cache.insert("again", for: 2)
        #expect(cache.count == 3 && cache[2] == "again", "replacing an entry empties nothing")
        cache.insert("v4", for: 4)
        #expect(cache.count == 1 && cache[1] == nil && cache[4] == "v4")
    }

    @Test func emptiedWhenOneMoreEntryWouldPassItsBytes() {
        var cache = BoundedCache<Int, String>(countLimit: 100, bytesLimit: 10, size: { $0.utf8.count })
        cache.insert("aaaa", for: 1)
        cache.insert("bbbb", for: 2)
        #expect(cache.bytes == 8 && cache.count == 2)
        cache.insert("cc", for: 1)
        #expect(cache.bytes == 6 && cache[1] == "cc", "a replaced entry's bytes are given back")
        cache.insert("dddd", for: 3)
        #expect(cache.bytes == 10 && cache.count == 3)
        cache.insert("e", for: 4)
        #expect(cache.bytes == 1 && cache.count == 1 && cache[4] == "e")
    }

    /// A rendering counts what it keeps: an Arabic digest's base64 for three alignments, a Latin one's
    /// quoted-printable.
    @Test func aRenderingCountsWhatItKeeps() {
        // Lines without a field are the shared part: the line with the reader's name is encoded per reader.
        let arabic = String(repeating: PersonalizedTextTests.arabic + "\n", count: 40)
        let latin = String(repeating: "The council said residents would see new services.\n", count: 80)
        for (body, encoding) in [(arabic, TransferEncoding.base64), (latin, .quotedPrintable)] {
            let text = PersonalizedText(body + PersonalizedText.placeholder(.name))
            #expect(text.transferEncoding == encoding)
            let bytes = body.utf8.count
            // Base64: the literal and its characters for three alignments (4/3 each); quoted-printable: the
            // literal and its encoding (Latin: about as long).
            let expected = encoding == .base64 ? 5 * bytes : 2 * bytes
            #expect(abs(text.keptBytes - expected) < bytes / 10, "\(text.keptBytes) for \(bytes) bytes")
        }
    }
}
