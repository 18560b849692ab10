/// Why a message could not be built: the header field, the value as given, and what is wrong.
public struct MessageBuildError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable category, for callers that react differently to each.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidValue = "invalid value"
            case tooLong = "too long"
            case missingValue = "missing value"
        }

        private let base: Base

        /// Characters or syntax the field cannot carry (a line break in a URL, a bad Message-ID).
        public static let invalidValue = Code(base: .invalidValue)
        /// The value cannot fit on a header line of at most 998 octets.
        public static let tooLong = Code(base: .tooLong)
        /// Something the other fields require is absent (one-click unsubscribe without an https URL).
        public static let missingValue = Code(base: .missingValue)

        /// The category in words, as in "invalid value".
        public var description: String { base.rawValue }
    }

    /// The category of the problem.
    public var code: Code
    /// The header field, as in `"List-Unsubscribe"`.
    public var field: String
    /// The offending value as given (shown with controls escaped in `description`).
    public var value: String
    /// What is wrong, worded to follow the field and value.
    public var reason: String

    /// Creates an error for `field`.
    public init(_ code: Code, field: String, value: String, reason: String) {
        self.code = code
        self.field = field
        self.value = value
        self.reason = reason
    }

    /// The field, the value (controls escaped) and the reason, for logs and people.
    public var description: String { "cannot build message: \(field) \"\(value.debugEscaped)\" \(reason)" }
}
