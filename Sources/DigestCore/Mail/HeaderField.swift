/// One header field being written: tokens separated by whitespace, folded (CRLF + space in
/// place of that whitespace, RFC 5322 §2.2.3) so lines stay within 78 characters where the
/// tokens allow it and never exceed 998.
///
/// Every token is ASCII and contains no whitespace or control: callers check or encode values
/// before they get here, which is what makes header injection impossible.
struct HeaderField {
    static let preferredLineLength = 78
    static let maximumLineLength = 998
    /// The longest word that fits on a folded line (after its leading space) within 78.
    static let longestPlainWord = preferredLineLength - 1

    let name: String
    private(set) var text: String
    private var lineLength: Int
    private var hasToken = false

    init(_ name: String) {
        self.name = name
        text = name + ":"
        lineLength = name.utf8.count + 1
    }

    /// The room left on the current line for a token that follows a space.
    var roomOnLine: Int { Self.preferredLineLength - lineLength - 1 }

    /// Appends `token` after a space, or on a new folded line when it would not fit. The first
    /// token always stays on the field's first line, so no line holds only the field name.
    mutating func append(_ token: String, value: @autoclosure () -> String = "") throws(MessageBuildError) {
        let length = token.utf8.count
        if hasToken && lineLength + 1 + length > Self.preferredLineLength {
            text += "\r\n "
            lineLength = 1
        } else {
            text += " "
            lineLength += 1
        }
        text += token
        lineLength += length
        hasToken = true
        if lineLength > Self.maximumLineLength {
            throw MessageBuildError(
                .tooLong, field: name, value: value().isEmpty ? token : value(),
                reason: "does not fit on a header line of \(Self.maximumLineLength) octets")
        }
    }

    /// Appends `text` as RFC 2047 encoded words, the first sized to the room on the current line.
    mutating func appendEncoded(_ text: String) throws(MessageBuildError) {
        for word in EncodedWord.encode(text, firstMaximumLength: roomOnLine) {
            try append(word, value: text)
        }
    }

    /// Appends unstructured text (`Subject`): ASCII words as they are, runs of words that need
    /// it as encoded words. The text must already be whitespace-collapsed (see `collapsingWhitespace`).
    mutating func appendUnstructured(_ text: String) throws(MessageBuildError) {
        // Whitespace between an encoded word and plain text is kept by decoders, whitespace
        // between two encoded words is not; so neighbouring words that need encoding travel
        // together in one run, spaces included.
        var run: [Substring] = []
        func flushRun() throws(MessageBuildError) {
            guard !run.isEmpty else { return }
            try appendEncoded(run.joined(separator: " "))
            run.removeAll()
        }
        for word in text.split(separator: " ") {
            // A plain word too long for a folded line goes encoded too, so it can be split.
            if EncodedWord.isNeeded(for: word) || word.utf8.count > Self.longestPlainWord {
                run.append(word)
            } else {
                try flushRun()
                try append(String(word), value: text)
            }
        }
        try flushRun()
    }

    /// Appends a display name (an RFC 5322 phrase): atoms as they are, other ASCII as one
    /// quoted string, non-ASCII (or anything too long to quote on one line) as encoded words.
    mutating func appendPhrase(_ phrase: String) throws(MessageBuildError) {
        if EncodedWord.isNeeded(for: phrase) {
            return try appendEncoded(phrase)
        }
        let words = phrase.split(separator: " ")
        if words.contains(where: { $0.utf8.count > Self.longestPlainWord }) {
            return try appendEncoded(phrase)
        }
        if words.allSatisfy({ $0.utf8.allSatisfy(Self.isAtext) }) {
            for word in words { try append(String(word), value: phrase) }
            return
        }
        var quoted = "\""
        for character in phrase {
            if character == "\"" || character == "\\" { quoted += "\\" }
            quoted.append(character)
        }
        quoted += "\""
        if quoted.utf8.count > Self.preferredLineLength - 2 {
            return try appendEncoded(phrase)
        }
        try append(quoted, value: phrase)
    }

    /// Appends a mailbox: `phrase <address>`, or the bare address when there is no name.
    /// The address goes in its IDNA ASCII form.
    mutating func appendMailbox(_ mailbox: Mailbox) throws(MessageBuildError) {
        let name = mailbox.name.map(Self.collapsingWhitespace) ?? ""
        if name.isEmpty {
            try append(mailbox.address.ascii)
        } else {
            try appendPhrase(name)
            try append("<\(mailbox.address.ascii)>")
        }
    }

    /// The field with its final CRLF, as bytes.
    var bytes: [UInt8] { Array((text + "\r\n").utf8) }

    /// RFC 5322 `atext`: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F, 0x60, 0x7B, 0x7C,
            0x7D, 0x7E:
            true
        default: false
        }
    }

    /// `text` with every run of whitespace and control characters (CR, LF, tab, NUL, U+2028…)
    /// turned into one space and the ends trimmed: how names and subjects lose line breaks
    /// instead of carrying them into the header.
    static func collapsingWhitespace(_ text: String) -> String {
        // The common case, checked without Unicode property look-ups: printable ASCII with
        // single inner spaces is already collapsed.
        var previous: UInt8 = 0x20
        var isCollapsed = true
        for byte in text.utf8 {
            if byte < 0x20 || byte > 0x7E || (byte == 0x20 && previous == 0x20) {
                isCollapsed = false
                break
            }
            previous = byte
        }
        if isCollapsed && previous != 0x20 { return text }

        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let isSpaceOrControl =
                scalar.isASCII
                ? scalar.value <= 0x20 || scalar.value == 0x7F
                : scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
            if isSpaceOrControl {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.unicodeScalars.append(" ")
                pendingSpace = false
            }
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}
