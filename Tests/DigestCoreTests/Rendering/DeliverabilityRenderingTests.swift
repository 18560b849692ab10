import Foundation
import Testing

@testable import DigestCore

/// The digest as inboxes judge it: spam filters (SpamAssassin), a phone-width browser
/// (headless Chromium), the size of non-Latin editions, subject length and dark-mode contrast.
@Suite struct DeliverabilityRenderingTests {
    let directory = TemporaryDirectory("deliverability")
    static let now = Fixtures.date("2026-11-24T03:00:00Z")
    static let date = Day("2026-11-24")!

    /// A composer over the real templates and a store holding `items` (JSON item records), and the reader's
    /// digest of the day.
    func compose(
        items: [[String: Any]], format: DigestFormat = .html, language: String? = nil,
        edit: (inout [String: Any]) -> Void = { _ in }
    ) async throws -> ComposedDigest {
        let configuration = try Fixtures.configuration(in: directory, edit: edit)
        let store = try Store(path: configuration.database)
        try store.upsert(
            try ItemRecordParser.parse(try JSONSerialization.data(withJSONObject: items), source: "items"), now: Self.now)
        let composer = try await DigestComposer.make(
            configuration: configuration, environment: [configuration.web.secretEnv: String(repeating: "x", count: 32)])
        let reader = try store.addSubscriber(
            Subscriber(
                email: try EmailAddress("salma@example.com"), name: "Salma", status: .active, format: format,
                language: language))
        // As `send` composes it, from the frozen edition: item links counted through `/r/TOKEN` by default.
        let edition = try composer.ranker.edition(for: Self.date, store: store, freeze: true, now: Self.now)
        return try #require(try composer.digest(for: reader, in: edition, alreadyReceived: [], now: Self.now))
    }

    static func item(_ index: Int, title: String, summary: String, kind: String = "story") -> [String: Any] {
        [
            "kind": kind, "title": title, "url": "https://courier.example/news/2026/11/23/\(index)",
            "summary": summary, "author": "Rania Haddad",
            "publishedAt": "2026-11-23T\(String(format: "%02d", 4 + index % 12)):00:00Z", "votes": 200 - index,
        ]
    }

    static var exampleItems: [[String: Any]] {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/examples/items.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    // MARK: SpamAssassin

    /// SpamAssassin's local tests (no network) score the sample digest; the hidden preheader used to
    /// cost 1.7 (HTML_FONT_LOW_CONTRAST, FONT_INVIS_MSGID).
    @Test(.requires(.spamassassin), arguments: [nil, "ar"])
    func spamAssassinScoresTheDigestNearZero(language: String?) async throws {
        let digest = try await compose(items: Self.exampleItems, language: language)
        let result = try await Programs.run("spamassassin", ["-L", "-t"], input: Data(digest.message.data))
        let report = result.standardOutput
        let marker = try #require(report.range(of: "Content analysis details:"), "no report: \(result.standardError)")
        let details = report[marker.upperBound...]
        let open = try #require(details.firstIndex(of: "("))
        let score = try #require(Double(details[details.index(after: open)...].prefix { $0 != " " }))
        #expect(score <= 0.5, "SpamAssassin score \(score):\n\(details.prefix(1500))")
        #expect(!details.contains("FONT_INVIS"))
        #expect(!details.contains("HTML_FONT_LOW_CONTRAST"))
    }

    @Test func thePreheaderIsVisibleText() async throws {
        let html = try #require(try await compose(items: Self.exampleItems).html)
        #expect(!html.contains("display:none"))
        #expect(!html.contains("font-size:1px"))
        #expect(!html.contains("max-height:0"))
        let preheader = "Cabinet approves 2027 budget with focus on water projects · Amman bus rapid transit extends to Zarqa"
        // Visible, and before the first item: it is what inboxes show as the preview line.
        let position = try #require(html.range(of: preheader)?.lowerBound)
        #expect(position < html.range(of: "<h2")!.lowerBound)
    }

    // MARK: Layout at phone width

    /// Headless Chromium lays the digest out in a 320 px frame; nothing may be wider than the frame.
    @Test(.requires(.chromium))
    func nothingOverflowsAPhoneScreen() async throws {
        let longWord = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz"  // 63 characters
        let longURL = "https://courier.example/" + String(repeating: "very-long-path-segment-", count: 8) + "end?x=1"
        let items = [
            Self.item(1, title: "\(longWord) passes", summary: "See \(longURL) for the full text of \(longWord)."),
            Self.item(2, title: String(repeating: "Headline ", count: 30) + longWord, summary: longURL, kind: "post"),
            Self.item(3, title: "مجلس النواب يقر \(longWord) بالإجماع", summary: "ملخص قصير مع رابط \(longURL)"),
        ]
        let html = try #require(try await compose(items: items).html)
        #expect(html.contains(longWord))
        // A fresh database: the same reader, in Arabic.
        let arabic = try #require(try await DeliverabilityRenderingTests().compose(items: items, language: "ar").html)
        #expect(arabic.contains("dir=\"rtl\""))
        let arabicWidths = try await Self.layoutWidths(arabic, frameWidth: 320)
        #expect(arabicWidths.content <= arabicWidths.frame, "the Arabic digest is \(arabicWidths.content) px wide")
        let widths = try await Self.layoutWidths(html, frameWidth: 320)
        #expect(widths.frame == 320, "the frame is \(widths.frame) px wide")
        #expect(widths.content <= widths.frame, "the digest is \(widths.content) px wide in a \(widths.frame) px frame")
    }

    /// The scroll width of `html` laid out in an iframe `frameWidth` px wide (a top-level headless
    /// window cannot be narrower than 500 px, a frame can), and the frame's inner width.
    static func layoutWidths(_ html: String, frameWidth: Int) async throws -> (content: Int, frame: Int) {
        let folder = TemporaryDirectory("chromium")
        let escaped = html.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
        let page = """
            <!DOCTYPE html><html><body style="margin:0">
            <iframe id="f" style="width:\(frameWidth)px;height:2000px;border:0" srcdoc="\(escaped)"></iframe>
            <script>
            var f = document.getElementById("f");
            f.onload = function () {
              var d = f.contentDocument.documentElement;
              document.body.setAttribute("data-widths", d.scrollWidth + " " + f.contentWindow.innerWidth);
            };
            </script></body></html>
            """
        let file = folder.write("page.html", page)
        let result = try await Programs.run(
            "chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(folder.file("profile"))", "--window-size=800,2200", "--virtual-time-budget=10000",
                "--dump-dom", "file://\(file)",
            ], environment: folder.environment)
        guard let range = result.standardOutput.range(of: "data-widths=\"") else {
            throw ProgramError(message: "chromium gave no measurement (status \(result.status)): \(result.standardError.suffix(800))")
        }
        let numbers = result.standardOutput[range.upperBound...].prefix { $0 != "\"" }.split(separator: " ").compactMap { Int($0) }
        guard numbers.count == 2 else { throw ProgramError(message: "cannot read \(numbers)") }
        return (numbers[0], numbers[1])
    }

    // MARK: Size of non-Latin editions

    /// A realistic 15-item Arabic edition: base64 instead of quoted-printable keeps it far below
    /// Gmail's clipping limit.
    @Test func anArabicEditionOfFifteenItemsStaysUnder60KB() async throws {
        let sentence = "أعلنت الحكومة اليوم عن خطة جديدة لتوسيع شبكة النقل العام في العاصمة عمّان وربطها بالمدن المجاورة، "
        var items: [[String: Any]] = []
        for index in 0..<15 {
            let summary = String(String(repeating: sentence, count: 4).prefix(300))
            items.append(
                Self.item(
                    index, title: "عمّان: خبر رقم \(index + 1) عن مشروع الحافلات السريعة والمياه والتعليم",
                    summary: summary, kind: index < 10 ? "story" : "post"))
        }
        let digest = try await compose(items: items) { json in
            var site = json["site"] as! [String: Any]
            site["languages"] = ["ar", "en"]
            json["site"] = site
        }
        #expect(digest.itemIDs.count == 15)
        let size = digest.message.data.count
        #expect(size <= 60 * 1024, "the Arabic digest is \(size) bytes")
        let text = String(decoding: digest.message.data, as: UTF8.self)
        #expect(text.contains("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"))
        // What base64 carries decodes to exactly the HTML body.
        let part = try #require(text.components(separatedBy: "Content-Transfer-Encoding: base64\r\n\r\n").last)
        let encoded = part.components(separatedBy: "\r\n--").first!.replacingOccurrences(of: "\r\n", with: "")
        let decoded = try #require(Data(base64Encoded: encoded))
        #expect(String(decoding: decoded, as: UTF8.self) == digest.html!.replacingOccurrences(of: "\n", with: "\r\n"))
        for line in part.split(separator: "\r\n") where !line.hasPrefix("--") { #expect(line.count <= 76) }
    }

    @Test func latinTextStaysQuotedPrintable() async throws {
        let digest = try await compose(items: Self.exampleItems)
        let text = String(decoding: digest.message.data, as: UTF8.self)
        #expect(!text.contains("Content-Transfer-Encoding: base64"))
        #expect(text.components(separatedBy: "Content-Transfer-Encoding: quoted-printable").count == 3)
    }

    // MARK: Subject, direction, contrast

    @Test func aLongSubjectIsCutAtAWord() async throws {
        let title = String(repeating: "Parliament debates the budget ", count: 70)
        let digest = try await compose(items: [Self.item(1, title: title, summary: "")])
        #expect(digest.subject.count <= DigestComposer.subjectLimit + 1)
        #expect(digest.subject.hasSuffix("…"))
        #expect(digest.subject.hasPrefix("The Amman Courier: Parliament debates"))
        #expect(!digest.subject.dropLast().hasSuffix(" "))
        let words = digest.subject.dropLast().split(separator: " ")
        #expect(["Parliament", "debates", "the", "budget", "Courier:", "The", "Amman"].contains(String(words.last!)))
    }

    @Test func titlesAndSummariesTakeTheirOwnDirection() async throws {
        let html = try #require(try await compose(items: Self.exampleItems).html)
        // The item's number comes first in the title's block: digits and "." are neutral, so `dir="auto"` still
        // takes the title's direction.
        #expect(
            html.contains(#"<div dir="auto"><span class="dd-muted""#)
                && html.contains(#">1.</span> <a href="https://courier.example/digest/r/"#))
        #expect(html.contains("<p dir=\"auto\""))
    }

    /// WCAG 2 contrast of every dark-mode text colour on the dark background.
    @Test func darkModeTextHasContrastOfAtLeast4_5() throws {
        let template = try String(contentsOfFile: Fixtures.repositoryRoot + "/templates/digest.html.mustache", encoding: .utf8)
        let dark = try #require(template.components(separatedBy: "prefers-color-scheme: dark").last?.components(separatedBy: "@media").first)
        let background = try #require(Self.colour(after: "background-color:", in: dark))
        var checked = 0
        for rule in dark.split(separator: "}") {
            guard let colour = Self.colour(after: " color:", in: String(rule)) ?? Self.colour(after: "{ color:", in: String(rule))
            else { continue }
            let ratio = Self.contrast(colour, background)
            #expect(ratio >= 4.5, "\(rule): \(ratio)")
            checked += 1
        }
        #expect(checked >= 4)
    }

    static func colour(after key: String, in text: String) -> String? {
        guard let range = text.range(of: key) else { return nil }
        let value = text[range.upperBound...].drop { $0 == " " }
        guard value.first == "#" else { return nil }
        return String(value.prefix(7))
    }

    static func contrast(_ a: String, _ b: String) -> Double {
        func luminance(_ hex: String) -> Double {
            let value = Int(hex.dropFirst(), radix: 16)!
            let channels = [(value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF].map { Double($0) / 255 }
            let linear = channels.map { $0 <= 0.03928 ? $0 / 12.92 : pow(($0 + 0.055) / 1.055, 2.4) }
            return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        }
        let (x, y) = (luminance(a), luminance(b))
        return (max(x, y) + 0.05) / (min(x, y) + 0.05)
    }
}
