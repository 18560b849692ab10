import Foundation

extension Configuration {
    /// One line of `report(environment:)`: a key as the configuration file spells it and its value as
    /// loaded (defaults filled in).
    public struct ReportLine: Sendable, Equatable {
        public var key: String
        public var value: String
    }

    /// The configuration as loaded, for the admin console's Health page: every key with its value,
    /// defaults filled in. A secret never appears: the variables that hold one are named with "set" or
    /// "not set", and a database URL loses its password.
    public func report(environment: [String: String]) -> [ReportLine] {
        func secret(_ variable: String?) -> String {
            guard let variable else { return "none" }
            let value = environment[variable] ?? ""
            return "\(variable) (\(value.isEmpty ? "not set" : "set"))"
        }
        func text(_ value: String?) -> String { value ?? "none" }
        var lines: [(String, String)] = [
            ("file", file),
            ("database", PostgresSettings.isURL(database) ? PostgresSettings.redacted(database) : database),
            ("databasePasswordEnv", databasePasswordEnv.map { secret($0) } ?? "none"),
            ("templates", templates),
            ("site.name", site.name), ("site.url", site.url), ("site.timeZone", site.timeZone.identifier),
            ("site.language", site.language), ("site.direction", site.direction),
            ("digest.sendHour", "\(digest.sendHour)"), ("digest.windowHours", "\(digest.windowHours)"),
            ("digest.sections", digest.sections.map { "\($0.kind.rawValue) “\($0.title)” × \($0.count)" }.joined(separator: ", ")),
            ("digest.minVotes", "\(digest.minVotes)"), ("digest.skipWhenEmpty", "\(digest.skipWhenEmpty)"),
            ("digest.summaryLimit", "\(digest.summaryLimit)"),
            ("digest.digestVoteWeight", "\(digest.digestVoteWeight)"),
            ("mail.from", mail.from), ("mail.replyTo", text(mail.replyTo)), ("mail.transport", mail.transport.rawValue),
        ]
        if mail.transport == .maildir { lines.append(("mail.maildir", mail.maildir)) }
        if let smtp = mail.smtp {
            lines += [
                ("mail.smtp.url", smtp.url), ("mail.smtp.tls", smtp.tls.rawValue), ("mail.smtp.username", text(smtp.username)),
                ("mail.smtp.passwordEnv", secret(smtp.passwordEnv)), ("mail.smtp.connections", "\(smtp.connections)"),
                ("mail.smtp.maxPerSecond", "\(smtp.maxPerSecond)"), ("mail.smtp.timeoutSeconds", "\(smtp.timeoutSeconds)"),
                ("mail.smtp.caFile", text(smtp.caFile)), ("mail.smtp.maxAttempts", "\(smtp.maxAttempts)"),
            ]
        }
        lines += [
            ("mail.unsubscribeMailto", text(mail.unsubscribeMailto)),
            ("mail.bounceAddress", text(mail.bounceAddress?.description)),
            ("mail.replyAddress", text(mail.replyAddress?.description)),
            ("mail.trustedAuthservIds", mail.trustedAuthservIds.isEmpty ? "none" : mail.trustedAuthservIds.joined(separator: ", ")), ("mail.heloName", text(mail.heloName)),
            ("mail.dkim", mail.dkim.isEmpty ? "none" : mail.dkim.map { "\($0.selector)._domainkey.\($0.domain) (\($0.privateKeyFile))" }.joined(separator: ", ")),
            ("web.host", web.host), ("web.port", "\(web.port)"), ("web.baseURL", web.baseURL),
            ("web.secretEnv", secret(web.secretEnv)), ("web.adminTokenEnv", secret(web.adminTokenEnv)),
            ("web.trustedProxies", web.trustedProxies.isEmpty ? "none" : web.trustedProxies.map(\.description).joined(separator: ", ")),
            ("web.adminListen", web.adminListen.map { "\($0.host):\($0.port)" } ?? "none"),
            ("web.adminSessionHours", "\(web.adminSessionHours)"), ("web.archive", web.archive.rawValue),
            ("web.databaseTimeoutSeconds", "\(web.databaseTimeoutSeconds)"),
            ("web.requestTimeoutSeconds", "\(web.requestTimeoutSeconds)"),
            ("web.idleTimeoutSeconds", "\(web.idleTimeoutSeconds)"), ("web.maxConnections", "\(web.maxConnections)"),
            ("feeds", feeds.isEmpty ? "none" : feeds.map { "\($0.kind.rawValue): \($0.url)" }.joined(separator: ", ")),
            ("send.leaseSeconds", "\(send.leaseSeconds)"), ("privacy.clickCounting", privacy.clickCounting.rawValue),
        ]
        return lines.map { ReportLine(key: $0.0, value: $0.1) }
    }
}
