import Foundation
import Testing

@testable import DigestCore

/// A reader's copy of a rendered text is spliced from parts encoded once; these compare every
/// splice with the plain encoding of the filled text, over the alignments and line ends it must handle.
@Suite struct PersonalizedTextTests {
    typealias Field = PersonalizedText.Field

    /// Base64 as RFC 2045 writes it, done the plain way: line ends made CRLF, Foundation's encoder,
    /// 76-character lines, the last one ended too.
    static func referenceBase64(_ text: String) -> [UInt8] {
        let canonical = text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\r", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        let encoded = Data(canonical.utf8).base64EncodedData(
            options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return encoded.isEmpty ? [] : Array(encoded) + [0x0D, 0x0A]
    }

    static func base64(_ text: PersonalizedText, _ values: [Field: String]) -> [UInt8] {
        var message: [UInt8] = []
        text.append(values, .base64, to: &message)
        #expect(message.count <= text.reserve(values, .base64))
        return message
    }

    static let arabic = "أعلنت الحكومة اليوم عن خطة جديدة لتوسيع شبكة النقل العام في العاصمة عمّان، "

    /// Every way the values before a literal can leave 0, 1 or 2 bytes of a group open, at every place
    /// on a line, with literals shorter and longer than a group and line ends of each kind.
    @Test func base64SplicesAreTheEncodingOfTheFilledText() throws {
        let name = PersonalizedText.placeholder(.name), link = PersonalizedText.placeholder(.unsubscribeURL)
        let vote = PersonalizedText.placeholder(.voteURL(1))
        let templates = [
            "\(Self.arabic)\(name)\n\(Self.arabic)\(Self.arabic)\(link)\r\n\(Self.arabic)\rx\(vote)",
            "\(name)\(link)ab\(vote)\n\(Self.arabic)\(Self.arabic)\(Self.arabic)",
            "\(Self.arabic)\(name)a\(link)ع\(vote)\(Self.arabic)\n",
            String(repeating: Self.arabic + "\n", count: 6) + name,
            "\(Self.arabic)\(name)abcd\(link)abcde\(vote)abcdef\(name)\n",
        ]
        var spliced = 0
        for template in templates {
            let text = PersonalizedText(template)
            try #require(text.transferEncoding == .base64 && text.splicesBase64)
            for nameLength in 0..<4 {
                for linkLength in 0..<4 {
                    for voteLength in [0, 1, 2, 5, 77] {
                        let values: [Field: String] = [
                            .name: String(repeating: "n", count: nameLength),
                            .unsubscribeURL: String(repeating: "ل", count: linkLength),
                            .voteURL(1): String(repeating: "v", count: voteLength),
                        ]
                        let filled = text.fill(values)
                        #expect(Self.base64(text, values) == Self.referenceBase64(filled), "\(values)")
                        spliced += 1
                    }
                }
            }
        }
        #expect(spliced == templates.count * 80)
    }

    /// Values that hold a line end, and a literal ending in CR before a field, are encoded whole: split, the
    /// CR and LF would become two line ends instead of one.
    @Test func lineEndsAcrossAValueAreEncodedWhole() throws {
        let name = PersonalizedText.placeholder(.name)
        let text = PersonalizedText("\(Self.arabic)\(name)\n\(Self.arabic)")
        try #require(text.splicesBase64)
        for value in ["a\r", "\r", "\n", "x\r\ny", "\r\n"] {
            #expect(Self.base64(text, [.name: value]) == Self.referenceBase64(text.fill([.name: value])))
        }
        let endsInCR = PersonalizedText("\(Self.arabic)\r\(name)\(Self.arabic)")
        #expect(endsInCR.transferEncoding == .base64 && !endsInCR.splicesBase64)
        #expect(Self.base64(endsInCR, [.name: "\nb"]) == Self.referenceBase64(endsInCR.fill([.name: "\nb"])))
    }

    @Test func base64OfTextWithoutFieldsAndOfNothing() {
        #expect(Self.base64(PersonalizedText(Self.arabic), [:]) == Self.referenceBase64(Self.arabic))
        #expect(Self.base64(PersonalizedText(""), [:]) == [])
        var message: [UInt8] = []
        message.appendBase64(canonicalizing: Array("a\nb\rc\r\n".utf8))
        #expect(message == Self.referenceBase64("a\nb\rc\r\n"))
    }

    /// The quoted-printable copy, lines encoded once and lines with values encoded per reader, is the
    /// encoding of the filled text.
    @Test func quotedPrintableSplicesAreTheEncodingOfTheFilledText() {
        let name = PersonalizedText.placeholder(.name), link = PersonalizedText.placeholder(.unsubscribeURL)
        let text = PersonalizedText(
            "Hello \(name),\n" + String(repeating: "a long line of text = with signs ", count: 5)
                + "\r\nend \(link) \n\ncafé ")
        #expect(text.transferEncoding == .quotedPrintable)
        let long = String(repeating: "u", count: 90)
        // The second goes out in base64 and keeps no quoted-printable of its own: asked for it, it encodes it whole.
        let arabic = PersonalizedText("\(Self.arabic)\(name)\n\(Self.arabic)")
        #expect(arabic.transferEncoding == .base64)
        for text in [text, arabic] {
            for values: [Field: String] in [[:], [.name: "Salma"], [.name: "سلمى", .unsubscribeURL: long]] {
                var message: [UInt8] = []
                text.append(values, .quotedPrintable, to: &message)
                #expect(message == QuotedPrintable.encode(text.fill(values)))
                #expect(message.count <= text.reserve(values, .quotedPrintable))
            }
        }
    }
}
