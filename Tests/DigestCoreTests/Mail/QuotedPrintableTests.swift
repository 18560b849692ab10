import Foundation
import Testing

@testable import DigestCore

@Suite struct QuotedPrintableTests {
    private func encoded(_ text: String) -> String { String(decoding: QuotedPrintable.encode(text), as: UTF8.self) }

    @Test func keepsPrintableASCII() {
        #expect(encoded("Hello, world! <a href=\"x\">") == "Hello, world! <a href=3D\"x\">")
    }

    @Test func encodesEqualsSign() {
        #expect(encoded("a=b") == "a=3Db")
        #expect(encoded("==") == "=3D=3D")
    }

    @Test func encodesTrailingWhitespaceOnly() {
        #expect(encoded("a b") == "a b")
        #expect(encoded("hello \nworld") == "hello=20\r\nworld")
        #expect(encoded("tab\t") == "tab=09")
        #expect(encoded("two  \r\n") == "two =20\r\n")
        #expect(encoded(" ") == "=20")
    }

    @Test func encodesNonASCIIAndControls() {
        #expect(encoded("café") == "caf=C3=A9")
        #expect(encoded("مرحبا") == "=D9=85=D8=B1=D8=AD=D8=A8=D8=A7")
        #expect(encoded("😀") == "=F0=9F=98=80")
        #expect(encoded("a\u{0}b\u{7F}c\u{1B}") == "a=00b=7Fc=1B")
    }

    @Test func normalizesLineEndsToCRLF() {
        #expect(encoded("a\nb\r\nc\rd\n\ne") == "a\r\nb\r\nc\r\nd\r\n\r\ne")
        #expect(encoded("\r\n") == "\r\n")
        #expect(encoded("") == "")
    }

    @Test func doesNotDotStuff() {
        #expect(encoded(".\n..x\nFrom me") == ".\r\n..x\r\nFrom me")
    }

    @Test func softBreaksLongLines() {
        #expect(encoded(String(repeating: "a", count: 76)) == String(repeating: "a", count: 76))
        #expect(encoded(String(repeating: "a", count: 77))
            == String(repeating: "a", count: 75) + "=\r\n" + "aa")
        // An "=XX" triplet is never split by a soft break.
        #expect(encoded(String(repeating: "a", count: 74) + "=b")
            == String(repeating: "a", count: 74) + "=\r\n=3Db")
        // The bytes of one UTF-8 sequence stay on one line.
        #expect(encoded(String(repeating: "a", count: 70) + "😀b")
            == String(repeating: "a", count: 70) + "=\r\n=F0=9F=98=80b")
    }

    @Test func linesObeyTheRules() throws {
        let inputs = [
            String(repeating: "word ", count: 200),
            String(repeating: "مرحبا بالعالم ", count: 80) + "\n" + String(repeating: "😀👩‍👩‍👧‍👦", count: 50),
            String(repeating: "x=y \t", count: 100) + " \n \n\t\n",
            (0..<2000).map { String(UnicodeScalar(UInt8($0 % 128))) }.joined(),
        ]
        for input in inputs {
            let output = encoded(input)
            for line in output.components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 76, "line too long: \(line)")
                #expect(line.last != " " && line.last != "\t", "trailing whitespace: \(line)")
                #expect(line.utf8.allSatisfy { ($0 >= 0x20 && $0 <= 0x7E) || $0 == 0x09 })
                #expect(!line.contains("=_"))
            }
            #expect(!output.utf8.contains(0x0A) || output.contains("\r\n"))
            #expect(try decodeQuotedPrintable(output) == normalizedLineEnds(input))
        }
    }

    /// The buffer is sized from a bound; random inputs rich in the costliest bytes stay within it
    /// and decode back to themselves.
    @Test func capacityBoundHolds() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [[UInt8]] = [[0x61], [0x20], [0x09], [0x3D], [0x0A], [0x0D], [0x0D, 0x0A], [0x00], [0xFF],
            Array("é".utf8), Array("ع".utf8), Array("€".utf8), Array("😀".utf8), Array("a ".utf8)]
        for _ in 0..<500 {
            var input: [UInt8] = []
            let length = Int.random(in: 0..<400, using: &generator)
            while input.count < length { input += alphabet.randomElement(using: &generator)! }
            let output = QuotedPrintable.encode(input)
            let bound = QuotedPrintable.worstCaseLength(input.count)
            #expect(output.count <= bound)
            #expect(try decodeQuotedPrintableBytes(String(decoding: output, as: UTF8.self))
                == input.withUnsafeBufferPointer { normalizedLineEndBytes($0) })
            for line in String(decoding: output, as: UTF8.self).components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 76)
            }
        }
    }

    @Test func roundTripsEveryByte() throws {
        var bytes = (0...255).map(UInt8.init)
        bytes += bytes.reversed()
        let output = String(decoding: QuotedPrintable.encode(bytes), as: UTF8.self)
        // 0x0A and 0x0D are never adjacent here, so each alone becomes CRLF.
        let expected = bytes.flatMap { $0 == 0x0A || $0 == 0x0D ? [0x0D, 0x0A] : [$0] }
        #expect(try decodeQuotedPrintableBytes(output) == expected)
    }

    /// 25 KB of digest-like HTML; prints the time per encode. Not a timed assertion beyond a
    /// generous ceiling that only catches an accidental quadratic.
    @Test func encodesADigestQuickly() {
        var html = ""
        while html.utf8.count < 25_000 {
            html += "<tr><td style=\"padding:8px;color:#222\"><a href=\"https://news.example/story/123\">"
            html += "Council approves the new bus line — الحافلات 🚌</a> <span>42 votes</span></td></tr>\n"
        }
        let rounds = 200
        var total = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<rounds { total &+= QuotedPrintable.encode(html).count }
        }
        let perEncode = elapsed / rounds
        print("QuotedPrintable: \(html.utf8.count) bytes in \(perEncode) per encode (\(total / rounds) bytes out)")
        #expect(perEncode < .milliseconds(5))
    }
}

/// LF, CR and CRLF all as CRLF.
func normalizedLineEnds(_ text: String) -> String {
    text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        .replacingOccurrences(of: "\n", with: "\r\n")
}

/// LF, CR and CRLF all as CRLF, on bytes.
func normalizedLineEndBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var result: [UInt8] = []
    var index = 0
    while index < bytes.count {
        if bytes[index] == 0x0D || bytes[index] == 0x0A {
            result += [0x0D, 0x0A]
            index += bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
        } else {
            result.append(bytes[index])
            index += 1
        }
    }
    return result
}

/// A strict quoted-printable decoder, written apart from the encoder.
func decodeQuotedPrintableBytes(_ text: String) throws -> [UInt8] {
    let bytes = Array(text.utf8)
    var result: [UInt8] = []
    var index = 0
    func hexValue(_ byte: UInt8) throws -> UInt8 {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x37
        default: throw PythonError(message: "bad hex digit \(byte)")
        }
    }
    while index < bytes.count {
        if bytes[index] == 0x3D {
            if index + 2 < bytes.count && bytes[index + 1] == 0x0D && bytes[index + 2] == 0x0A {
                index += 3
                continue
            }
            guard index + 2 < bytes.count else { throw PythonError(message: "truncated escape") }
            result.append(try hexValue(bytes[index + 1]) << 4 | hexValue(bytes[index + 2]))
            index += 3
        } else {
            result.append(bytes[index])
            index += 1
        }
    }
    return result
}

func decodeQuotedPrintable(_ text: String) throws -> String {
    String(decoding: try decodeQuotedPrintableBytes(text), as: UTF8.self)
}
