import Foundation

extension Configuration.Mail {
    /// The configured transport: SMTP through libcurl when `transport` is `smtp`, otherwise the Maildir
    /// at `maildir` (the embedded default). Reads the SMTP password from the environment variable named
    /// by `smtp.passwordEnv`; a missing variable is an error that names it.
    public func makeTransport(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(MailTransportError) -> any MailTransport
    {
        switch transport {
        case .maildir:
            return try MaildirTransport(path: maildir)
        case .smtp:
            guard let smtp else {
                throw MailTransportError(.smtpNotConfigured, "mail.transport is \"smtp\" but mail.smtp is missing")
            }
            return try SMTPTransport(settings: smtp, environment: environment)
        }
    }
}
