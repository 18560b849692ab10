import Foundation

/// The words a reader wrote in a reply, without what their mail program quoted: the text/plain part (or the
/// HTML one when there is none) with its transfer encoding and charset undone, then
///
/// - quoted lines (`>`), and the attribution lines that introduce them ("On … wrote:", "Le … a écrit :",
///   Arabic "… كتب:"), dropped wherever they are, so a bottom-posted reply keeps its own lines;
/// - everything from a forwarded-header block on: Outlook's "-----Original Message-----", its "From: … / Sent: …"
///   block, or a line of underscores, which Outlook puts above a quote it does not mark;
/// - in HTML, `<blockquote>` elements and Gmail's `gmail_quote` / Outlook's `divRplyFwdMsg` / Apple Mail's
///   `AppleOriginalContents` / Thunderbird's `moz-cite-prefix` / Yahoo's and Proton's quote blocks;
/// - a signature after "-- " and the "Sent from my iPhone" lines phones add.
///
/// So a "+3" that only appears in the quoted digest never counts as the reader's.
public struct ReplyOwnText: Sendable, Equatable {
    /// The reader's own lines, trimmed, empty ones dropped.
    public var lines: [String]

    public init(lines: [String]) { self.lines = lines }

    /// The reader's own text of `message`.
    init(_ message: MIMEEntity) {
        let entities = message.allEntities.filter { !$0.contentType.hasPrefix("multipart/") && !$0.isAttachment }
        if let plain = entities.first(where: { $0.contentType == "text/plain" }) {
            self.init(plainText: plain.unicodeText)
        } else if let html = entities.first(where: { $0.contentType == "text/html" }) {
            self.init(html: html.unicodeText)
        } else {
            self.init(lines: [])
        }
    }

    /// The reader's own lines of a plain-text body.
    public init(plainText text: String) {
        var own: [String] = []
        let all = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        var index = 0
        while index < all.count {
            let line = all[index].trimmingCharacters(in: .whitespaces)
            index += 1
            if line == "--" { break }  // the signature separator, "-- " (trimmed)
            if Self.startsForwardedHeaders(line, next: index < all.count ? all[index...].prefix(4).map(String.init) : []) {
                break
            }
            if line.hasPrefix(">") || line.hasPrefix("\u{203A}") { continue }
            // An attribution may be wrapped over two lines ("On Tue, … Courier <" / "reply+…> wrote:").
            if Self.isAttribution(line) { continue }
            if index < all.count, Self.isAttribution(line + " " + all[index].trimmingCharacters(in: .whitespaces)),
                all[index].trimmingCharacters(in: .whitespaces).hasSuffix(":")
            {
                index += 1
                continue
            }
            if Self.isDeviceSignature(line) { continue }
            if !line.isEmpty { own.append(line) }
        }
        self.init(lines: own)
    }

    /// The reader's own lines of an HTML body: quote blocks removed, then read as plain text.
    public init(html: String) {
        self.init(plainText: Self.text(ofHTML: Self.removingQuotes(html)))
    }

    /// "On Tue, Nov 24, 2026 at 7:00 AM Courier <…> wrote:" and its translations.
    static func isAttribution(_ line: String) -> Bool {
        let lower = line.lowercased()
        guard lower.hasSuffix(":") else { return false }
        // Gmail in Arabic: "في الثلاثاء، 24 نوفمبر 2026، كتب Courier <…>:", the verb before the name.
        if lower.contains("كتب") && lower.count < 300 { return true }
        let endings = ["wrote:", "writes:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "scrisse:", "كتب:", "كتبت:"]
        guard endings.contains(where: lower.hasSuffix) else { return false }
        let openings = ["on ", "le ", "am ", "el ", "il ", "في ", "بتاريخ "]
        return openings.contains(where: lower.hasPrefix) || lower.contains("@") || lower.count < 120
    }

    /// Outlook's header blocks above an unmarked quote: "-----Original Message-----", a line of underscores,
    /// or "From: …" followed within a few lines by "Sent: " or "Date: " (and "To:"/"Subject:").
    static func startsForwardedHeaders(_ line: String, next: [String]) -> Bool {
        if line.range(of: #"^-{3,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine|الرسالة الأصلية)\s*-{3,}$"#, options: [.regularExpression, .caseInsensitive]) != nil {
            return true
        }
        if line.count >= 10 && line.allSatisfy({ $0 == "_" }) { return true }
        let headerNames = ["from:", "de:", "von:", "من:"]
        guard headerNames.contains(where: line.lowercased().hasPrefix) else { return false }
        let following = ["sent:", "date:", "envoyé :", "gesendet:", "to:", "subject:", "تاريخ الإرسال:", "أرسل:", "إلى:"]
        return next.contains { candidate in
            following.contains(where: candidate.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix)
        }
    }

    static func isDeviceSignature(_ line: String) -> Bool {
        let lower = line.lowercased()
        return ["sent from my ", "get outlook for ", "sent from mail for ", "sent from yahoo mail", "أرسلت من "]
            .contains(where: lower.hasPrefix)
    }

    /// `html` without the elements that hold a quote: `<blockquote>` (nested ones too), and the divs Gmail
    /// (`gmail_quote`), Outlook (`divRplyFwdMsg`, `appendonsend`: everything after it is the quote) and Apple Mail
    /// (`AppleOriginalContents`) wrap around one.
    static func removingQuotes(_ html: String) -> String {
        var text = html
        for marker in ["id=\"divRplyFwdMsg\"", "id=\"appendonsend\"", "id=divRplyFwdMsg", "id=appendonsend"] {
            if let found = text.range(of: marker, options: .caseInsensitive),
                let open = text[..<found.lowerBound].range(of: "<", options: .backwards)
            {
                text = String(text[..<open.lowerBound])
            }
        }
        text = removingElements(text, name: "blockquote") { _ in true }
        text = removingElements(text, name: "div") { tag in
            let lower = tag.lowercased()
            return ["gmail_quote", "appleoriginalcontents", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"]
                .contains(where: lower.contains)
        }
        return text
    }

    /// `html` without each `<name …>` element whose opening tag `matches`, up to its matching close (counting
    /// nested elements of the same name).
    static func removingElements(_ html: String, name: String, matches: (Substring) -> Bool) -> String {
        var result = ""
        var rest = html[...]
        let open = "<" + name
        let close = "</" + name
        while let start = rest.range(of: open, options: .caseInsensitive) {
            let after = rest[start.upperBound...]
            guard let next = after.first, next == ">" || next == " " || next == "\n" || next == "\t" || next == "\r",
                let tagEnd = after.firstIndex(of: ">")
            else {
                result += rest[..<start.upperBound]
                rest = after
                continue
            }
            let tag = rest[start.lowerBound...tagEnd]
            guard matches(tag) else {
                result += rest[...tagEnd]
                rest = rest[rest.index(after: tagEnd)...]
                continue
            }
            result += rest[..<start.lowerBound]
            var depth = 1
            var cursor = rest[rest.index(after: tagEnd)...]
            while depth > 0 {
                let nextOpen = cursor.range(of: open, options: .caseInsensitive)
                guard let nextClose = cursor.range(of: close, options: .caseInsensitive) else {
                    cursor = cursor[cursor.endIndex...]
                    break
                }
                if let nextOpen, nextOpen.lowerBound < nextClose.lowerBound {
                    depth += 1
                    cursor = cursor[nextOpen.upperBound...]
                } else {
                    depth -= 1
                    let end = cursor[nextClose.upperBound...].firstIndex(of: ">").map { cursor.index(after: $0) }
                    cursor = cursor[(end ?? cursor.endIndex)...]
                }
            }
            rest = cursor
        }
        return result + rest
    }

    /// Plain text of an HTML body, one line per block or `<br>`, character references decoded.
    static func text(ofHTML html: String) -> String {
        var text = html
        for pattern in [#"(?is)<(script|style|head)\b.*?</\1\s*>"#, #"(?s)<!--.*?-->"#] {
            text = text.replacingOccurrences(of: pattern, with: "", options: .regularExpression)
        }
        text = text.replacingOccurrences(of: "\r?\n", with: " ", options: .regularExpression)
        text = text.replacingOccurrences(
            of: #"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr|p|div|li|tr|hr)\b[^>]*>"#, with: "\n", options: .regularExpression)
        text = text.replacingOccurrences(of: #"<[^>]*>"#, with: "", options: .regularExpression)
        return HTMLText.decodeEntities(text).replacingOccurrences(of: "\u{00A0}", with: " ")
    }
}

extension MIMEEntity {
    /// Whether the part is an attachment rather than the message's own text.
    var isAttachment: Bool { (field("Content-Disposition") ?? "").lowercased().hasPrefix("attachment") }

    /// The decoded body as Unicode text, read in its `charset` (UTF-8 when none, or one iconv does not know).
    var unicodeText: String {
        let charset = (contentTypeParameter("charset") ?? "utf-8").lowercased()
        if charset == "utf-8" || charset == "us-ascii" || charset == "utf8" { return text }
        guard let decoder = IconvDecoder(from: charset.uppercased()) else { return text }
        return String(decoding: decoder.decode(decodedBody).utf8, as: UTF8.self)
    }
}
