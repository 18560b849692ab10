import Foundation

/// The whole of a DailyDigest configuration file, validated.
///
/// Paths are already resolved against the folder of the file they came from.
public struct Configuration: Sendable, Equatable {
    public struct Site: Sendable, Equatable {
        public var name: String
        public var url: String
        public var timeZone: TimeZone
        /// The site's own language: the first of `languages`, the archive's and that of readers without one.
        public var language: String
        /// `ltr` or `rtl` of the site's language, written into the HTML `dir` attribute.
        public var direction: String
        /// The languages readers may choose (`site.languages`), each with a catalog `templates/lang/CODE.txt`;
        /// the first is the site's own. Default: `[language]`.
        public var languages: [String]
        /// `site.direction` when the file gives it (it then wins over the site language's catalog).
        public var explicitDirection: String?

        public init(
            name: String, url: String, timeZone: TimeZone, language: String = "en", direction: String = "ltr",
            languages: [String]? = nil, explicitDirection: String? = nil
        ) {
            self.name = name
            self.url = url
            self.timeZone = timeZone
            self.language = language
            self.direction = direction
            self.languages = languages ?? [language]
            self.explicitDirection = explicitDirection
        }
    }

    public struct Section: Sendable, Equatable {
        public var kind: ItemKind
        /// The title in the site's language.
        public var title: String
        public var count: Int
        /// The title per language code (`{"en": "Top stories", "ar": "أهم الأخبار"}`); empty when one title is
        /// given for every language.
        public var titles: [String: String] = [:]

        public init(kind: ItemKind, title: String, count: Int, titles: [String: String] = [:]) {
            self.kind = kind
            self.title = title
            self.count = count
            self.titles = titles
        }

        /// The title readers of `language` see: theirs, else the site's.
        public func title(in language: String) -> String { titles[language] ?? title }
    }

    public struct Digest: Sendable, Equatable {
        /// Local hour (0–23) at which an edition closes and, by default, readers receive it.
        public var sendHour: Int
        public var windowHours: Int
        public var sections: [Section]
        public var minVotes: Int
        public var skipWhenEmpty: Bool
        /// Longest summary, in characters, kept in a digest; longer ones are cut at a word.
        public var summaryLimit: Int
        /// What one vote from a digest's vote link counts in the ranking, in site votes (1: the same).
        public var digestVoteWeight: Double = 1
    }

    public enum Transport: String, Sendable, Equatable, CaseIterable {
        case smtp
        case maildir
    }

    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case required
        case optional
        case off
    }

    public struct SMTP: Sendable, Equatable {
        public var url: String
        public var tls: TLSMode
        public var username: String?
        /// Name of the environment variable holding the password, never the password itself.
        public var passwordEnv: String?
        public var connections: Int
        /// 0 means no cap.
        public var maxPerSecond: Double
        public var timeoutSeconds: Double
        public var caFile: String?
        /// How many times one message is tried before it is left `deferred` for the next run.
        public var maxAttempts: Int

        /// What a key left out of `mail.smtp` means (README, the `mail.smtp` table): the loader's defaults and
        /// this initializer's are these.
        public static let defaultTLS = TLSMode.required
        public static let defaultConnections = 4
        public static let defaultTimeoutSeconds = 30.0
        public static let defaultMaxAttempts = 3

        public init(
            url: String, tls: TLSMode = defaultTLS, username: String? = nil, passwordEnv: String? = nil,
            connections: Int = defaultConnections, maxPerSecond: Double = 0,
            timeoutSeconds: Double = defaultTimeoutSeconds, caFile: String? = nil, maxAttempts: Int = defaultMaxAttempts
        ) {
            self.url = url
            self.tls = tls
            self.username = username
            self.passwordEnv = passwordEnv
            self.connections = connections
            self.maxPerSecond = maxPerSecond
            self.timeoutSeconds = timeoutSeconds
            self.caFile = caFile
            self.maxAttempts = maxAttempts
        }
    }

    public struct Mail: Sendable, Equatable {
        public var from: String
        public var replyTo: String?
        public var transport: Transport
        public var maildir: String
        /// Mailbox for `List-Unsubscribe: <mailto:…>`; omitted when nil.
        public var unsubscribeMailto: String?
        public var smtp: SMTP?
        /// One DKIM signature per entry (RFC 6376); empty means messages go out unsigned.
        public var dkim: [DKIM] = []
        /// VERP base address (`bounces@courier.example`): each digest's envelope sender becomes
        /// `bounces+TOKEN@courier.example`; nil keeps the address of `from`.
        public var bounceAddress: EmailAddress? = nil
        /// Base of the digests' Reply-To (`reply@courier.example`): each digest's becomes `reply+TOKEN@…`, naming
        /// the reader and the edition, so replies can carry commands (`ReplyAddress`); nil keeps `replyTo`.
        public var replyAddress: EmailAddress? = nil
        /// The authserv-ids (RFC 8601) of the receiving servers whose `Authentication-Results` a reply command
        /// must pass (DKIM or SPF for the From domain); lower-cased. Others' results are ignored.
        public var trustedAuthservIds: [String] = []
        /// The name sent in SMTP EHLO; defaults to the domain of `from`.
        public var heloName: String? = nil
    }

    /// One DKIM key: `d=` domain, `s=` selector and the PEM file of the private key (RSA or Ed25519).
    public struct DKIM: Sendable, Equatable {
        public var domain: String
        public var selector: String
        /// Already resolved against the configuration file's folder.
        public var privateKeyFile: String

        public init(domain: String, selector: String, privateKeyFile: String) {
            self.domain = domain
            self.selector = selector
            self.privateKeyFile = privateKeyFile
        }
    }

    public struct Web: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var baseURL: String
        public var secretEnv: String
        public var adminTokenEnv: String
        /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed (reverse proxies); empty:
        /// every forwarding header is ignored and the TCP peer is the client.
        public var trustedProxies: [IPNetwork] = []
        /// A second listener, on a loopback address only, that serves the admin pages without the
        /// bearer token; nil: admin pages are reached with the token only.
        public var adminListen: Listen? = nil
        /// How long an admin's sign-in on the public port lasts (the session cookie's lifetime), in hours.
        public var adminSessionHours: Double = 12
        /// `/archive`: who may read past editions on the web.
        public var archive: Archive = .public
        /// How long a request waits for the database before it is answered 503 with `Retry-After`.
        public var databaseTimeoutSeconds: Double = 5
        /// A request whose header and body have not fully arrived within this time is closed.
        public var requestTimeoutSeconds: Double = 30
        /// A connection with no request under way is closed after this long (keep-alive, or a request
        /// head that never finishes).
        public var idleTimeoutSeconds: Double = 5
        /// Open connections past which a new one is closed at once.
        public var maxConnections: Int = 1024

        /// These settings listening on `host` and `port` instead, when given (`digest serve --host --port`). A base
        /// URL left to its default (`http://host:port`) follows them, so that links in mails and pages point
        /// where the server now listens; one the file set stays.
        public func listening(host newHost: String?, port newPort: Int?) -> Web {
            var web = self
            web.host = newHost ?? host
            web.port = newPort ?? port
            if baseURL == "http://\(host):\(port)" { web.baseURL = "http://\(web.host):\(web.port)" }
            return web
        }
    }

    /// A loopback address and port to listen on.
    /// Who may read past editions on the web (`/archive`).
    public enum Archive: String, Sendable, Equatable, CaseIterable {
        /// Anyone: the list, every edition's page and the Atom feed.
        case `public`
        /// Only through the link in a digest (each edition's page with its signed key); no list, no feed.
        case readers
        /// No archive at all.
        case off
    }

    public struct Listen: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct Feed: Sendable, Equatable {
        public var url: String
        public var kind: ItemKind
        /// Element holding a vote count in each entry (for example `slash:comments`); nil means 0 votes.
        public var votesElement: String?
    }

    /// `digest send` on a shared store: several workers share one run.
    public struct Send: Sendable, Equatable {
        /// Each worker's lease: renewed every third of it; a worker silent this long (killed, cut off) is
        /// taken over, its claimed rows sent by the others.
        public var leaseSeconds: Int = 60

        public init(leaseSeconds: Int = 60) { self.leaseSeconds = leaseSeconds }
    }

    /// What the digest learns about its readers (`privacy`).
    public struct Privacy: Sendable, Equatable {
        /// How clicks on the digest's item links are counted.
        public var clickCounting: ClickCounting = .aggregate

        public init(clickCounting: ClickCounting = .aggregate) { self.clickCounting = clickCounting }
    }

    /// How clicks on item links are counted (`privacy.clickCounting`). Never a tracking pixel.
    public enum ClickCounting: String, Sendable, Equatable, CaseIterable {
        /// Item links go through `/r/TOKEN`; the token names the edition and the item, nothing about the reader.
        case aggregate
        /// As `aggregate`, and the token also names the reader: clicks are stored per reader too.
        case perReader
        /// Item links go straight to the site; nothing is counted.
        case off
    }

    /// The file this configuration was read from.
    public var file: String
    public var site: Site
    /// An SQLite file path (resolved against the configuration's folder), or a `postgresql://` URL.
    public var database: String
    public var templates: String
    public var digest: Digest
    public var mail: Mail
    public var web: Web
    public var feeds: [Feed]
    /// The environment variable holding the PostgreSQL password (nil: `PGPASSWORD`, or none).
    public var databasePasswordEnv: String? = nil
    public var send = Send()
    public var privacy = Privacy()
}
