import Foundation

/// A single-byte code page that neither the Encoding Standard nor glibc's iconv has, decoded from its table:
/// Mac Greek and Mac Turkish, which Python's codecs (and so feedparser) read, and feeds written on classic
/// Mac OS declare. Bytes below 0x80 are ASCII; the table gives the 128 above.
struct SingleByteCodePage: Sendable {
    /// The characters of bytes 0x80…0xFF.
    let upperHalf: [Unicode.Scalar]

    /// The code page a label names (Python's spellings: `macgreek`, `mac_greek`, `mac-greek`, `x-mac-greek`).
    init?(label: String) {
        let key = label.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
        switch key {
        case "macgreek", "xmacgreek": self = .macGreek
        case "macturkish", "xmacturkish": self = .macTurkish
        default: return nil
        }
    }

    /// `upperHalf`: the 128 characters of bytes 0x80…0xFF in order, as one string.
    private init(upperHalf: String) {
        self.upperHalf = Array(upperHalf.unicodeScalars)
        precondition(self.upperHalf.count == 128)
    }

    /// The bytes as UTF-8; every byte has a character, so nothing is replaced.
    func decode(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 4)
        for byte in bytes {
            if byte < 0x80 {
                output.append(byte)
            } else {
                output.append(contentsOf: UTF8.encode(upperHalf[Int(byte - 0x80)])!)
            }
        }
        return output
    }

    /// Apple's MacGreek, as Python's `mac_greek` codec reads it (0xFF is a soft hyphen).
    static let macGreek = SingleByteCodePage(
        upperHalf: "Ä¹²É³ÖÜ΅àâä΄¨çéèêë£™îï•½‰ôö¦€ùûü"
            + "†ΓΔΘΛΞΠß®©ΣΪ§≠°·Α±≤≥¥ΒΕΖΗΙΚΜΦΫΨΩ"
            + "άΝ¬ΟΡ≈Τ«»…\u{A0}ΥΧΆΈœ–―“”‘’÷ΉΊΌΎέήίόΏ"
            + "ύαβψδεφγηιξκλμνοπώρστθωςχυζϊϋΐΰ\u{AD}")

    /// Apple's MacTurkish, as Python's `mac_turkish` codec reads it (Mac Roman with Ğ ğ İ ı Ş ş at 0xDA–0xDF).
    static let macTurkish = SingleByteCodePage(
        upperHalf: "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü"
            + "†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø"
            + "¿¡¬√ƒ≈∆«»…\u{A0}ÀÃÕŒœ–—“”‘’÷◊ÿŸĞğİıŞş"
            + "‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\u{F8FF}ÒÚÛÙ\u{F8A0}ˆ˜¯˘˙˚¸˝˛ˇ")
}
