import Foundation
import Testing

@testable import DigestCore

@Suite struct EncodedWordTests {
    @Test func knownEncodings() {
        #expect(EncodedWord.encode("café", encoding: .q) == ["=?UTF-8?Q?caf=C3=A9?="])
        #expect(EncodedWord.encode("a b_c=d?", encoding: .q) == ["=?UTF-8?Q?a_b=5Fc=3Dd=3F?="])
        #expect(EncodedWord.encode("مرحبا", encoding: .base64) == ["=?UTF-8?B?2YXYsdit2KjYpw==?="])
        #expect(EncodedWord.encode("😀", encoding: .base64) == ["=?UTF-8?B?8J+YgA==?="])
    }

    @Test func choosesTheShorterEncoding() {
        #expect(EncodedWord.preferredEncoding(for: "Résumé of the day") == .q)
        #expect(EncodedWord.preferredEncoding(for: "أخبار اليوم") == .base64)
        #expect(EncodedWord.preferredEncoding(for: "😀🎉🚌") == .base64)
    }

    @Test func whenNeeded() {
        #expect(!EncodedWord.isNeeded(for: "Plain ASCII subject: 42 votes!"))
        #expect(EncodedWord.isNeeded(for: "café"))
        #expect(EncodedWord.isNeeded(for: "looks like =?utf-8?q?x?="))
    }

    @Test(arguments: [
        "أخبار اليوم: المجلس يوافق على خط الحافلات الجديد في عمّان، وأهم القصص التي صوّت لها القرّاء هذا الأسبوع",
        String(repeating: "😀👩‍👩‍👧‍👦🇯🇴", count: 30),
        String(repeating: "Résumé naïve café ", count: 20),
        "e" + String(repeating: "\u{301}", count: 60),  // one grapheme longer than a word
        "x",
    ])
    func longTextSplitsAtCharacterBoundaries(text: String) throws {
        for encoding in [EncodedWord.Encoding.base64, .q, nil] {
            let words = EncodedWord.encode(text, encoding: encoding, firstMaximumLength: 60)
            #expect(!words.isEmpty)
            #expect(words[0].utf8.count <= 60)
            var decoded = ""
            for word in words {
                #expect(word.utf8.count <= 75)
                #expect(word.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F })
                // Each word alone is whole UTF-8 (never a split sequence).
                decoded += try decodeEncodedWord(word)
            }
            #expect(decoded == text)
        }
        // Cuts fall between grapheme clusters when the clusters fit in a word.
        if !text.unicodeScalars.contains("\u{301}") {
            let words = EncodedWord.encode(text, encoding: .base64)
            let pieces = try words.map(decodeEncodedWord)
            #expect(pieces.map(\.count).reduce(0, +) == text.count)
        }
    }

    @Test func smallRoomMovesTheFirstWordToTheNextLine() {
        let words = EncodedWord.encode("مرحبا بالعالم", firstMaximumLength: 14)
        #expect(words.count == 1)
        #expect(words[0].utf8.count > 14)
    }
}

struct HeaderDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Decodes one `=?UTF-8?B|Q?…?=` word, refusing one that is not valid UTF-8 on its own.
func decodeEncodedWord(_ word: String) throws -> String {
    let parts = word.split(separator: "?", omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0] == "=", parts[4] == "=", parts[1].uppercased() == "UTF-8" else {
        throw HeaderDecodingError(description: "not an encoded word: \(word)")
    }
    let bytes: [UInt8]
    switch parts[2].uppercased() {
    case "B":
        guard let data = Data(base64Encoded: String(parts[3])) else {
            throw HeaderDecodingError(description: "bad base64 in \(word)")
        }
        bytes = Array(data)
    case "Q":
        bytes = try decodeQuotedPrintableBytes(parts[3].replacingOccurrences(of: "_", with: " "))
    default:
        throw HeaderDecodingError(description: "unknown encoding in \(word)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw HeaderDecodingError(description: "\(word) is not whole UTF-8")
    }
    return text
}

/// Unfolds a header value and decodes its encoded words the RFC 2047 §6.2 way: whitespace
/// between two encoded words disappears, other whitespace stays.
func decodeHeaderValue(_ value: String) throws -> String {
    let unfolded = value.replacingOccurrences(of: "\r\n", with: "")
    var result = ""
    var previousWasEncoded = false
    for (index, token) in unfolded.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
        let isEncoded = token.hasPrefix("=?") && token.hasSuffix("?=")
        if index > 0 && !(isEncoded && previousWasEncoded) { result += " " }
        result += try isEncoded ? decodeEncodedWord(String(token)) : String(token)
        previousWasEncoded = isEncoded
    }
    return result
}
