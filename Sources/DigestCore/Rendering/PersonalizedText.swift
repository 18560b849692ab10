/// Text rendered once with placeholders, split so each reader's copy is a splice of byte
/// runs and values: the cheap substitution that keeps per-message work out of the templates.
///
/// Its quoted-printable encoding is prepared once too (`encoded`): quoted-printable starts afresh
/// after every line end, so the lines without a field are encoded here, once per rendered digest,
/// and only the lines holding a field are encoded per reader. A text that goes out in base64 has
/// its base64 prepared once instead (`Base64Form`). Either way the result is byte for byte the
/// encoding of the filled text.
struct PersonalizedText: Sendable {
    /// The per-reader values a rendered digest can hold: the reader's name, address and links, and the vote
    /// link of each item (numbered as the digest numbers them).
    struct Field: Hashable, Sendable {
        let rawValue: Int

        static let name = Field(rawValue: 0)
        static let email = Field(rawValue: 1)
        static let unsubscribeURL = Field(rawValue: 2)
        static let preferencesURL = Field(rawValue: 3)
        /// The reader's part of a counted item link (`privacy.clickCounting: perReader`; empty otherwise).
        static let clickReader = Field(rawValue: 4)

        /// The vote link of the item numbered `number` (1-based) in the reader's digest.
        static func voteURL(_ number: Int) -> Field { Field(rawValue: 16 + number) }
    }

    enum Segment: Sendable {
        case literal([UInt8])
        case field(Field)
    }

    /// A run of the quoted-printable body: whole lines encoded once, or whole lines holding fields,
    /// encoded for each reader. Every piece starts at the beginning of a line.
    enum EncodedPiece: Sendable {
        case encoded([UInt8])
        case lines([Segment])
    }

    let segments: [Segment]
    /// Bytes of literal text, to reserve capacity once.
    let literalCount: Int
    /// The quoted-printable pieces; empty when the text goes out in base64 (they only served to choose).
    let encoded: [EncodedPiece]
    /// Fields in the text (each may repeat).
    private let fieldCount: Int
    var hasFields: Bool { fieldCount > 0 }
    /// Bytes of the pieces encoded once, plus the worst case of the literal bytes of the others.
    private let encodedReserve: Int
    /// The shorter transfer encoding for this text, judged once on its shared part (the values
    /// of a reader are a few short lines and barely move the balance).
    let transferEncoding: TransferEncoding
    /// The base64 prepared once, when that is the encoding (nil otherwise, or when the text cannot be
    /// spliced: see `Base64Form`).
    private let base64: Base64Form?
    /// Whether base64 copies are spliced from `Base64Form` (for tests).
    var splicesBase64: Bool { base64 != nil }
    /// The bytes the text keeps: its literals and what it prepared of its encoding.
    var keptBytes: Int {
        literalCount
            + encoded.reduce(0) { total, piece in
                switch piece {
                case .encoded(let bytes): total + bytes.count
                case .lines: total
                }
            } + (base64?.keptBytes ?? 0)
    }

    /// Placeholders are private-use characters around a per-process random nonce, so no
    /// title or summary from the database can forge one.
    private static let nonce = String(UInt64.random(in: .min ... .max), radix: 36)

    static func placeholder(_ field: Field) -> String { "\u{E000}\(field.rawValue).\(nonce)\u{E001}" }

    /// The field a placeholder stands for (`text` from its U+E000 to its U+E001); nil for any other text.
    private static func field(in text: Substring) -> Field? {
        let inner = text.dropFirst().dropLast()
        guard let dot = inner.firstIndex(of: "."), inner[inner.index(after: dot)...] == nonce,
            let raw = Int(inner[..<dot]), raw >= 0
        else { return nil }
        return Field(rawValue: raw)
    }

    init(_ rendered: String) {
        var segments: [Segment] = []
        var literal: [UInt8] = []
        var remaining = rendered[...]
        while let start = remaining.firstIndex(of: "\u{E000}") {
            literal += remaining[..<start].utf8
            guard let end = remaining[start...].firstIndex(of: "\u{E001}"),
                let field = Self.field(in: remaining[start...end])
            else {
                literal += remaining[start...].prefix(1).utf8
                remaining = remaining[remaining.index(after: start)...]
                continue
            }
            if !literal.isEmpty { segments.append(.literal(literal)) }
            literal = []
            segments.append(.field(field))
            remaining = remaining[remaining.index(after: end)...]
        }
        literal += remaining.utf8
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.segments = segments
        literalCount = segments.reduce(0) { if case .literal(let bytes) = $1 { $0 + bytes.count } else { $0 } }
        fieldCount = segments.reduce(0) { if case .field = $1 { $0 + 1 } else { $0 } }
        let quotedPrintable = Self.encodedPieces(segments)
        transferEncoding = Self.shorterEncoding(segments, quotedPrintable)
        // A rendered text lives in the composer's cache: only the encoding it goes out in is kept.
        encoded = transferEncoding == .quotedPrintable ? quotedPrintable : []
        base64 = transferEncoding == .base64 ? Base64Form(segments) : nil
        // (A base64 text asked for quoted-printable is encoded whole: the worst case of all its literal bytes.)
        let whole = encoded.isEmpty ? QuotedPrintable.worstCaseLength(literalCount) : 0
        encodedReserve = encoded.reduce(whole) { total, piece in
            switch piece {
            case .encoded(let bytes): total + bytes.count
            case .lines(let lines):
                total
                    + QuotedPrintable.worstCaseLength(
                        lines.reduce(0) { if case .literal(let bytes) = $1 { $0 + bytes.count } else { $0 } })
            }
        }
    }

    /// Splits `segments` into lines without fields (encoded now) and lines with fields (kept for
    /// each reader). A line ends after its LF; a CR before it stays on the same side.
    private static func encodedPieces(_ segments: [Segment]) -> [EncodedPiece] {
        var pieces: [EncodedPiece] = []
        // Complete constant lines not yet encoded, and the constant start of the current line.
        var constant: [UInt8] = []
        var openLine: [UInt8] = []
        // The lines around a field, from the start of its line to the end of the line where the last
        // field ends (nil when no field is open).
        var personal: [Segment]?
        func flushConstant() {
            if !constant.isEmpty { pieces.append(.encoded(QuotedPrintable.encode(constant))) }
            constant = []
        }
        for segment in segments {
            switch segment {
            case .field:
                if personal == nil {
                    flushConstant()
                    personal = openLine.isEmpty ? [] : [.literal(openLine)]
                    openLine = []
                }
                personal!.append(segment)
            case .literal(let bytes):
                var rest = bytes[...]
                if personal != nil {
                    guard let lineEnd = rest.firstIndex(of: 0x0A) else {
                        personal!.append(segment)
                        continue
                    }
                    personal!.append(.literal(Array(rest[...lineEnd])))
                    pieces.append(.lines(personal!))
                    personal = nil
                    rest = rest[(lineEnd + 1)...]
                }
                if let lastLineEnd = rest.lastIndex(of: 0x0A) {
                    constant += openLine
                    constant += rest[...lastLineEnd]
                    openLine = Array(rest[(lastLineEnd + 1)...])
                } else {
                    openLine += rest
                }
            }
        }
        if let personal {
            pieces.append(.lines(personal))
        } else {
            constant += openLine
            flushConstant()
        }
        return pieces
    }

    /// The text with each field replaced by `values[field]` (already escaped for the format).
    func fill(_ values: [Field: String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(literalCount + 256)
        Self.fill(segments, values, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func fill(_ segments: [Segment], _ values: [Field: String], into bytes: inout [UInt8]) {
        for segment in segments {
            switch segment {
            case .literal(let literal): bytes += literal
            case .field(let field): bytes += (values[field] ?? "").utf8
            }
        }
    }

    /// The shorter transfer encoding for text of `segments` whose quoted-printable is `encoded`.
    private static func shorterEncoding(_ segments: [Segment], _ encoded: [EncodedPiece]) -> TransferEncoding {
        var quotedPrintable = 0
        var literal: [UInt8] = []
        for piece in encoded {
            switch piece {
            case .encoded(let bytes): quotedPrintable += bytes.count
            case .lines(let segments):
                var line: [UInt8] = []
                for case .literal(let bytes) in segments { line += bytes }
                line.withUnsafeBufferPointer { quotedPrintable += QuotedPrintable.encode($0).count }
            }
        }
        for case .literal(let bytes) in segments { literal += bytes }
        let canonical = literal.withUnsafeBufferPointer { TransferEncoding.canonicalLength($0) }
        return TransferEncoding.shorter(quotedPrintableLength: quotedPrintable, canonicalLength: canonical)
    }

    /// At least the length of `append(values, encoding, to:)`'s output.
    func reserve(_ values: [Field: String], _ encoding: TransferEncoding) -> Int {
        switch encoding {
        case .quotedPrintable: return quotedPrintableReserve(values)
        case .base64:
            // Each field is at most the longest value (a digest holds a vote link per item: summing every value
            // for every field grew quadratically with the items).
            let valueBytes = Self.longest(values)
            return TransferEncoding.base64Length(2 * (literalCount + valueBytes * fieldCount))
        }
    }

    private static func longest(_ values: [Field: String]) -> Int { values.values.map(\.utf8.count).max() ?? 0 }

    /// Appends `fill(values)` in `encoding`.
    func append(_ values: [Field: String], _ encoding: TransferEncoding, to message: inout [UInt8]) {
        switch encoding {
        case .quotedPrintable: appendQuotedPrintable(values, to: &message)
        case .base64:
            if let base64, base64.append(values, to: &message) { return }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(literalCount)
            Self.fill(segments, values, into: &bytes)
            message.appendBase64(canonicalizing: bytes)
        }
    }

    /// At least the length of `appendQuotedPrintable(values, to:)`'s output.
    func quotedPrintableReserve(_ values: [Field: String]) -> Int {
        let valueBytes = Self.longest(values)
        return encodedReserve + QuotedPrintable.worstCaseLength(valueBytes) * fieldCount
    }

    /// Appends the quoted-printable encoding of `fill(values)`: the lines encoded once are copied,
    /// the lines holding fields are filled and encoded.
    func appendQuotedPrintable(_ values: [Field: String], to message: inout [UInt8]) {
        guard transferEncoding == .quotedPrintable else { return message.appendQuotedPrintable(fill(values)) }
        var line: [UInt8] = []
        for piece in encoded {
            switch piece {
            case .encoded(let bytes):
                message += bytes
            case .lines(let segments):
                line.removeAll(keepingCapacity: true)
                Self.fill(segments, values, into: &line)
                line.withUnsafeBufferPointer { message.appendQuotedPrintable($0) }
            }
        }
    }
}
