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
            var settings = smtp
            settings.url = smtpURL
            return try SMTPTransport(settings: settings, environment: environment)
        }
    }

    /// The name sent in EHLO: `heloName`, else the domain of `from` (a bare host name is what
    /// libcurl would send, and receivers score a non-domain EHLO name).
    public var effectiveHeloName: String {
        heloName ?? (try? Mailbox(parsing: from))?.address.asciiDomain ?? "localhost"
    }

    /// `smtp.url` with the EHLO name as its path, unless the URL already names one.
    ///
    /// libcurl sends the URL's path as the EHLO name, the local host name when there is none
    /// (https://curl.se/libcurl/c/CURLOPT_URL.html, SMTP; lib/smtp.c: "URL decode the path and use it
    /// as the domain in our EHLO").
    var smtpURL: String {
        guard let url = smtp?.url else { return "" }
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(of: "/"), rest.index(after: slash) < rest.endIndex { return url }
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        return "\(base)/\(effectiveHeloName)"
    }
}
