import Foundation

extension Configuration {
    /// The environment variable naming the config file when `--config` is not given.
    public static let environmentVariable = "DIGEST_CONFIG"

    /// Which file to read: `explicit` (from `--config`), else `$DIGEST_CONFIG`, else `./config.json`.
    public static func resolvePath(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return "config.json"
    }

    /// Reads and validates the file at `path`.
    ///
    /// Relative paths inside the file resolve against the file's own folder, so the same file
    /// works from cron, from `make`, or from any working directory.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "cannot be read" : "does not exist"
            throw ConfigurationError(
                file: path, key: "",
                message: "the configuration file \(reason) (give one with --config or $\(environmentVariable); "
                    + "config.example.json is a working start)")
        }
        return try parse(data, file: path, folder: url.deletingLastPathComponent().path)
    }

    /// Validates configuration JSON; `folder` anchors relative paths.
    public static func parse(_ data: Data, file: String, folder: String) throws(ConfigurationError) -> Configuration {
        do {
            return try ConfigurationParser(file: file, folder: folder).parse(data)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(file: file, key: "", message: "\(error)")
        }
    }
}

private struct ConfigurationParser {
    let file: String
    let folder: String

    func fail(_ key: String, _ message: String) -> any Error {
        ConfigurationError(file: file, key: key, message: message)
    }

    func parse(_ data: Data) throws -> Configuration {
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw ConfigurationError(file: file, key: "", message: "not valid JSON: \(error.message)")
        }
        var root = try JSONObjectReader(json, path: "", fail: fail)
        guard var siteReader = try root.object("site") else { throw fail("site", "is required (an object)") }
        let site = try parseSite(&siteReader)
        let databaseText = try root.requiredString("database")
        let database = PostgresSettings.isURL(databaseText) ? databaseText : resolve(databaseText)
        if PostgresSettings.isURL(databaseText) {
            do {
                _ = try PostgresSettings(url: databaseText, password: nil)
            } catch {
                throw fail("database", "\(error)")
            }
        }
        let databasePasswordEnv = try root.string("databasePasswordEnv")
        var sendReader = try root.object("send") ?? JSONObjectReader(.object([:]), path: "send", fail: fail)
        let send = Configuration.Send(leaseSeconds: try sendReader.integer("leaseSeconds", in: 2...3600) ?? 60)
        try sendReader.finish()
        var privacyReader = try root.object("privacy") ?? JSONObjectReader(.object([:]), path: "privacy", fail: fail)
        let privacy = Configuration.Privacy(
            clickCounting: try privacyReader.choice("clickCounting", as: Configuration.ClickCounting.self) ?? .aggregate)
        try privacyReader.finish()
        let templates = resolve(try root.string("templates") ?? "templates")
        var digestReader = try root.object("digest") ?? JSONObjectReader(.object([:]), path: "digest", fail: fail)
        let digest = try parseDigest(&digestReader, languages: site.languages)
        guard var mailReader = try root.object("mail") else { throw fail("mail", "is required (an object)") }
        let mail = try parseMail(&mailReader)
        var webReader = try root.object("web") ?? JSONObjectReader(.object([:]), path: "web", fail: fail)
        let web = try parseWeb(&webReader)
        let feeds = try parseFeeds(try root.array("feeds") ?? [])
        try root.finish()
        return Configuration(
            file: file, site: site, database: database, templates: templates, digest: digest, mail: mail, web: web,
            feeds: feeds, databasePasswordEnv: databasePasswordEnv, send: send, privacy: privacy)
    }

    private func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }

    private func parseSite(_ reader: inout JSONObjectReader) throws -> Configuration.Site {
        let name = try reader.requiredString("name")
        let url = try reader.requiredString("url")
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), URL(string: url)?.host != nil else {
            throw reader.error("url", "expected an http(s) URL such as \"https://news.example\", found \"\(url)\"")
        }
        let zoneName = try reader.string("timeZone") ?? "UTC"
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw reader.error("timeZone", "expected an IANA time zone such as \"Asia/Amman\", found \"\(zoneName)\"")
        }
        let explicitLanguage = try reader.string("language")
        var languages: [String]?
        if let values = try reader.array("languages") {
            languages = try values.enumerated().map { index, value in
                guard case .string(let code) = value, Self.isLanguageCode(code) else {
                    throw reader.error(
                        "languages[\(index)]", "expected a language code such as \"en\" or \"ar\" (a catalog "
                            + "templates/lang/CODE.txt), found \(Self.describe(value))")
                }
                return code
            }
            if languages!.isEmpty { throw reader.error("languages", "expected at least one language code, such as [\"en\"]") }
            if let repeated = languages!.enumerated().first(where: { languages![..<$0.offset].contains($0.element) }) {
                throw reader.error("languages[\(repeated.offset)]", "\"\(repeated.element)\" is already in the list")
            }
        }
        let language = explicitLanguage ?? languages?.first ?? "en"
        if let explicitLanguage, let languages, languages.first != explicitLanguage {
            throw reader.error(
                "language", "\"\(explicitLanguage)\" must be the first of site.languages (the site's own), which is \"\(languages[0])\"")
        }
        if !Self.isLanguageCode(language) {
            throw reader.error("language", "expected a language code such as \"en\" or \"ar\", found \"\(language)\"")
        }
        let explicitDirection = try reader.string("direction")
        if let direction = explicitDirection, direction != "ltr" && direction != "rtl" {
            throw reader.error("direction", "expected \"ltr\" or \"rtl\", found \"\(direction)\"")
        }
        try reader.finish()
        return .init(
            name: name, url: url, timeZone: timeZone, language: language,
            direction: explicitDirection ?? (Language.rightToLeft.contains(String(language.prefix(2))) ? "rtl" : "ltr"),
            languages: languages, explicitDirection: explicitDirection)
    }

    private static func describe(_ value: JSONValue) -> String {
        if case .string(let text) = value { "\"\(text)\"" } else { value.typeName }
    }

    /// A BCP 47 tag as the catalogs are named: letters, digits and hyphens (`en`, `ar`, `pt-BR`).
    static func isLanguageCode(_ code: String) -> Bool {
        (2...35).contains(code.count) && code.first!.isLetter
            && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// `sections[].title`: one string for every language, or one per language (`{"en": …, "ar": …}`), which
    /// must then hold the site's language.
    private func parseSectionTitle(
        _ section: inout JSONObjectReader, languages: [String]
    ) throws -> (title: String, titles: [String: String]) {
        guard let value = section.value("title") else { throw section.error("title", "is required (a string, or {\"en\": …})") }
        switch value {
        case .string(let title):
            if title.trimmingCharacters(in: .whitespaces).isEmpty { throw section.error("title", "expected a non-empty string") }
            return (title, [:])
        case .object(let object):
            var titles: [String: String] = [:]
            for (code, text) in object.sorted(by: { $0.key < $1.key }) {
                guard languages.contains(code) else {
                    throw section.error(
                        "title.\(code)", "\"\(code)\" is not one of site.languages (\(languages.joined(separator: ", ")))")
                }
                guard case .string(let title) = text, !title.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw section.error("title.\(code)", "expected a non-empty string, found \(text.typeName)")
                }
                titles[code] = title
            }
            guard let siteTitle = titles[languages[0]] else {
                throw section.error("title", "needs a title in the site's language, \"\(languages[0])\" (the others fall back to it)")
            }
            return (siteTitle, titles)
        default:
            throw section.error("title", "expected a string or an object of titles by language ({\"en\": …, \"ar\": …}), found \(value.typeName)")
        }
    }

    private func parseDigest(_ reader: inout JSONObjectReader, languages: [String]) throws -> Configuration.Digest {
        let sendHour = try reader.integer("sendHour", in: 0...23) ?? 6
        let windowHours = try reader.integer("windowHours", in: 1...720) ?? 24
        var sections: [Configuration.Section] = []
        let sectionValues =
            try reader.array("sections") ?? [
                .object(["kind": .string("story"), "title": .string("Top stories"), "count": .number(10)]),
                .object(["kind": .string("post"), "title": .string("Blog posts"), "count": .number(5)]),
            ]
        if sectionValues.isEmpty { throw reader.error("sections", "expected at least one section") }
        for (index, value) in sectionValues.enumerated() {
            var section = try JSONObjectReader(value, path: reader.keyPath("sections[\(index)]"), fail: fail)
            guard let kind = try section.choice("kind", as: ItemKind.self) else {
                throw section.error("kind", "is required (\"story\" or \"post\")")
            }
            if sections.contains(where: { $0.kind == kind }) {
                throw section.error("kind", "\"\(kind.rawValue)\" already has a section")
            }
            let (title, titles) = try parseSectionTitle(&section, languages: languages)
            let count = try section.integer("count", in: 1...100) ?? 10
            try section.finish()
            sections.append(.init(kind: kind, title: title, count: count, titles: titles))
        }
        let minVotes = try reader.integer("minVotes", in: 0...Int(Int32.max)) ?? 0
        let skipWhenEmpty = try reader.bool("skipWhenEmpty") ?? true
        let summaryLimit = try reader.integer("summaryLimit", in: 0...5000) ?? 320
        let digestVoteWeight = try reader.number("digestVoteWeight", in: 0...1000) ?? 1
        try reader.finish()
        return .init(
            sendHour: sendHour, windowHours: windowHours, sections: sections, minVotes: minVotes,
            skipWhenEmpty: skipWhenEmpty, summaryLimit: summaryLimit, digestVoteWeight: digestVoteWeight)
    }

    private func parseMail(_ reader: inout JSONObjectReader) throws -> Configuration.Mail {
        let from = try reader.requiredString("from")
        do {
            _ = try Mailbox(parsing: from)
        } catch {
            throw reader.error("from", "expected a mailbox such as \"News <digest@news.example>\": \(error)")
        }
        let replyTo = try reader.string("replyTo")
        if let replyTo {
            do { _ = try Mailbox(parsing: replyTo) } catch {
                throw reader.error("replyTo", "expected a mailbox: \(error)")
            }
        }
        let chosenTransport = try reader.choice("transport", as: Configuration.Transport.self)
        let maildir = resolve(try reader.string("maildir") ?? "var/outbox")
        let unsubscribeMailto = try reader.string("unsubscribeMailto")
        if let unsubscribeMailto, (try? EmailAddress(unsubscribeMailto)) == nil {
            throw reader.error("unsubscribeMailto", "expected an email address, found \"\(unsubscribeMailto)\"")
        }
        var smtp: Configuration.SMTP?
        if var smtpReader = try reader.object("smtp") {
            smtp = try parseSMTP(&smtpReader)
        }
        // Without `mail.transport`: SMTP when `mail.smtp` names a server, else the Maildir (the embedded default).
        let transport = chosenTransport ?? (smtp == nil ? .maildir : .smtp)
        if transport == .smtp && smtp == nil {
            throw reader.error("smtp", "is required when mail.transport is \"smtp\"")
        }
        let dkim = try parseDKIM(try reader.array("dkim") ?? [], path: reader.keyPath("dkim"))
        let bounceAddress = try subaddressBase(&reader, "bounceAddress", example: "bounces@news.example")
        let replyAddress = try subaddressBase(&reader, "replyAddress", example: "reply@news.example")
        var trustedAuthservIds: [String] = []
        for (index, value) in (try reader.array("trustedAuthservIds") ?? []).enumerated() {
            guard case .string(let id) = value, !id.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw reader.error(
                    "trustedAuthservIds[\(index)]",
                    "expected the authserv-id of a receiving server (the first word of its Authentication-Results)")
            }
            trustedAuthservIds.append(id.trimmingCharacters(in: .whitespaces).lowercased())
        }
        let heloName = try reader.string("heloName").flatMap { $0.isEmpty ? nil : $0 }
        if let heloName, !Self.isHostName(heloName) {
            throw reader.error("heloName", "expected a domain name such as \"mail.news.example\", found \"\(heloName)\"")
        }
        try reader.finish()
        var mail = Configuration.Mail(
            from: from, replyTo: replyTo, transport: transport, maildir: maildir,
            unsubscribeMailto: unsubscribeMailto, smtp: smtp)
        mail.dkim = dkim
        mail.bounceAddress = bounceAddress
        mail.replyAddress = replyAddress
        mail.trustedAuthservIds = trustedAuthservIds
        mail.heloName = heloName
        return mail
    }

    /// An address that gets a token per message after a "+" (`mail.bounceAddress`, `mail.replyAddress`); nil when
    /// the key is absent or empty.
    private func subaddressBase(_ reader: inout JSONObjectReader, _ key: String, example: String) throws -> EmailAddress? {
        guard let text = try reader.string(key), !text.isEmpty else { return nil }
        guard let address = try? EmailAddress(text) else {
            throw reader.error(key, "expected an address such as \"\(example)\", found \"\(text)\"")
        }
        if text.contains("+") {
            throw reader.error(key, "must not contain \"+\" (it is added with a token per message), found \"\(text)\"")
        }
        return address
    }

    /// Letters, digits, hyphens and dots, as in a host name (RFC 1123); ASCII only.
    static func isHostName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { $0 == 0x2D || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        }
    }

    private func parseDKIM(_ values: [JSONValue], path: String) throws -> [Configuration.DKIM] {
        var entries: [Configuration.DKIM] = []
        for (index, value) in values.enumerated() {
            var reader = try JSONObjectReader(value, path: "\(path)[\(index)]", fail: fail)
            let domain = try reader.requiredString("domain")
            guard Self.isHostName(domain), domain.contains(".") else {
                throw reader.error("domain", "expected the signing domain such as \"news.example\", found \"\(domain)\"")
            }
            let selector = try reader.requiredString("selector")
            guard Self.isHostName(selector) else {
                throw reader.error("selector", "expected a selector such as \"2026a\" (letters, digits, - and .), found \"\(selector)\"")
            }
            let file = resolve(try reader.requiredString("privateKeyFile"))
            if !FileManager.default.isReadableFile(atPath: file) {
                throw reader.error("privateKeyFile", "expected a readable PEM private key, but \(file) cannot be read")
            }
            if entries.contains(where: { $0.domain == domain && $0.selector == selector }) {
                throw reader.error("selector", "\"\(selector)\" is already used for \(domain)")
            }
            try reader.finish()
            entries.append(.init(domain: domain, selector: selector, privateKeyFile: file))
        }
        return entries
    }

    private func parseSMTP(_ reader: inout JSONObjectReader) throws -> Configuration.SMTP {
        let url = try reader.requiredString("url")
        guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://"), URL(string: url)?.host != nil else {
            throw reader.error("url", "expected smtp://HOST[:PORT] or smtps://HOST[:PORT], found \"\(url)\"")
        }
        let tls = try reader.choice("tls", as: Configuration.TLSMode.self) ?? Configuration.SMTP.defaultTLS
        if url.hasPrefix("smtps://") && tls == .off {
            throw reader.error("tls", "cannot be \"off\" with an smtps:// URL (implicit TLS)")
        }
        let username = try reader.string("username").flatMap { $0.isEmpty ? nil : $0 }
        let passwordEnv = try reader.string("passwordEnv").flatMap { $0.isEmpty ? nil : $0 }
        if let passwordEnv, passwordEnv.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw reader.error("passwordEnv", "expected the NAME of an environment variable, found \"\(passwordEnv)\"")
        }
        let connections = try reader.integer("connections", in: 1...64) ?? Configuration.SMTP.defaultConnections
        let maxPerSecond = try reader.number("maxPerSecond", in: 0...1_000_000) ?? 0
        let timeoutSeconds = try reader.number("timeoutSeconds", in: 0.1...3600) ?? Configuration.SMTP.defaultTimeoutSeconds
        let caFile = try reader.string("caFile").flatMap { $0.isEmpty ? nil : resolve($0) }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw reader.error("caFile", "expected a readable PEM file, but \(caFile) cannot be read")
        }
        let maxAttempts = try reader.integer("maxAttempts", in: 1...20) ?? Configuration.SMTP.defaultMaxAttempts
        try reader.finish()
        return .init(
            url: url, tls: tls, username: username, passwordEnv: passwordEnv, connections: connections,
            maxPerSecond: maxPerSecond, timeoutSeconds: timeoutSeconds, caFile: caFile, maxAttempts: maxAttempts)
    }

    private func parseWeb(_ reader: inout JSONObjectReader) throws -> Configuration.Web {
        let host = try reader.string("host") ?? "127.0.0.1"
        let port = try reader.integer("port", in: 1...65535) ?? 8080
        let baseURL = try reader.string("baseURL") ?? "http://\(host):\(port)"
        guard baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://"), URL(string: baseURL)?.host != nil else {
            throw reader.error("baseURL", "expected the public http(s) URL of `digest serve`, found \"\(baseURL)\"")
        }
        let secretEnv = try reader.string("secretEnv") ?? "DIGEST_SECRET"
        let adminTokenEnv = try reader.string("adminTokenEnv") ?? "DIGEST_ADMIN_TOKEN"
        var trustedProxies: [IPNetwork] = []
        for (index, value) in (try reader.array("trustedProxies") ?? []).enumerated() {
            guard case .string(let text) = value, let network = IPNetwork(text) else {
                let found = if case .string(let text) = value { "\"\(text)\"" } else { "a value that is not a string" }
                throw reader.error(
                    "trustedProxies[\(index)]",
                    "expected an IP address or CIDR block such as \"127.0.0.1\" or \"10.0.0.0/8\", found \(found)")
            }
            trustedProxies.append(network)
        }
        let adminListen = try parseListen(try reader.string("adminListen"), reader: reader)
        // From a quarter of an hour (shorter would sign an admin out while reading a page) to 30 days.
        let adminSessionHours = try reader.number("adminSessionHours", in: 0.25...720) ?? 12
        let archive = try reader.choice("archive", as: Configuration.Archive.self) ?? .public
        let databaseTimeout = try reader.number("databaseTimeoutSeconds", in: 0.1...300) ?? 5
        let requestTimeout = try reader.number("requestTimeoutSeconds", in: 1...3600) ?? 30
        let idleTimeout = try reader.number("idleTimeoutSeconds", in: 1...3600) ?? 5
        let maxConnections = try reader.integer("maxConnections", in: 1...1_000_000) ?? 1024
        try reader.finish()
        return .init(
            host: host, port: port, baseURL: String(baseURL.trimmingSuffix("/")), secretEnv: secretEnv,
            adminTokenEnv: adminTokenEnv, trustedProxies: trustedProxies, adminListen: adminListen,
            adminSessionHours: adminSessionHours, archive: archive, databaseTimeoutSeconds: databaseTimeout,
            requestTimeoutSeconds: requestTimeout,
            idleTimeoutSeconds: idleTimeout, maxConnections: maxConnections)
    }

    /// `web.adminListen`: `HOST:PORT` with a loopback HOST (`127.0.0.1`, `[::1]`, `localhost`); empty
    /// or absent: no admin listener. Anything else is refused, since that listener needs no token.
    private func parseListen(_ text: String?, reader: JSONObjectReader) throws -> Configuration.Listen? {
        guard let text, !text.isEmpty else { return nil }
        let expected = "expected \"127.0.0.1:PORT\" (a loopback address and a port) or \"\" for none"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw reader.error("adminListen", "\(expected), found \"\(text)\"") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let loopback = host == "localhost" || IPNetwork("127.0.0.0/8")!.contains(host) || host == "::1"
        guard loopback else {
            throw reader.error(
                "adminListen", "\(expected), found \"\(text)\": the admin listener asks no token, so it listens on loopback only")
        }
        return .init(host: host, port: port)
    }

    private func parseFeeds(_ values: [JSONValue]) throws -> [Configuration.Feed] {
        try values.enumerated().map { index, value in
            var reader = try JSONObjectReader(value, path: "feeds[\(index)]", fail: fail)
            let url = try reader.requiredString("url")
            let kind = try reader.choice("kind", as: ItemKind.self) ?? .story
            let votesElement = try reader.string("votesElement")
            try reader.finish()
            let resolved = url.contains("://") ? url : "file://" + resolve(url)
            return .init(url: resolved, kind: kind, votesElement: votesElement)
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: Character) -> Substring {
        var result = self[...]
        while result.last == suffix { result = result.dropLast() }
        return result
    }
}
