import DigestCore

/// Text made safe inside XML and HTML, as content or as an attribute value: the control characters XML 1.0
/// does not allow (§2.2) left out, then the five markup characters escaped as the mails escape them.
enum XMLText {
    static func escaped(_ text: String) -> String {
        let allowed = text.unicodeScalars.allSatisfy(isAllowed)
            ? text : String(String.UnicodeScalarView(text.unicodeScalars.filter(isAllowed)))
        return HTMLEscaping.escape(allowed)
    }

    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x20 ? scalar.value != 0xFFFE && scalar.value != 0xFFFF : scalar == "\t" || scalar == "\n" || scalar == "\r"
    }
}
