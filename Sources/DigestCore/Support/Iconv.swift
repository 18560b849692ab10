#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes one legacy encoding to UTF-8 with the C library's iconv(3), the tables every Linux
/// machine already has (glibc's gconv modules).
///
/// Undecodable bytes become U+FFFD and decoding resumes after them, as the WHATWG decoders do
/// in "replacement" mode; the count is reported so the caller can warn.
final class IconvDecoder {
    private let handle: iconv_t

    /// nil when this machine's iconv does not know `encoding` (an iconv name such as `CP1256`).
    init?(from encoding: String) {
        // "On error, iconv_open() returns (iconv_t) -1 and sets errno." – iconv_open(3)
        guard let handle = iconv_open("UTF-8", encoding), handle != UnsafeMutableRawPointer(bitPattern: -1) else {
            return nil
        }
        self.handle = handle
    }

    deinit { iconv_close(handle) }

    /// `bytes` as UTF-8, and how many input bytes could not be decoded.
    func decode(_ bytes: [UInt8]) -> (utf8: [UInt8], replaced: Int) {
        guard !bytes.isEmpty else { return ([], 0) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        var replaced = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inputBuffer in
            var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inputBuffer.baseAddress!)
                .assumingMemoryBound(to: CChar.self)
            var inLeft = inputBuffer.count
            // Resets the conversion state (stateful encodings such as ISO-2022-JP).
            _ = iconv(handle, nil, nil, nil, nil)
            var flushing = false
            while true {
                var outcome = 0
                var error: Int32 = 0
                chunk.withUnsafeMutableBufferPointer { outBuffer in
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuffer.count
                    // "The iconv() function returns the number of characters converted in a nonreversible
                    // way during this call; … In case of error, it sets errno and returns (size_t) -1."
                    // With a NULL inbuf it writes the shift sequence that ends a stateful text. – iconv(3)
                    outcome = flushing
                        ? iconv(handle, nil, nil, &outPointer, &outLeft)
                        : iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                    error = errno
                    output.append(contentsOf: outBuffer[0..<(outBuffer.count - outLeft)])
                }
                if outcome != -1 {
                    if flushing { return }
                    flushing = true
                    continue
                }
                switch error {
                case E2BIG:
                    continue
                case EILSEQ, EINVAL:
                    // EILSEQ: an invalid sequence; EINVAL: a sequence cut off by the end of the input.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    replaced += 1
                    inPointer = inPointer.map { $0 + 1 }
                    inLeft -= 1
                    if inLeft == 0 { flushing = true }
                default:
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    replaced += inLeft
                    return
                }
            }
        }
        return (output, replaced)
    }
}
