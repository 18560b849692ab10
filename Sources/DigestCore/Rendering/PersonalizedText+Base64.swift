extension PersonalizedText {
    /// The base64 body prepared once per rendered digest, so that each reader's copy is mostly
    /// copied characters (the bodies of Arabic, Greek or Cyrillic editions go out in base64).
    ///
    /// Base64 encodes groups of three bytes, and where a literal run's groups begin depends on the
    /// length of the reader's values before it. So each literal is canonicalized (CRLF line ends) and
    /// encoded here for each of the three places it can start in a group: after the 0, 1 or 2 bytes it
    /// takes to complete the group already begun, the rest is whole groups. Per reader only those few
    /// bytes, the values and a literal's last 0–2 bytes are encoded (so of the literal itself only its
    /// first and last two bytes are kept), and the lines of 76 characters are cut while copying. The
    /// result is byte for byte the base64 of the filled and canonicalized text.
    struct Base64Form: Sendable {
        /// A piece refers to ranges of the two stores, so a reader's copy walks them without
        /// retaining an array per piece.
        enum Piece: Sendable {
            /// A literal run of `count` bytes with CRLF line ends; `edges` in `bytes` holds its first two
            /// and last two bytes (the whole run when it is shorter than 5), and its base64 characters
            /// start in `characters` at the offsets for skipping 0, 1 or 2 bytes (only the whole groups
            /// that follow; none when the run is shorter than 5).
            case literal(count: Int, edges: Range<Int>, characters: (Int, Int, Int))
            case field(Field)
        }

        /// Runs shorter than this are encoded whole for each reader.
        private static let shortRun = 5

        let pieces: [Piece]
        /// The bytes each reader's copy encodes of the literal runs: the edges of each, one after another.
        private let bytes: [UInt8]
        /// Each literal's three encodings, one after another.
        private let characters: [UInt8]
        /// What it keeps, in bytes.
        var keptBytes: Int { bytes.count + characters.count }

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
                    let start = bytes.count
                    if canonical.count < Self.shortRun {
                        bytes += canonical
                    } else {
                        bytes += canonical.prefix(2) + canonical.suffix(2)
                        canonical.withUnsafeBufferPointer { canonical in
                            for skip in 0..<3 {
                                starts[skip] = characters.count
                                let whole = (canonical.count - skip) / 3 * 3
                                let groups = canonical[skip..<skip + whole]
                                characters += Base64Lines.characters(of: .init(rebasing: groups))
                            }
                        }
                    }
                    let offsets = (starts[0], starts[1], starts[2])
                    pieces.append(.literal(count: canonical.count, edges: start..<bytes.count, characters: offsets))
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
                        case .literal(let count, let edges, let starts):
                            guard count >= Self.shortRun else {
                                lines.append(bytes: .init(rebasing: bytes[edges]), to: &message)
                                continue
                            }
                            // The 0–2 bytes that complete the group begun before this run, its whole groups
                            // from there (encoded once), and the 0–2 bytes left after them.
                            let skip = (3 - lines.carried) % 3
                            let left = (count - skip) % 3
                            let first = skip == 0 ? starts.0 : skip == 1 ? starts.1 : starts.2
                            let encoded = first..<first + (count - skip) / 3 * 4
                            let (head, end) = (edges.lowerBound, edges.upperBound)
                            lines.append(bytes: .init(rebasing: bytes[head..<head + skip]), to: &message)
                            lines.append(characters: .init(rebasing: characters[encoded]), to: &message)
                            lines.append(bytes: .init(rebasing: bytes[end - left..<end]), to: &message)
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
