/// Why a transport could not be set up. Failures of single messages are `SendOutcome`s instead.
public struct MailTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable kinds of failure, for tests and callers that branch on them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingPassword, smtpNotConfigured, maildirUnavailable, connectionSetup
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// The environment variable named by `mail.smtp.passwordEnv` is not set (or no variable is named).
        public static let missingPassword = Code(.missingPassword)
        /// `mail.transport` is `smtp` but there is no `mail.smtp` object.
        public static let smtpNotConfigured = Code(.smtpNotConfigured)
        /// The Maildir folders cannot be created or written.
        public static let maildirUnavailable = Code(.maildirUnavailable)
        /// libcurl refused an option while a connection was being prepared.
        public static let connectionSetup = Code(.connectionSetup)
    }

    public var code: Code
    /// Worded for people: what failed and what to change.
    public var message: String
    public var description: String { message }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
