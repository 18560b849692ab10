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
        enum Piece: Sendable {
            /// A literal run with CRLF line ends, and its base64 characters after skipping 0, 1 or 2
            /// bytes (only the whole groups that follow; empty when the run is shorter).
            case literal(canonical: [UInt8], characters: [[UInt8]])
            case field(Field)
        }

        let pieces: [Piece]

        /// Nil when the pieces cannot be canonicalized one at a time: a literal ending in CR
        /// followed by a field (a value starting with LF would make them one line end).
        init?(_ segments: [Segment]) {
            var pieces: [Piece] = []
            for (index, segment) in segments.enumerated() {
                switch segment {
                case .field(let field):
                    pieces.append(.field(field))
                case .literal(let bytes):
                    if bytes.last == 0x0D && index + 1 < segments.count { return nil }
                    let canonical = bytes.withUnsafeBufferPointer(TransferEncoding.canonicalLineEnds)
                    let characters = canonical.withUnsafeBufferPointer { canonical in
                        (0..<3).map { skip -> [UInt8] in
                            guard skip <= canonical.count else { return [] }
                            let whole = (canonical.count - skip) / 3 * 3
                            return Base64Lines.characters(of: UnsafeBufferPointer(rebasing: canonical[skip..<skip + whole]))
                        }
                    }
                    pieces.append(.literal(canonical: canonical, characters: characters))
                }
            }
            self.pieces = pieces
        }

        /// Whether `append(values, to:)` writes the encoding of the filled text: values holding no
        /// line end, which would have to be canonicalized together with the text around them.
        static func canSplice(_ values: [Field: String]) -> Bool {
            !values.values.contains { value in value.utf8.contains { $0 == 0x0D || $0 == 0x0A } }
        }

        /// Appends the base64 lines of the text filled with `values` (which `canSplice`).
        func append(_ values: [Field: String], to message: inout [UInt8]) {
            var lines = Base64Lines()
            for piece in pieces {
                switch piece {
                case .field(let field):
                    guard var value = values[field] else { continue }
                    value.withUTF8 { lines.append(bytes: $0, to: &message) }
                case .literal(let canonical, let characters):
                    canonical.withUnsafeBufferPointer { canonical in
                        // The bytes that complete the group begun before this run.
                        let skip = (3 - lines.carried) % 3
                        guard canonical.count >= skip + 3 else {
                            lines.append(bytes: canonical, to: &message)
                            return
                        }
                        lines.append(bytes: UnsafeBufferPointer(rebasing: canonical[..<skip]), to: &message)
                        lines.append(characters: characters[skip], to: &message)
                        let tail = skip + characters[skip].count / 4 * 3
                        lines.append(bytes: UnsafeBufferPointer(rebasing: canonical[tail...]), to: &message)
                    }
                }
            }
            lines.finish(to: &message)
        }
    }
}
