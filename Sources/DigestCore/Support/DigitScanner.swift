/// Reads fixed-width numbers and separators off the front of a text: the shape of every date form
/// (`2026-11-24T07:30:00Z`, `20261124T073000Z`) this program reads by hand.
struct DigitScanner {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var atEnd: Bool { index == scalars.count }

    /// The next scalar is an ASCII digit.
    var atDigit: Bool { index < scalars.count && (0x30...0x39).contains(scalars[index].value) }

    /// How many ASCII digits follow, none consumed.
    var digitRun: Int {
        var end = index
        while end < scalars.count, (0x30...0x39).contains(scalars[end].value) { end += 1 }
        return end - index
    }

    /// A number of exactly `length` ASCII digits, consumed; nil (nothing consumed) otherwise.
    mutating func number(_ length: Int) -> Int? {
        guard index + length <= scalars.count else { return nil }
        var value = 0
        for scalar in scalars[index..<index + length] {
            guard (0x30...0x39).contains(scalar.value) else { return nil }
            value = value * 10 + Int(scalar.value - 0x30)
        }
        index += length
        return value
    }

    /// Consumes the next scalar when it is one of `characters`.
    mutating func expect(_ characters: String) -> Bool {
        guard index < scalars.count, characters.unicodeScalars.contains(scalars[index]) else { return false }
        index += 1
        return true
    }

    /// What is left, unconsumed.
    var rest: String { String(String.UnicodeScalarView(scalars[index...])) }
}
