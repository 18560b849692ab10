/// The one rule for text that comes in from outside — feed entries, item files, the items API,
/// subscriber names — before it is stored and later shown in a digest.
///
/// - Runs of whitespace and control characters become one space (a CR/LF can never reach a header).
/// - Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069) are
///   removed: an unbalanced RIGHT-TO-LEFT OVERRIDE makes "2027" display as "7202" and spills into
///   the text after it. The marks U+200E/U+200F are removed at the start and end, where they only
///   steer the surrounding layout; inside a text they place punctuation in mixed Arabic/Hebrew and
///   Latin writing, and cannot reorder anything, so they stay.
public enum ImportedText {
    public static func normalized(_ text: String) -> String {
        // Every one of them is written E2 80 xx or E2 81 xx in UTF-8: most texts have no such byte at all,
        // and an item file reads this for three fields of every record.
        guard text.utf8.contains(0xE2), text.unicodeScalars.contains(where: isBidiControlOrMark) else {
            return text.collapsingWhitespace
        }
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !isBidiControl(scalar) { kept.append(scalar) }
        var result = String(kept).collapsingWhitespace
        while let first = result.unicodeScalars.first, isMark(first) {
            result = String(result.unicodeScalars.dropFirst()).collapsingWhitespace
        }
        while let last = result.unicodeScalars.last, isMark(last) {
            result = String(result.unicodeScalars.dropLast()).collapsingWhitespace
        }
        return result
    }

    /// LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI.
    public static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// LEFT-TO-RIGHT MARK and RIGHT-TO-LEFT MARK.
    static func isMark(_ scalar: Unicode.Scalar) -> Bool { scalar.value == 0x200E || scalar.value == 0x200F }

    private static func isBidiControlOrMark(_ scalar: Unicode.Scalar) -> Bool {
        isBidiControl(scalar) || isMark(scalar)
    }
}
