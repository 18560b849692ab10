/// One selection rendered through the templates, not yet personalized: shared by every reader
/// who gets the same items.
struct RenderedDigest: Sendable {
    var subject: PersonalizedText
    var text: PersonalizedText
    var html: PersonalizedText
    /// The `Subject` header field, written once when the subject holds no per-reader field.
    var subjectField: [UInt8]?

    init(subject: PersonalizedText, text: PersonalizedText, html: PersonalizedText) {
        self.subject = subject
        self.text = text
        self.html = html
        subjectField = subject.hasFields ? nil : try? MessageBuilder.subjectField(subject.fill([:]))
    }

    /// The bytes its texts keep, for the composer's cache.
    var keptBytes: Int { subject.keptBytes + text.keptBytes + html.keptBytes + (subjectField?.count ?? 0) }
}

/// A digest ready for one reader: the exact subject, bodies and wire bytes.
public struct ComposedDigest: Sendable {
    public var subject: String
    /// The plain-text body (before transfer encoding).
    public var text: String { textBody.fill(textValues) }
    /// The HTML body; nil for readers who asked for plain text only.
    public var html: String? { htmlBody?.fill(htmlValues) }
    // The bodies are kept as the shared rendering and this reader's values: the message is built
    // from them directly, and most callers never ask for the texts.
    let textBody: PersonalizedText
    let textValues: [PersonalizedText.Field: String]
    let htmlBody: PersonalizedText?
    let htmlValues: [PersonalizedText.Field: String]
    public var message: MailMessage
    /// Items included, in order: recorded in the ledger as "already received".
    public var itemIDs: [Int64]
    public var isEmpty: Bool
    /// Things about the configuration worth telling the person previewing.
    public var notes: [String] = []
    /// Gmail clips messages above about 102 KB; warn before that.
    public static let sizeWarningBytes = 100 * 1024

    public var warnings: [String] {
        notes
            + (message.data.count > Self.sizeWarningBytes
                ? ["the message is \(message.data.count / 1024) KB: Gmail clips messages above about 102 KB"] : [])
    }
}
