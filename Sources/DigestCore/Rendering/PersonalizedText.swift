/// Text rendered once with placeholders, split so each reader's copy is a splice of byte
/// runs and values: the cheap substitution that keeps per-message work out of the templates.
struct PersonalizedText: Sendable {
    /// The per-reader values a rendered digest can hold.
    enum Field: Int, CaseIterable, Sendable {
        case name
        case email
        case unsubscribeURL
        case preferencesURL
    }

    enum Segment: Sendable {
        case literal([UInt8])
        case field(Field)
    }

    let segments: [Segment]
    /// Bytes of literal text, to reserve capacity once.
    let literalCount: Int

    /// Placeholders are private-use characters around a per-process random nonce, so no
    /// title or summary from the database can forge one.
    static let placeholders: [Field: String] = {
        let nonce = String(UInt64.random(in: .min ... .max), radix: 36)
        return Dictionary(uniqueKeysWithValues: Field.allCases.map { ($0, "\u{E000}\($0.rawValue).\(nonce)\u{E001}") })
    }()

    static func placeholder(_ field: Field) -> String { placeholders[field]! }

    init(_ rendered: String) {
        var segments: [Segment] = []
        var literal: [UInt8] = []
        var remaining = rendered[...]
        let byPlaceholder = Dictionary(uniqueKeysWithValues: Self.placeholders.map { ($1, $0) })
        while let start = remaining.firstIndex(of: "\u{E000}") {
            literal += remaining[..<start].utf8
            guard let end = remaining[start...].firstIndex(of: "\u{E001}"),
                let field = byPlaceholder[String(remaining[start...end])]
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
    }

    /// The text with each field replaced by `values[field]` (already escaped for the format).
    func fill(_ values: [Field: String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(literalCount + 256)
        for segment in segments {
            switch segment {
            case .literal(let literal): bytes += literal
            case .field(let field): bytes += (values[field] ?? "").utf8
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
