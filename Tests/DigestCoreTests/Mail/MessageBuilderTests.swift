import Foundation
import Testing

@testable import DigestCore

/// A parsed view of a built message, for assertions: header fields unfolded by name.
struct ParsedMessage {
    var raw: String
    var headerBlock: String
    var body: String
    var fields: [(name: String, value: String)]

    init(_ bytes: [UInt8]) throws {
        raw = String(decoding: bytes, as: UTF8.self)
        guard let split = raw.range(of: "\r\n\r\n") else { throw HeaderDecodingError(description: "no blank line") }
        headerBlock = String(raw[..<split.lowerBound])
        body = String(raw[split.upperBound...])
        fields = []
        for line in headerBlock.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                fields[fields.count - 1].value += "\r\n" + line
            } else {
                guard let colon = line.firstIndex(of: ":") else { throw HeaderDecodingError(description: line) }
                fields.append((String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst())))
            }
        }
    }

    /// The folded value (CRLFs kept) of the only field called `name`.
    func value(_ name: String) -> String? {
        let matches = fields.filter { $0.name.lowercased() == name.lowercased() }
        precondition(matches.count <= 1, "\(name) appears \(matches.count) times")
        return matches.first?.value
    }

    func decoded(_ name: String) throws -> String? { try value(name).map(decodeHeaderValue) }
}

enum Sample {
    static let from = Mailbox(name: "The Amman Courier", address: try! EmailAddress("digest@courier.example"))
    static let to = Mailbox(name: "Layla Haddad", address: try! EmailAddress("layla@example.org"))

    static func builder(
        subject: String = "Today's top stories", text: String = "Hello\n", html: String? = "<p>Hello</p>\n"
    ) -> MessageBuilder {
        MessageBuilder(
            from: from, to: to, replyTo: Mailbox(name: nil, address: try! EmailAddress("editor@courier.example")),
            subject: subject, date: Fixtures.date("2026-11-24T06:00:00Z"),
            messageID: "<2026-11-24.42@courier.example>",
            listID: "The Amman Courier <digest.courier.example>",
            listUnsubscribe: ["https://courier.example/unsubscribe?t=abc", "mailto:unsubscribe@courier.example?subject=42"],
            oneClickUnsubscribe: true, text: text, html: html)
    }
}

@Suite struct MessageBuilderTests {
    @Test func formatsDates() {
        #expect(RFC5322Date.format(Fixtures.date("2026-11-24T06:00:00Z")) == "Tue, 24 Nov 2026 06:00:00 +0000")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(RFC5322Date.format(Fixtures.date("2024-02-29T23:59:59.75+02:00")) == "Thu, 29 Feb 2024 21:59:59 +0000")
        #expect(RFC5322Date.format(Fixtures.date("2000-03-01T12:05:09Z")) == "Wed, 1 Mar 2000 12:05:09 +0000")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: -1)) == "Wed, 31 Dec 1969 23:59:59 +0000")
    }

    @Test func writesTheHeaders() throws {
        let message = try ParsedMessage(Sample.builder().build())
        #expect(message.fields.map(\.name) == [
            "Date", "From", "Reply-To", "To", "Subject", "Message-ID", "List-Id", "List-Unsubscribe",
            "List-Unsubscribe-Post", "MIME-Version", "Content-Type",
        ])
        #expect(message.value("Date") == "Tue, 24 Nov 2026 06:00:00 +0000")
        #expect(message.value("From") == "The Amman Courier <digest@courier.example>")
        #expect(message.value("Reply-To") == "editor@courier.example")
        #expect(message.value("To") == "Layla Haddad <layla@example.org>")
        #expect(message.value("Subject") == "Today's top stories")
        #expect(message.value("Message-ID") == "<2026-11-24.42@courier.example>")
        #expect(message.value("List-Id") == "The Amman Courier <digest.courier.example>")
        #expect(message.value("List-Unsubscribe")
            == "<https://courier.example/unsubscribe?t=abc>,\r\n <mailto:unsubscribe@courier.example?subject=42>")
        #expect(message.value("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        #expect(message.value("MIME-Version") == "1.0")
        let boundary = MessageBuilder.boundary(for: "<2026-11-24.42@courier.example>")
        #expect(message.value("Content-Type") == "multipart/alternative;\r\n boundary=\"\(boundary)\"")
    }

    @Test func writesTheMultipartBody() throws {
        let message = try ParsedMessage(Sample.builder(text: "Hi =\n", html: "<p>Hi</p>").build())
        let boundary = MessageBuilder.boundary(for: "<2026-11-24.42@courier.example>")
        #expect(message.body == """
            --\(boundary)\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Hi =3D\r
            \r
            --\(boundary)\r
            Content-Type: text/html; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <p>Hi</p>\r
            --\(boundary)--\r

            """)
    }

    @Test func writesATextOnlyMessage() throws {
        let message = try ParsedMessage(Sample.builder(text: "Line one\nLine two", html: nil).build())
        #expect(message.value("Content-Type") == "text/plain; charset=utf-8")
        #expect(message.value("Content-Transfer-Encoding") == "quoted-printable")
        #expect(message.body == "Line one\r\nLine two\r\n")
    }

    @Test func boundaryIsDeterministicAndAbsentFromBodies() throws {
        let first = MessageBuilder.boundary(for: "<a@b.example>")
        #expect(first == MessageBuilder.boundary(for: "<a@b.example>"))
        #expect(first != MessageBuilder.boundary(for: "<a@c.example>"))
        #expect(first.hasPrefix("=_") && first.utf8.count <= 70)

        // Bodies that try hard to contain the boundary still cannot.
        let hostile = "--\(first)\n--\(first)--\n"
        let built = try Sample.builder(text: hostile, html: hostile).build()
        let raw = String(decoding: built, as: UTF8.self)
        let boundary = MessageBuilder.boundary(for: "<2026-11-24.42@courier.example>")
        let hostileOwn = "--\(boundary)\n"
        let built2 = String(decoding: try Sample.builder(text: hostileOwn, html: hostileOwn).build(), as: UTF8.self)
        #expect(built2.components(separatedBy: "--\(boundary)").count - 1 == 3)
        #expect(raw.contains("=3D_"))
    }

    @Test func sameInputSameBytes() throws {
        let subject = "أخبار اليوم 😀 — \(String(repeating: "long subject ", count: 10))"
        let first = try Sample.builder(subject: subject, text: "نص\n", html: "<p>😀</p>").build()
        let second = try Sample.builder(subject: subject, text: "نص\n", html: "<p>😀</p>").build()
        #expect(first == second)
    }

    @Test func encodesNonASCIIHeaders() throws {
        var builder = Sample.builder(subject: "Today: أخبار اليوم 😀 and more")
        builder.from = Mailbox(name: "صحيفة عمّان", address: try EmailAddress("digest@صحيفة.example"))
        builder.to = Mailbox(name: "José Müller", address: try EmailAddress("jose@example.org"))
        let message = try ParsedMessage(builder.build())
        #expect(message.headerBlock.utf8.allSatisfy { $0 < 0x80 })
        #expect(try message.decoded("Subject") == "Today: أخبار اليوم 😀 and more")
        #expect(message.value("Subject")!.hasPrefix("Today: =?UTF-8?B?"))
        #expect(message.value("Subject")!.hasSuffix(" and more"))
        let from = message.value("From")!
        #expect(from.hasSuffix(" <digest@xn--mgbai3a5a.example>") || from.contains("<digest@xn--"))
        #expect(try message.decoded("From")!.hasPrefix("صحيفة عمّان <digest@xn--"))
        #expect(try message.decoded("To") == "José Müller <jose@example.org>")
        #expect(message.value("To")!.hasPrefix("=?UTF-8?Q?Jos=C3=A9_M=C3=BCller?="))
    }

    @Test func foldsLongSubjects() throws {
        let long = String(repeating: "Council approves the bus line ", count: 8).trimmingCharacters(in: .whitespaces)
        let arabic = String(repeating: "المجلس يوافق على خط الحافلات الجديد ", count: 6)
            .trimmingCharacters(in: .whitespaces)
        for subject in [long, arabic, long + " " + arabic + " 😀", String(repeating: "😀", count: 100)] {
            let message = try ParsedMessage(Sample.builder(subject: subject).build())
            let value = message.value("Subject")!
            #expect(value.contains("\r\n "))
            for line in ("Subject: " + value).components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 78, "\(line)")
            }
            #expect(try decodeHeaderValue(value) == subject)
        }
    }

    @Test func encodesWordsTooLongForALine() throws {
        let url = "https://courier.example/" + String(repeating: "a", count: 100)
        var builder = Sample.builder(subject: "Read \(url) today")
        builder.to = Mailbox(name: String(repeating: "N", count: 2000), address: try EmailAddress("n@example.org"))
        let message = try ParsedMessage(builder.build())
        for line in message.headerBlock.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
        #expect(message.value("Subject")!.hasPrefix("Read =?UTF-8?Q?https"))
        #expect(try message.decoded("Subject") == "Read \(url) today")
        #expect(try message.decoded("To") == String(repeating: "N", count: 2000) + " <n@example.org>")
    }

    @Test func allowsAnEmptySubject() throws {
        let message = try ParsedMessage(Sample.builder(subject: " \r\n ").build())
        #expect(message.value("Subject") == "")
        #expect(message.headerBlock.contains("\r\nSubject:\r\n"))
    }

    @Test func quotesASCIINamesThatNeedIt() throws {
        var builder = Sample.builder()
        builder.from = Mailbox(name: "Courier, \"Daily\" \\ Edition", address: try EmailAddress("d@courier.example"))
        builder.to = Mailbox(name: "Dr. Layla", address: try EmailAddress("l@example.org"))
        let message = try ParsedMessage(builder.build())
        #expect(message.value("From") == #""Courier, \"Daily\" \\ Edition" <d@courier.example>"#)
        #expect(message.value("To") == #""Dr. Layla" <l@example.org>"#)
    }

    @Test func collapsesLineBreaksInSubjectAndNames() throws {
        var builder = Sample.builder(subject: "Hello\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script>")
        builder.to = Mailbox(name: "Eve\nX-Injected: yes", address: try EmailAddress("eve@example.org"))
        builder.from = Mailbox(name: "Courier\u{0}\u{2028}\r", address: try EmailAddress("d@courier.example"))
        let message = try ParsedMessage(builder.build())
        #expect(message.value("Subject") == "Hello Bcc: victim@example.org <script>alert(1)</script>")
        #expect(message.value("To") == #""Eve X-Injected: yes" <eve@example.org>"#)
        #expect(message.value("From") == "Courier <d@courier.example>")
        #expect(message.value("Bcc") == nil)
        #expect(message.value("X-Injected") == nil)
        #expect(!message.headerBlock.contains("\r\n\r\n"))
    }

    @Test(arguments: [
        ("https://courier.example/u?t=1\r\nBcc: victim@example.org", "List-Unsubscribe"),
        ("https://courier.example/u?t=1\nX: y", "List-Unsubscribe"),
        ("https://courier.example/u?t=1>, <https://evil.example", "List-Unsubscribe"),
        ("https://courier.example/a b", "List-Unsubscribe"),
        ("javascript:alert(1)", "List-Unsubscribe"),
        ("https://courier.example/ü", "List-Unsubscribe"),
    ])
    func refusesBadUnsubscribeURLs(url: String, field: String) throws {
        var builder = Sample.builder()
        builder.listUnsubscribe = [url]
        let error = #expect(throws: MessageBuildError.self) { try builder.build() }
        #expect(error?.field == field)
        #expect(error?.code == .invalidValue)
    }

    @Test(arguments: ["<a@b\r\nBcc: x@y>", "a@b", "<a b@c>", "<ab>", "<a@b@c>", "<a@>", "<a<@b>"])
    func refusesBadMessageIDs(id: String) throws {
        var builder = Sample.builder()
        builder.messageID = id
        let error = #expect(throws: MessageBuildError.self) { try builder.build() }
        #expect(error?.field == "Message-ID")
        #expect(error?.description.contains("\r") == false)
    }

    @Test func refusesBadListIDs() throws {
        for listID in ["Courier <digest courier>", "Courier <digest.courier\r\nBcc: x@y>", "nodot", "<a..b>"] {
            var builder = Sample.builder()
            builder.listID = listID
            let error = #expect(throws: MessageBuildError.self) { try builder.build() }
            #expect(error?.field == "List-Id")
        }
        var builder = Sample.builder()
        builder.listID = "digest.courier.example"
        #expect(try ParsedMessage(builder.build()).value("List-Id") == "<digest.courier.example>")
        builder.listID = "Courier d'Amman <digest.courier.example>"
        #expect(try ParsedMessage(builder.build()).value("List-Id") == "Courier d'Amman <digest.courier.example>")
    }

    @Test func oneClickNeedsAnHTTPSURL() throws {
        var builder = Sample.builder()
        builder.listUnsubscribe = ["mailto:u@courier.example"]
        let error = #expect(throws: MessageBuildError.self) { try builder.build() }
        #expect(error?.field == "List-Unsubscribe-Post")
        builder.oneClickUnsubscribe = false
        let message = try ParsedMessage(builder.build())
        #expect(message.value("List-Unsubscribe-Post") == nil)
        builder.listUnsubscribe = []
        #expect(try ParsedMessage(builder.build()).value("List-Unsubscribe") == nil)
    }

    @Test func everyLineIsWithinLimits() throws {
        let longWord = String(repeating: "x", count: 2000)
        let text = "Short line\n" + String(repeating: "مرحبا 😀 ", count: 500) + "\n" + longWord + "\n"
        let subjects = [
            String(repeating: "Top stories of the day ", count: 20), longWord, "word " + longWord,
            String(repeating: "أخبار ", count: 200),
        ]
        for subject in subjects {
            var builder = Sample.builder(subject: subject, text: text, html: "<p>\(text)</p>")
            builder.to = Mailbox(name: String(repeating: "Name ", count: 100), address: try EmailAddress("n@example.org"))
            builder.from = Mailbox(name: String(repeating: "اسم, ", count: 60), address: try EmailAddress("d@courier.example"))
            let bytes = try builder.build()
            let raw = String(decoding: bytes, as: UTF8.self)
            #expect(bytes.allSatisfy { $0 < 0x80 })
            // Every LF is part of a CRLF, every CR starts one.
            #expect(raw.replacingOccurrences(of: "\r\n", with: "").utf8.allSatisfy { $0 != 0x0A && $0 != 0x0D })
            #expect(raw.hasSuffix("\r\n"))
            for line in raw.components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 78, "\(line.prefix(100))…")
            }
            let message = try ParsedMessage(bytes)
            #expect(try message.decoded("Subject") == HeaderField.collapsingWhitespace(subject))
        }
    }
}
