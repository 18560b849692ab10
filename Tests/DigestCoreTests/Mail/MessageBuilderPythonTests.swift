import Foundation
import Testing

@testable import DigestCore

/// Python's `email` package, an implementation we did not write, parses what we build.
@Suite(.requires(.python3))
struct MessageBuilderPythonTests {
    static let script = #"""
        import email, email.policy, json, sys

        with open(sys.argv[1], "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        defects = [repr(d) for d in msg.defects]
        headers = {}
        for name, value in msg.items():
            headers[name] = str(value)
            defects += [f"{name}: {d!r}" for d in getattr(value, "defects", [])]

        def mailbox(name):
            address = msg[name].addresses[0]
            return {"name": address.display_name, "address": address.addr_spec}

        parts = []
        leaves = list(msg.iter_parts()) if msg.is_multipart() else [msg]
        for part in leaves:
            defects += [f"part: {d!r}" for d in part.defects]
            parts.append({
                "type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "encoding": part.get("Content-Transfer-Encoding"),
                "text": part.get_content(),
            })
        print(json.dumps({
            "headers": headers,
            "from": mailbox("From"),
            "to": mailbox("To"),
            "subject": str(msg["Subject"]),
            "is_multipart": msg.is_multipart(),
            "content_type": msg.get_content_type(),
            "parts": parts,
            "defects": defects,
        }))
        """#

    struct Parsed: Decodable {
        struct Address: Decodable {
            var name: String
            var address: String
        }
        struct Part: Decodable {
            var type: String
            var charset: String?
            var encoding: String?
            var text: String
        }
        var headers: [String: String]
        var from: Address
        var to: Address
        var subject: String
        var is_multipart: Bool
        var content_type: String
        var parts: [Part]
        var defects: [String]
    }

    func parse(_ bytes: [UInt8]) async throws -> Parsed {
        let directory = TemporaryDirectory("mime")
        let file = directory.file("message.eml")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let result = try await Python.run(Self.script, arguments: [file])
        guard result.status == 0 else {
            throw PythonError(message: "python3 exited with \(result.status): \(result.standardError)")
        }
        return try JSONDecoder().decode(Parsed.self, from: result.standardOutput)
    }

    func unixLines(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    @Test func parsesAMultilingualDigest() async throws {
        let subject = "أخبار اليوم 😀: المجلس يوافق على خط الحافلات الجديد — Today's top stories & <script>alert(1)</script> "
            + String(repeating: "🇯🇴👩‍👩‍👧‍👦 ", count: 6)
        let fromName = "صحيفة عمّان — The Amman Courier"
        let toName = "José \"Pepe\" Müller"
        let text = """
            Good morning, José!\r
            = Top stories =\n\
            1. المجلس يوافق على خط الحافلات 🚌 (42 votes)  \n\
            \(String(repeating: "A long line of plain text that goes on and on; ", count: 8))
            .
            From the editors\rBye\n
            """
        let html = """
            <!doctype html><html><body style="margin:0">
            <h1 style="font-size:20px">أخبار اليوم</h1>
            <p><a href="https://courier.example/s/1?a=1&amp;b=2">Council approves 🚌</a>\t
            \(String(repeating: "<span style=\"color:#333\">x</span>", count: 20))
            </body></html>
            """
        let builder = MessageBuilder(
            from: Mailbox(name: fromName, address: try EmailAddress("digest@courier.example")),
            to: Mailbox(name: toName, address: try EmailAddress("jose@müller.example")),
            replyTo: Mailbox(name: "Editors", address: try EmailAddress("editors@courier.example")),
            subject: subject, date: Fixtures.date("2026-11-24T06:00:00Z"),
            messageID: "<2026-11-24.7@courier.example>", listID: "صحيفة عمّان <digest.courier.example>",
            listUnsubscribe: ["https://courier.example/u/abc", "mailto:u@courier.example?subject=unsubscribe"],
            oneClickUnsubscribe: true, text: text, html: html)
        let bytes = try builder.build()

        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            #expect(line.count <= 998)
        }

        let parsed = try await parse(bytes)
        #expect(parsed.defects == [])
        #expect(parsed.is_multipart)
        #expect(parsed.content_type == "multipart/alternative")
        #expect(parsed.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(parsed.parts.map(\.charset) == ["utf-8", "utf-8"])
        #expect(parsed.parts.map(\.encoding) == ["quoted-printable", "quoted-printable"])
        #expect(unixLines(parsed.parts[0].text) == unixLines(text))
        #expect(unixLines(parsed.parts[1].text) == unixLines(html))
        #expect(parsed.subject == subject.trimmingCharacters(in: .whitespaces))
        #expect(parsed.from.name == fromName)
        #expect(parsed.from.address == "digest@courier.example")
        #expect(parsed.to.name == toName)
        #expect(parsed.to.address == "jose@xn--mller-kva.example")
        #expect(parsed.headers["Date"] == "Tue, 24 Nov 2026 06:00:00 +0000")
        #expect(parsed.headers["Message-ID"] == "<2026-11-24.7@courier.example>")
        #expect(parsed.headers["List-Id"] == "صحيفة عمّان <digest.courier.example>")
        #expect(parsed.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
        #expect(parsed.headers["Bcc"] == nil)
    }

    @Test func parsesATextOnlyMessage() async throws {
        var builder = Sample.builder(subject: "Résumé du jour", text: "Ligne une\nLigne deux — fin\n", html: nil)
        builder.to = Mailbox(name: "Chloé", address: try EmailAddress("chloe@example.org"))
        let parsed = try await parse(try builder.build())
        #expect(parsed.defects == [])
        #expect(!parsed.is_multipart)
        #expect(parsed.parts.map(\.type) == ["text/plain"])
        #expect(unixLines(parsed.parts[0].text) == "Ligne une\nLigne deux — fin\n")
        #expect(parsed.subject == "Résumé du jour")
        #expect(parsed.to.name == "Chloé")
    }
}
