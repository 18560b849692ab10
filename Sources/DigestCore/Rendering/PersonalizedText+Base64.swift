extension PersonalizedText {
    /// The base64 body prepared once per rendered digest, so that each reader's copy is mostly
    /// copied characters (the bodies of Arabic, Greek or Cyrillic editions go out in base64).
    ///
    /// Base64 encodes groups of three bytes, and where a literal run's groups begin depends on the
    /// length of the reader's values before it. So each literal is kept in canonical form (CRLF line
    /// ends) with its characters for each of the three places it can start in a group: after the 0,
    /// 1 or 2 bytes it takes to complete the group already begun, the rest is whole groups, encoded
    /// here. Per reader only those few bytes, the values and a literal's last 0–2 bytes are encoded,
    /// and the lines of 76 characters are cut while copying. The result is byte for byte the base64
    /// of the filled and canonicalized text.
    struct Base64Form: Sendable {
        /// A piece refers to ranges of the two stores, so a reader's copy walks them without
        /// retaining an array per piece.
        enum Piece: Sendable {
            /// A literal run with CRLF line ends (`canonical` in `bytes`), and where its base64
            /// characters start in `characters` after skipping 0, 1 or 2 bytes (only the whole groups
            /// that follow; none when the run is shorter).
            case literal(canonical: Range<Int>, characters: (Int, Int, Int))
            case field(Field)
        }

        let pieces: [Piece]
        /// The literal runs in canonical form, one after another.
        private let bytes: [UInt8]
        /// Each literal's three encodings, one after another.
        private let characters: [UInt8]

        /// Nil when the pieces cannot be canonicalized one at a time: a literal ending in CR
        /// followed by a field (a value starting with LF would make them one line end).
        init?(_ segments: [Segment]) {
            var pieces: [Piece] = []
            var bytes: [UInt8] = []
            var characters: [UInt8] = []
            for (index, segment) in segments.enumerated() {
                switch segment {
                case .field(let field):
                    pieces.append(.field(field))
                case .literal(let literal):
                    if literal.last == 0x0D && index + 1 < segments.count { return nil }
                    let canonical = literal.withUnsafeBufferPointer(TransferEncoding.canonicalLineEnds)
                    var starts = [0, 0, 0]
                    canonical.withUnsafeBufferPointer { canonical in
                        for skip in 0..<3 {
                            starts[skip] = characters.count
                            guard skip <= canonical.count else { continue }
                            let whole = (canonical.count - skip) / 3 * 3
                            characters += Base64Lines.characters(of: .init(rebasing: canonical[skip..<skip + whole]))
                        }
                    }
                    let range = bytes.count..<bytes.count + canonical.count
                    pieces.append(.literal(canonical: range, characters: (starts[0], starts[1], starts[2])))
                    bytes += canonical
                }
            }
            self.pieces = pieces
            self.bytes = bytes
            self.characters = characters
        }

        /// Appends the base64 lines of the text filled with `values`; false, with `message` as it was,
        /// when a value holds a line end, which has to be canonicalized with the text around it.
        func append(_ values: [Field: String], to message: inout [UInt8]) -> Bool {
            let start = message.count
            var lines = Base64Lines()
            let spliced = bytes.withUnsafeBufferPointer { bytes in
                characters.withUnsafeBufferPointer { characters in
                    for piece in pieces {
                        switch piece {
                        case .field(let field):
                            guard var value = values[field] else { continue }
                            let plain = value.withUTF8 { value in
                                guard !value.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return false }
                                lines.append(bytes: value, to: &message)
                                return true
                            }
                            guard plain else { return false }
                        case .literal(let range, let starts):
                            // The bytes that complete the group begun before this run.
                            let skip = (3 - lines.carried) % 3
                            guard range.count >= skip + 3 else {
                                lines.append(bytes: .init(rebasing: bytes[range]), to: &message)
                                continue
                            }
                            let groups = range.lowerBound + skip, tail = groups + (range.count - skip) / 3 * 3
                            let first = skip == 0 ? starts.0 : skip == 1 ? starts.1 : starts.2
                            let encoded = first..<first + (tail - groups) / 3 * 4
                            lines.append(bytes: .init(rebasing: bytes[range.lowerBound..<groups]), to: &message)
                            lines.append(characters: .init(rebasing: characters[encoded]), to: &message)
                            lines.append(bytes: .init(rebasing: bytes[tail..<range.upperBound]), to: &message)
                        }
                    }
                    return true
                }
            }
            guard spliced else {
                message.removeSubrange(start...)
                return false
            }
            lines.finish(to: &message)
            return true
        }
    }
}
