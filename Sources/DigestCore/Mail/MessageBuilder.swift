import Foundation

/// Builds the exact bytes of one digest email (RFC 5322, MIME per RFC 2045/2046/2047).
///
/// - Plain text only when `html` is nil; otherwise `multipart/alternative` with text/plain
///   first and text/html second (RFC 2046 §5.1.4: the last part is the preferred one).
/// - Bodies are UTF-8, CRLF line ends, no encoded line over 76 characters; each part in
///   quoted-printable, or in base64 when that is shorter (text mostly outside ASCII).
/// - Headers fold at 78 characters where the values allow it and never exceed 998; non-ASCII
///   subjects and names become RFC 2047 encoded words; addresses use their IDNA ASCII form.
/// - The same input always gives the same bytes: the MIME boundary is derived from the
///   Message-ID, nothing depends on the clock, the locale or the machine.
/// - Line breaks and controls in the subject and names collapse to a space; in the Message-ID,
///   List-Id and unsubscribe URLs (where a space would change the meaning) they are refused.
///
/// Dot-stuffing is left to the SMTP transport (libcurl does it).
public struct MessageBuilder: Sendable {
    /// The author (`From`); its display name may be any Unicode text.
    public var from: Mailbox
    /// The one recipient (`To`).
    public var to: Mailbox
    /// Where replies go (`Reply-To`), when not to `from`.
    public var replyTo: Mailbox?
    /// Any text: line breaks and controls become spaces, non-ASCII becomes encoded words.
    public var subject: String
    /// The `Date` header, written in UTC.
    public var date: Date
    /// `<id-left@id-right>`, angle brackets included.
    public var messageID: String
    /// RFC 2919 list identifier, with or without a description: `The Amman Courier <digest.courier.example>`.
    public var listID: String?
    /// RFC 2369 unsubscribe URLs (`https://…`, optionally `mailto:…`), rendered as `<a>, <b>`.
    public var listUnsubscribe: [String]
    /// Adds `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058); needs an https URL.
    public var oneClickUnsubscribe: Bool
    /// The plain-text body; LF, CR or CRLF line ends.
    public var text: String
    /// The HTML body; nil for a text/plain-only message.
    public var html: String?
    /// Signs the finished message (DKIM, one signature per key), dated `date`; nil leaves it unsigned.
    public var dkim: DKIMSigner?
    /// `From`, `Reply-To` and `List-Id` written once for many messages (`FixedFields`); when set,
    /// `from`, `replyTo` and `listID` are not looked at.
    var fixed: FixedFields?
    /// Fields written after the standard ones, such as `In-Reply-To` and `Auto-Submitted` on the mails that answer
    /// a reader's reply; values are ASCII (a message-id, a keyword) and checked like any other.
    public var extraFields: [(name: String, value: String)] = []
    /// The `Subject` field already written (`subjectField(_:)`) for a subject shared by many messages;
    /// when set, `subject` is not looked at.
    var subjectField: [UInt8]?

    /// The header fields that are the same in every message of a sender and list, checked and folded
    /// once: a send writes them into thousands of messages.
    struct FixedFields: Sendable {
        fileprivate let sender: [UInt8]
        fileprivate let list: [UInt8]
        /// Whether `sender` holds the Reply-To; when not, a message's own `replyTo` is written after it (a digest's
        /// `reply+TOKEN@…` address, one per reader).
        fileprivate let hasReplyTo: Bool

        init(from: Mailbox, replyTo: Mailbox?, listID: String?) throws(MessageBuildError) {
            var builder = MessageBuilder(from: from, to: from, replyTo: replyTo, subject: "", date: Date(), messageID: "", text: "")
            builder.listID = listID
            var sender: [UInt8] = []
            try builder.appendSenderFields(to: &sender)
            var list: [UInt8] = []
            try builder.appendListIDField(to: &list)
            self.sender = sender
            self.list = list
            hasReplyTo = replyTo != nil
        }
    }

    /// Collects the parts of a message; nothing is checked until `build()`.
    public init(
        from: Mailbox, to: Mailbox, replyTo: Mailbox? = nil, subject: String, date: Date, messageID: String,
        listID: String? = nil, listUnsubscribe: [String] = [], oneClickUnsubscribe: Bool = false,
        text: String, html: String? = nil, dkim: DKIMSigner? = nil
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.date = date
        self.messageID = messageID
        self.listID = listID
        self.listUnsubscribe = listUnsubscribe
        self.oneClickUnsubscribe = oneClickUnsubscribe
        self.text = text
        self.html = html
        self.dkim = dkim
    }

    /// The whole message: header fields, a blank line, the body; CRLF line ends throughout.
    public func build() throws(MessageBuildError) -> [UInt8] {
        let textBody = Self.encodedBody(text)
        let htmlBody = html.map(Self.encodedBody)
        return try build(
            bodyReserve: textBody.bytes.count + (htmlBody?.bytes.count ?? 0),
            text: { $0 += textBody.bytes }, html: htmlBody.map { body in { $0 += body.bytes } },
            textEncoding: textBody.encoding, htmlEncoding: htmlBody?.encoding ?? .quotedPrintable)
    }

    /// `text` in the shorter of quoted-printable and base64.
    static func encodedBody(_ text: String) -> (bytes: [UInt8], encoding: TransferEncoding) {
        var quotedPrintable: [UInt8] = []
        quotedPrintable.appendQuotedPrintable(text)
        var text = text
        let canonical = text.withUTF8 { TransferEncoding.canonicalLength($0) }
        guard TransferEncoding.shorter(quotedPrintableLength: quotedPrintable.count, canonicalLength: canonical) == .base64
        else { return (quotedPrintable, .quotedPrintable) }
        var base64: [UInt8] = []
        base64.appendBase64(canonicalizing: Array(text.utf8))
        return (base64, .base64)
    }

    /// The message with bodies that `text` and `html` append already encoded in `textEncoding` and
    /// `htmlEncoding` (the composer keeps the shared parts of its bodies encoded once); `self.text`
    /// and `self.html` are not used. `bodyReserve` is at least the bytes both bodies will append.
    func build(
        bodyReserve: Int, text appendText: (inout [UInt8]) -> Void, html appendHTML: ((inout [UInt8]) -> Void)?,
        textEncoding: TransferEncoding = .quotedPrintable, htmlEncoding: TransferEncoding = .quotedPrintable
    ) throws(MessageBuildError) -> [UInt8] {
        // The bodies are encoded straight into the message, sized once for the worst case: no
        // intermediate arrays, no copies, no regrowth (this runs once per message of a send).
        var message: [UInt8] = []
        message.reserveCapacity(2048 + bodyReserve)
        try appendHeaders(to: &message)

        guard let appendHTML else {
            message += Self.partHeaders("text/plain", textEncoding)
            message += Self.crlf
            let bodyStart = message.count
            appendText(&message)
            if message.count > bodyStart && message.last != 0x0A { message += Self.crlf }
            return finished(message)
        }

        // Quoted-printable output never contains "=_" ("=" is always followed by a hex digit or
        // CRLF), so a boundary starting with "=_" cannot occur in either encoded body.
        let boundary = Array(Self.boundary(for: messageID).utf8)
        var field = HeaderField("Content-Type")
        try field.append("multipart/alternative;")
        try field.append("boundary=\"\(Self.boundary(for: messageID))\"")
        message += field.bytes
        message += Self.crlf
        func appendPart(_ headers: [UInt8], _ appendBody: (inout [UInt8]) -> Void) {
            message += Self.dashes + boundary + Self.crlf
            message += headers
            message += Self.crlf
            appendBody(&message)
            // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
            message += Self.crlf
        }
        appendPart(Self.partHeaders("text/plain", textEncoding), appendText)
        appendPart(Self.partHeaders("text/html", htmlEncoding), appendHTML)
        message += Self.dashes + boundary + Self.dashes + Self.crlf
        return finished(message)
    }

    /// The message signed when `dkim` is set (the signed copy is exactly its size), else trimmed.
    private func finished(_ message: [UInt8]) -> [UInt8] {
        guard let dkim, !dkim.keys.isEmpty else { return Self.trimmed(message) }
        return dkim.sign(message, time: date)
    }

    /// The message in an array of its own size: the build buffer is sized for the worst case (about four
    /// times the bodies) and every message waiting to be sent would otherwise hold that much memory.
    private static func trimmed(_ message: [UInt8]) -> [UInt8] {
        message.capacity > message.count + message.count / 4 ? Array(message[...]) : message
    }

    private func appendHeaders(to message: inout [UInt8]) throws(MessageBuildError) {
        message += Array("Date: \(RFC5322Date.format(date))\r\n".utf8)

        if let fixed {
            message += fixed.sender
            if !fixed.hasReplyTo, let replyTo {
                var field = HeaderField("Reply-To")
                try field.appendMailbox(replyTo)
                message += field.bytes
            }
        } else {
            try appendSenderFields(to: &message)
        }

        var toField = HeaderField("To")
        try toField.appendMailbox(to)
        message += toField.bytes

        if let subjectField {
            message += subjectField
        } else {
            message += try Self.subjectField(subject)
        }

        try Self.validateMessageID(messageID)
        var idField = HeaderField("Message-ID")
        try idField.append(messageID)
        message += idField.bytes

        if let fixed {
            message += fixed.list
        } else {
            try appendListIDField(to: &message)
        }

        if !listUnsubscribe.isEmpty {
            var field = HeaderField("List-Unsubscribe")
            for (index, url) in listUnsubscribe.enumerated() {
                try Self.validateUnsubscribeURL(url)
                try field.append("<\(url)>" + (index < listUnsubscribe.count - 1 ? "," : ""), value: url)
            }
            message += field.bytes
        }

        if oneClickUnsubscribe {
            guard listUnsubscribe.contains(where: { Self.hasPrefix($0, "https://") }) else {
                throw MessageBuildError(
                    .missingValue, field: "List-Unsubscribe-Post", value: listUnsubscribe.joined(separator: ", "),
                    reason: "needs an https URL in List-Unsubscribe (RFC 8058 §3.1)")
            }
            message += Array("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n".utf8)
        }

        for (name, value) in extraFields {
            if name.caseInsensitiveCompare("In-Reply-To") == .orderedSame || name.caseInsensitiveCompare("References") == .orderedSame {
                try Self.validateMessageID(value)
            }
            var field = HeaderField(name)
            try field.appendUnstructured(value)
            message += field.bytes
        }

        message += Array("MIME-Version: 1.0\r\n".utf8)
    }

    /// The `Subject` field of `subject`, folded and encoded.
    static func subjectField(_ subject: String) throws(MessageBuildError) -> [UInt8] {
        var field = HeaderField("Subject")
        try field.appendUnstructured(HeaderField.collapsingWhitespace(subject))
        return field.bytes
    }

    /// `From`, and `Reply-To` when set.
    private func appendSenderFields(to message: inout [UInt8]) throws(MessageBuildError) {
        var fromField = HeaderField("From")
        try fromField.appendMailbox(from)
        message += fromField.bytes

        if let replyTo {
            var field = HeaderField("Reply-To")
            try field.appendMailbox(replyTo)
            message += field.bytes
        }
    }

    /// `List-Id`, when set.
    private func appendListIDField(to message: inout [UInt8]) throws(MessageBuildError) {
        guard let listID else { return }
        var field = HeaderField("List-Id")
        let (phrase, identifier) = try Self.parseListID(listID)
        if !phrase.isEmpty { try field.appendPhrase(phrase) }
        try field.append("<\(identifier)>", value: listID)
        message += field.bytes
    }

    /// Whether `text` starts with the lower-case ASCII `prefix`, in any letter case.
    private static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        var characters = text.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = characters.next(), byte | (byte &- 0x41 < 26 ? 0x20 : 0) == expected else { return false }
        }
        return true
    }

    /// `=_` + 32 hex digits from two FNV-1a hashes of the Message-ID: stable across runs and
    /// machines (unlike `Hasher`), distinct per message, 34 characters (RFC 2046 allows 70).
    static func boundary(for messageID: String) -> String {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in messageID.utf8 {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return "=_" + hex(first) + hex(second)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// RFC 5322 §3.6.4 `msg-id`, restricted to printable ASCII: `<left@right>`.
    static func validateMessageID(_ id: String) throws(MessageBuildError) {
        func refuse(_ reason: String) -> MessageBuildError {
            MessageBuildError(.invalidValue, field: "Message-ID", value: id, reason: reason)
        }
        guard id.hasPrefix("<"), id.hasSuffix(">"), id.utf8.count > 2 else {
            throw refuse("must be enclosed in angle brackets, as in <id@host>")
        }
        let inner = id.utf8.dropFirst().dropLast()
        if inner.contains(where: { $0 < 0x21 || $0 > 0x7E }) {
            throw refuse("must be printable ASCII without spaces or line breaks")
        }
        if inner.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) {
            throw refuse("contains an angle bracket inside")
        }
        let parts = inner.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw refuse("must have exactly one @ with text on both sides")
        }
        if id.utf8.count > 900 { throw MessageBuildError(.tooLong, field: "Message-ID", value: id, reason: "is too long") }
    }

    /// Splits `Description <list.id>` (or a bare `list.id`) and checks the identifier
    /// (RFC 2919: a dot-atom, printable ASCII).
    static func parseListID(_ value: String) throws(MessageBuildError) -> (phrase: String, identifier: String) {
        var phrase = ""
        var identifier = value.trimmingCharacters(in: .whitespaces)
        if identifier.hasSuffix(">"), let open = identifier.lastIndex(of: "<") {
            phrase = HeaderField.collapsingWhitespace(String(identifier[..<open]))
            identifier = String(identifier[identifier.index(after: open)..<identifier.index(before: identifier.endIndex)])
        }
        let labels = identifier.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(HeaderField.isAtext) }) else {
            throw MessageBuildError(
                .invalidValue, field: "List-Id", value: value,
                reason: "needs an identifier like <digest.example.org>: dot-separated ASCII words, no spaces or line breaks")
        }
        if identifier.utf8.count > 255 {
            throw MessageBuildError(.tooLong, field: "List-Id", value: value, reason: "identifier is longer than 255 octets")
        }
        return (phrase, identifier)
    }

    /// An unsubscribe URL must be https, http or mailto, printable ASCII without spaces or angle
    /// brackets (RFC 2369 §2; percent-encode anything else), and fit on one header line.
    static func validateUnsubscribeURL(_ url: String) throws(MessageBuildError) {
        func refuse(_ reason: String, code: MessageBuildError.Code = .invalidValue) -> MessageBuildError {
            MessageBuildError(code, field: "List-Unsubscribe", value: url, reason: reason)
        }
        guard hasPrefix(url, "https://") || hasPrefix(url, "http://") || hasPrefix(url, "mailto:") else {
            throw refuse("must be an https:, http: or mailto: URL")
        }
        if url.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }) {
            throw refuse("must be printable ASCII without spaces or line breaks (percent-encode the rest)")
        }
        if url.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) {
            throw refuse("contains an angle bracket")
        }
        if url.utf8.count > 900 { throw refuse("is longer than 900 octets", code: .tooLong) }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let dashes: [UInt8] = [0x2D, 0x2D]
    /// `Content-Type` and `Content-Transfer-Encoding` of a UTF-8 text part.
    private static func partHeaders(_ type: String, _ encoding: TransferEncoding) -> [UInt8] {
        switch (type, encoding) {
        case ("text/plain", .quotedPrintable): textPlainQuotedPrintable
        case ("text/plain", .base64): textPlainBase64
        case (_, .quotedPrintable): textHTMLQuotedPrintable
        case (_, .base64): textHTMLBase64
        }
    }

    private static let textPlainQuotedPrintable = Array(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n".utf8)
    private static let textPlainBase64 = Array(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n".utf8)
    private static let textHTMLQuotedPrintable = Array(
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n".utf8)
    private static let textHTMLBase64 = Array(
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n".utf8)
}
