import Foundation

/// Delivers over SMTP through libcurl: `smtp://` with STARTTLS per `tls`, or implicit TLS with
/// `smtps://`, AUTH when a username is configured, peer and host verification always on.
///
/// Each connection owns one libcurl easy handle and reuses it for every message it sends, so libcurl
/// keeps one SMTP session (one TCP/TLS connection) open across messages instead of one per message.
public struct SMTPTransport: MailTransport {
    public let settings: Configuration.SMTP
    public var connections: Int { settings.connections }
    /// Read from the environment once, when the transport is made; never logged.
    private let password: String?

    /// Reads the password from the environment variable named by `settings.passwordEnv` when a
    /// username is set, and fails with an error naming that variable when it is missing.
    public init(settings: Configuration.SMTP, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(MailTransportError)
    {
        self.settings = settings
        if let username = settings.username {
            guard let variable = settings.passwordEnv else {
                throw MailTransportError(
                    .missingPassword,
                    "mail.smtp.username is \"\(username)\" but mail.smtp.passwordEnv names no environment variable "
                        + "to read the password from")
            }
            guard let value = environment[variable], !value.isEmpty else {
                throw MailTransportError(
                    .missingPassword,
                    "the SMTP password for user \"\(username)\" is read from the environment variable \(variable), "
                        + "which is not set (mail.smtp.passwordEnv)")
            }
            password = value
        } else {
            password = nil
        }
    }

    public func makeConnection() throws -> any MailConnection {
        do {
            return try SMTPConnection(settings: settings, password: password)
        } catch {
            throw MailTransportError(.connectionSetup, "cannot prepare an SMTP connection to \(settings.url): \(error)")
        }
    }
}

/// One SMTP session: a libcurl easy handle whose connection cache keeps the session open between
/// transfers. Used by one thread at a time.
final class SMTPConnection: MailConnection {
    private let easy = CurlEasy()
    private let settings: Configuration.SMTP
    private let host: String
    private(set) var isUsable = true
    private(set) var configurationProblem: String?

    init(settings: Configuration.SMTP, password: String?) throws(CurlError) {
        self.settings = settings
        host = URL(string: settings.url)?.host ?? settings.url
        try easy.set(.url, settings.url)
        // "CURLUSESSL_TRY: Try using SSL, proceed as normal otherwise. … CURLUSESSL_ALL: Require SSL for all
        // communication or fail with CURLE_USE_SSL_FAILED." — https://curl.se/libcurl/c/CURLOPT_USE_SSL.html
        // With smtps:// the whole session is TLS from the first byte, whatever this option says.
        let use: CurlEasy.TLSUse =
            switch settings.tls {
            case .required: .all
            case .optional: .tryTLS
            case .off: .none
            }
        try easy.set(.useSSL, use.rawValue)
        // Verification is never turned off: a test server gets a CA file instead.
        try easy.set(.sslVerifyPeer, true)
        // "When CURLOPT_SSL_VERIFYHOST is 2, that certificate must indicate that the server is the server to
        // which you meant to connect" — https://curl.se/libcurl/c/CURLOPT_SSL_VERIFYHOST.html
        try easy.set(.sslVerifyHost, 2)
        if let caFile = settings.caFile { try easy.set(.caInfo, caFile) }
        if let username = settings.username {
            try easy.set(.username, username)
            try easy.set(.password, password ?? "")
        }
        let milliseconds = max(1, Int((settings.timeoutSeconds * 1000).rounded()))
        try easy.set(.connectTimeoutMilliseconds, milliseconds)
        // "Pass a long as parameter containing timeout - the maximum time in milliseconds that you allow the
        // libcurl transfer operation to take." — https://curl.se/libcurl/c/CURLOPT_TIMEOUT_MS.html
        // One transfer is one message (MAIL, RCPT, DATA), so this bounds each message.
        try easy.set(.timeoutMilliseconds, milliseconds)
        // One session per connection: a handle never needs a second cached connection.
        try easy.set(.maxConnects, 1)
        try easy.set(.upload, true)
    }

    func send(_ message: MailMessage) -> SendOutcome {
        send(message, beforeEnd: { true })
    }

    func send(_ message: MailMessage, beforeEnd: () -> Bool) -> SendOutcome {
        configurationProblem = nil
        do {
            // "Pass a pointer to a null-terminated string as parameter. This should be used to specify the
            // sender's email address when sending SMTP mail with libcurl. … the address should be enclosed in
            // angle brackets" — https://curl.se/libcurl/c/CURLOPT_MAIL_FROM.html
            try easy.set(.mailFrom, "<\(message.sender.ascii)>")
            try easy.set(.mailRecipients, list: ["<\(message.recipient.ascii)>"])
            try easy.setLarge(.inFileSize, Int64(message.data.count))
        } catch {
            isUsable = false
            return .transient(reason: "cannot prepare the transfer: \(error)")
        }
        let replies = SMTPReplyCollector()
        let result = withoutActuallyEscaping(beforeEnd) { beforeEnd in
            message.data.withUnsafeBytes { bytes in
                easy.perform(upload: bytes, onHeaderLine: replies.add, beforeEnd: beforeEnd)
            }
        }
        switch result {
        case .success:
            return .sent(reply: replies.last ?? "\(easy.lastResponseCode)")
        case .failure(let error) where error.isAbortedByCallback:
            // The barrier held the end of data back: the server never took the message.
            isUsable = false
            return .transient(reason: MailConnectionText.abandoned)
        case .failure(let error):
            // After a failure libcurl closes the session with QUIT inside the same transfer, so the last
            // line is often "221 Bye"; the reply that matters is the one libcurl reports the code of.
            let code = easy.lastResponseCode
            return classify(error, reply: replies.last(withCode: code) ?? replies.last, code: code, message: message)
        }
    }

    /// Sorts a failed transfer into transient (try again, on a fresh connection) or permanent.
    private func classify(_ error: CurlError, reply: String?, code: Int, message: MailMessage) -> SendOutcome {
        let replyText = reply ?? (code > 0 ? "\(code)" : nil)
        if error.isLoginDenied {
            isUsable = false
            let text = "authentication failed for user \(settings.username ?? "(none)"): \(replyText ?? error.message)"
            configurationProblem = text
            return .permanent(reason: text)
        }
        if error.isTLSNotAvailable {
            isUsable = false
            let text =
                "STARTTLS not offered by \(host) and mail.smtp.tls is \"required\": refusing to send in clear "
                + "(\(error.message))"
            configurationProblem = text
            return .transient(reason: text)
        }
        if error.isCertificateProblem {
            isUsable = false
            let text =
                "TLS certificate of \(host) could not be verified (\(error.message)); set mail.smtp.caFile to the "
                + "CA that signed it"
            configurationProblem = text
            return .transient(reason: text)
        }
        // The server's own verdict wins when it gave one: 4xx try again, 5xx refused for good.
        // "CURLINFO_RESPONSE_CODE … The stored value is zero if no server response code has been received. …
        // also for SMTP" — https://curl.se/libcurl/c/CURLINFO_RESPONSE_CODE.html
        if (400..<500).contains(code) {
            isUsable = false
            return .transient(reason: replyText ?? "\(code)")
        }
        if (500..<600).contains(code) {
            // A refused MAIL FROM (or "530 Authentication required") is about the sender or the credentials,
            // so every message would meet it: a configuration problem, not a bad recipient. libcurl words
            // it "MAIL failed: %d" (lib/smtp.c, smtp_state_mail_resp).
            if code == 530 || error.message.contains("MAIL failed") {
                isUsable = false
                let text =
                    code == 530
                    ? "\(host) requires authentication (set mail.smtp.username and passwordEnv): \(replyText ?? "530")"
                    : "\(host) refused the sender <\(message.sender.ascii)>: \(replyText ?? "\(code)")"
                configurationProblem = text
                return .permanent(reason: text)
            }
            // The session itself is fine after a refused recipient; libcurl reconnects if it closed it.
            return .permanent(reason: replyText ?? "\(code)")
        }
        isUsable = false
        if error.isTimeout {
            return .transient(
                reason: "timed out after \(settings.timeoutSeconds)s talking to \(host): \(error.message)")
        }
        if error.isConnectFailure {
            return .transient(reason: "cannot connect to \(settings.url): \(error.message)")
        }
        // Anything else (reset, TLS handshake, an unknown libcurl error) is left for a later try rather than
        // blamed on the recipient.
        return .transient(reason: "\(error.message)" + (replyText.map { " (last reply: \($0))" } ?? ""))
    }
}

/// Keeps the complete SMTP replies of one transfer from the lines libcurl shows: "250-…" lines
/// continue a reply, "250 …" (or a bare code) ends it. Multi-line replies are joined with " / ".
/// Works on the bytes: a message sees four replies, and only a failure needs them as text.
final class SMTPReplyCollector {
    private var pending: [UInt8] = []
    private var replies: [(code: Int, text: [UInt8])] = []

    /// The last complete reply.
    var last: String? { replies.last.map { String(decoding: $0.text, as: UTF8.self) } }

    /// The last complete reply with `code` in this transfer.
    func last(withCode code: Int) -> String? {
        replies.last(where: { $0.code == code }).map { String(decoding: $0.text, as: UTF8.self) }
    }

    /// Takes one line, with or without its line end.
    func add(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, [0x0D, 0x0A, 0x20, 0x09].contains(line[end - 1]) { end -= 1 }
        guard end >= 3, line[0] &- 0x30 < 10, line[1] &- 0x30 < 10, line[2] &- 0x30 < 10 else { return }
        if !pending.isEmpty { pending += " / ".utf8 }
        pending += line[..<end]
        if end > 3 && line[3] == UInt8(ascii: "-") { return }
        let code = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
        replies.append((code, pending))
        pending = []
    }
}
