import Foundation
internal import CUchardet

// The one file that imports CUchardet. Everything else asks `EncodingDetector.detect` for a name.

/// Guesses the encoding of text that declares none and is not UTF-8, with uchardet (the detector of
/// freedesktop.org, from Mozilla's universal charset detector; https://www.freedesktop.org/wiki/Software/uchardet/).
enum EncodingDetector {
    /// The detector's guess as a WHATWG encoding name (`big5`, `shift_jis`, `koi8-r`…), nil when it has none
    /// or names something the Encoding Standard does not read.
    static func detect(_ bytes: [UInt8]) -> String? {
        let detector = Detector()
        let name = detector.detect(bytes)
        guard !name.isEmpty else { return nil }
        // uchardet says "UHC" for euc-kr's Microsoft superset, which the standard calls euc-kr, and
        // "MAC-CYRILLIC" for the standard's x-mac-cyrillic.
        let aliases = ["uhc": "euc-kr", "cp949": "euc-kr", "mac-cyrillic": "x-mac-cyrillic"]
        let lower = name.lowercased()
        return aliases[lower] ?? EncodingLabels.table[lower]
    }

    /// Owns one `uchardet_t`, deleted in `deinit` on every path.
    private final class Detector {
        /// "Create an encoding detector. @return an instance of uchardet_t." — uchardet.h
        private let handle: uchardet_t = uchardet_new()

        deinit { uchardet_delete(handle) }

        /// "Feed data to an encoding detector. The detector is able to shortcut processing when it reaches
        /// certainty for an encoding, so you should not worry about limiting input data." Then
        /// "Notify an end of data to an encoding detector", after which uchardet_get_charset gives
        /// "an iconv-compatible name of the encoding that was detected … "" on failure." — uchardet.h
        func detect(_ bytes: [UInt8]) -> String {
            let failed = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { uchardet_handle_data(handle, $0.baseAddress, $0.count) }
            }
            guard failed == 0 else { return "" }
            uchardet_data_end(handle)
            guard let name = uchardet_get_charset(handle) else { return "" }
            return String(cString: name)
        }
    }
}
