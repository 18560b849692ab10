import Foundation

/// Readers by status (a count, or a change of counts).
public struct ReaderCounts: Sendable, Codable, Equatable {
    public var pending = 0
    public var active = 0
    public var unsubscribed = 0
    public var bounced = 0

    public init(pending: Int = 0, active: Int = 0, unsubscribed: Int = 0, bounced: Int = 0) {
        self.pending = pending
        self.active = active
        self.unsubscribed = unsubscribed
        self.bounced = bounced
    }

    public var total: Int { pending + active + unsubscribed + bounced }

    public subscript(status: SubscriberStatus) -> Int {
        get {
            switch status {
            case .pending: pending
            case .active: active
            case .unsubscribed: unsubscribed
            case .bounced: bounced
            }
        }
        set {
            switch status {
            case .pending: pending = newValue
            case .active: active = newValue
            case .unsubscribed: unsubscribed = newValue
            case .bounced: bounced = newValue
            }
        }
    }

    public static func - (lhs: ReaderCounts, rhs: ReaderCounts) -> ReaderCounts {
        var result = ReaderCounts()
        for status in SubscriberStatus.allCases { result[status] = lhs[status] - rhs[status] }
        return result
    }
}

/// Readers by status now, and how each count changed over the last `days` days (from the summary rows):
/// `previous` is what it was when the period began.
public struct ReaderSummary: Sendable, Codable, Equatable {
    public var days: Int
    public var current: ReaderCounts
    public var change: ReaderCounts
    public var previous: ReaderCounts
}

/// One UTC day of the list: what happened, and the net change of each status.
public struct DailyStats: Sendable, Codable, Equatable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    /// Readers who joined (a web sign-up, pending; or added by the command line).
    public var signups = 0
    /// Pending readers who confirmed.
    public var confirmations = 0
    public var unsubscribes = 0
    /// Readers marked bounced.
    public var bounced = 0
    /// Bounced readers made active again.
    public var reactivated = 0
    /// Readers erased.
    public var removed = 0
    /// Bounce and complaint reports received that day (DSNs, feedback loops, the bounces API).
    public var hardBounces = 0
    public var softBounces = 0
    public var otherBounces = 0
    public var complaints = 0
    /// Net change of each status count.
    public var change = ReaderCounts()

    public init(day: String) { self.day = day }

    static let columns =
        "day, signups, confirmations, unsubscribes, bounced, reactivated, removed, hardBounces, softBounces, "
        + "otherBounces, complaints, pendingChange, activeChange, unsubscribedChange, bouncedChange"

    init(row: SQLRow) throws {
        day = try row["day"]
        signups = try row["signups"]
        confirmations = try row["confirmations"]
        unsubscribes = try row["unsubscribes"]
        bounced = try row["bounced"]
        reactivated = try row["reactivated"]
        removed = try row["removed"]
        hardBounces = try row["hardBounces"]
        softBounces = try row["softBounces"]
        otherBounces = try row["otherBounces"]
        complaints = try row["complaints"]
        change = ReaderCounts(
            pending: try row["pendingChange"], active: try row["activeChange"],
            unsubscribed: try row["unsubscribedChange"], bounced: try row["bouncedChange"])
    }
}

/// One edition's outcome: its ledger at the end of the last run that touched it, plus the reports about its
/// messages received since. Rates are shares of the messages sent (0 when none was).
public struct EditionStats: Sendable, Codable, Equatable {
    public var editionID: Int64
    /// `YYYY-MM-DD`: the edition's date.
    public var date: String
    /// `daily`, `weekly`, `monthly` or `catch-up` (`EditionKind`): a day may have several editions.
    public var kind: String
    /// Ledger rows: readers it was queued for.
    public var recipients: Int
    /// Still to send (queued, or being sent) when last summed.
    public var queued: Int
    public var sent: Int
    public var deferred: Int
    public var failed: Int
    public var skipped: Int
    public var hardBounces: Int
    public var softBounces: Int
    public var otherBounces: Int
    public var complaints: Int
    /// Grouped reply → rows (at most 20 reasons each; the rest under "other reasons").
    public var deferredReasons: [String: Int]
    public var failedReasons: [String: Int]
    public var skippedReasons: [String: Int]
    /// Complaints per message sent (Gmail and Yahoo ask senders to stay under 0.003).
    public var complaintRate: Double
    /// Permanent failures in the session and hard-bounce reports, per message sent.
    public var hardBounceRate: Double
    public var updatedAt: Date
    /// Clicks on its item links (`privacy.clickCounting`), as last flushed by `digest serve`.
    public var clicks = 0

    /// The clicks come from their own small table (one row per item clicked), read by its primary key.
    static let columns = """
        s.editionID, e.date, e.kind, s.recipients, s.queued, s.sent, s.deferred, s.failed, s.skipped, s.hardBounces,
        s.softBounces, s.otherBounces, s.complaints, s.deferredReasons, s.failedReasons, s.skippedReasons, s.updatedAt,
        (SELECT \(Store.total("c.count")) FROM clicks c WHERE c.editionID = s.editionID) AS clicks
        """

    init(row: SQLRow) throws {
        func reasons(_ column: String) throws -> [String: Int] {
            let text: String = try row[column]
            return (try? JSONDecoder().decode([String: Int].self, from: Data(text.utf8))) ?? [:]
        }
        editionID = try row["editionID"]
        date = try row["date"]
        kind = try row["kind"]
        recipients = try row["recipients"]
        queued = try row["queued"]
        sent = try row["sent"]
        deferred = try row["deferred"]
        failed = try row["failed"]
        skipped = try row["skipped"]
        hardBounces = try row["hardBounces"]
        softBounces = try row["softBounces"]
        otherBounces = try row["otherBounces"]
        complaints = try row["complaints"]
        deferredReasons = try reasons("deferredReasons")
        failedReasons = try reasons("failedReasons")
        skippedReasons = try reasons("skippedReasons")
        updatedAt = try row["updatedAt"]
        clicks = try row["clicks"]
        complaintRate = sent > 0 ? Double(complaints) / Double(sent) : 0
        hardBounceRate = sent > 0 ? Double(failed + hardBounces) / Double(sent) : 0
    }

    /// The column a report of `kind` adds to.
    static func reportColumn(_ kind: BounceReport.Kind) -> String {
        switch kind {
        case .hard: "hardBounces"
        case .soft: "softBounces"
        case .failed: "otherBounces"
        case .complaint: "complaints"
        }
    }
}

/// One item of an edition as it was frozen, with its votes then and now.
public struct EditionItemStats: Sendable, Codable, Equatable {
    public var position: Int
    public var itemID: Int64
    public var kind: ItemKind
    public var title: String
    public var url: String
    /// Votes when the edition was frozen.
    public var votes: Int
    /// Votes now (nil when the item was removed since).
    public var currentVotes: Int?
    /// Votes cast from this edition's vote links.
    public var digestVotes: Int = 0
    /// Clicks on its link in this edition.
    public var clicks = 0
}

/// An edition's page: its outcome, its items and the runs that sent it.
public struct EditionReport: Sendable, Codable, Equatable {
    public var stats: EditionStats
    public var items: [EditionItemStats]
    /// Runs whose report names this edition, newest first.
    public var runs: [RunReport]
}

/// What is waiting to be sent: the ledger's rows and the web outbox's mails by status.
public struct Backlog: Sendable, Codable, Equatable {
    public var ledgerQueued = 0
    public var ledgerDeferred = 0
    public var ledgerSending = 0
    public var outboxQueued = 0
    public var outboxDeferred = 0
    public var outboxSending = 0
    /// Outbox mails given up for good.
    public var outboxFailed = 0

    public init() {}

    public var ledger: Int { ledgerQueued + ledgerDeferred + ledgerSending }
}

/// One UTC hour in which active readers become due for an edition.
public struct DueHour: Sendable, Codable, Equatable {
    /// The hour's start.
    public var start: Date
    public var readers: Int
    /// The editions they become due for (`YYYY-MM-DD`).
    public var editions: [String]
}

/// The last `send` run at a glance.
public struct RunGlance: Sendable, Codable, Equatable {
    public var id: Int64
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// From start to finish (nil while it runs, or when it was killed).
    public var seconds: Double?
    /// nil: unfinished (running, or killed).
    public var exitStatus: Int32?
    public var editions: [String]
    public var queued: Int
    public var sent: Int
    public var deferred: Int
    public var failed: Int
    public var skipped: Int
    /// Reports received since about the messages of its editions (from `edition_stats`).
    public var reported: BounceCounts

    init(_ run: RunReport, reported: BounceCounts) {
        id = run.id
        command = run.command
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        seconds = run.finishedAt.map { $0.timeIntervalSince(run.startedAt) }
        exitStatus = run.exitStatus
        editions = run.summary?.editions ?? []
        queued = run.summary?.queued ?? 0
        sent = run.summary?.sent ?? 0
        deferred = run.summary?.deferred ?? 0
        failed = run.summary?.failed ?? 0
        skipped = run.summary?.skipped ?? 0
        self.reported = reported
    }
}

/// Sums over a period: the list's events (from `daily_stats`) and the messages of the editions dated in it
/// (from `edition_stats`).
public struct PeriodTotals: Sendable, Codable, Equatable {
    public var signups = 0
    public var confirmations = 0
    public var unsubscribes = 0
    public var bounced = 0
    public var reactivated = 0
    public var removed = 0
    public var hardBounces = 0
    public var softBounces = 0
    public var otherBounces = 0
    public var complaints = 0
    public var editions = 0
    public var recipients = 0
    public var sent = 0
    public var deferred = 0
    public var failed = 0
    public var skipped = 0
    /// Complaints and hard bounces (session failures and reports) about these editions, per message sent.
    public var complaintRate: Double = 0
    public var hardBounceRate: Double = 0

    public init() {}

    mutating func add(_ day: DailyStats) {
        signups += day.signups
        confirmations += day.confirmations
        unsubscribes += day.unsubscribes
        bounced += day.bounced
        reactivated += day.reactivated
        removed += day.removed
        hardBounces += day.hardBounces
        softBounces += day.softBounces
        otherBounces += day.otherBounces
        complaints += day.complaints
    }

    mutating func add(_ edition: EditionStats) {
        editions += 1
        recipients += edition.recipients
        sent += edition.sent
        deferred += edition.deferred
        failed += edition.failed
        skipped += edition.skipped
    }

    /// The rates from the editions' own report counts (which the days count by the day received instead).
    mutating func rates(from editions: [EditionStats]) {
        let complaints = editions.reduce(0) { $0 + $1.complaints }
        let hard = editions.reduce(0) { $0 + $1.failed + $1.hardBounces }
        complaintRate = sent > 0 ? Double(complaints) / Double(sent) : 0
        hardBounceRate = sent > 0 ? Double(hard) / Double(sent) : 0
    }
}

/// Every figure of the console's dashboard for a period of `days` days ending today (UTC): what
/// `digest stats --json` prints and `GET /admin/api/stats` answers.
public struct StatsReport: Sendable, Codable, Equatable {
    public var generatedAt: Date
    public var days: Int
    /// First and last day of the period (`YYYY-MM-DD`, UTC).
    public var from: String
    public var through: String
    public var readers: ReaderSummary
    public var totals: PeriodTotals
    /// The same sums over the `days` days before.
    public var previousTotals: PeriodTotals
    /// Every day of the period, oldest first (days without a row are zeros).
    public var daily: [DailyStats]
    /// The editions dated in the period, oldest first.
    public var editions: [EditionStats]
    public var lastRun: RunGlance?
    public var backlog: Backlog
    public var dueHours: [DueHour]

    /// The JSON both the command and the API give: sorted keys, ISO 8601 instants.
    public func json() throws -> Data {
        try StatsJSON.encoder.encode(self)
    }
}

/// The totals `/metrics` exposes: counters since the database began, from the summary rows.
public struct MetricsSnapshot: Sendable, Codable, Equatable {
    public var readers: ReaderCounts
    /// Every edition's ledger outcome added up.
    public var messages: PeriodTotals
    /// Every day's list events and reports added up (the rates are zero here).
    public var events: PeriodTotals
    public var editions: Int
    public var backlog: Backlog
    public var lastRun: RunGlance?
    /// Clicks on item links, over every edition.
    public var clicks = 0
}

/// One reader's ledger row, for their page.
public struct ReaderDelivery: Sendable, Codable, Equatable {
    public var id: Int64
    public var editionDate: String
    public var status: DeliveryStatus
    public var attempts: Int
    public var messageID: String
    public var lastReply: String?
    public var queuedAt: Date
    public var sentAt: Date?
    public var updatedAt: Date
}

/// One bounce or complaint report about a reader, as recorded.
public struct BounceRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: BounceReport.Kind
    /// RFC 3463 status or feedback type.
    public var status: String
    public var reason: String
    /// `import` or `api`.
    public var source: String
    public var reportKey: String
    public var receivedAt: Date
    /// The edition of the message it is about, when known.
    public var editionDate: String?
}

/// A reader's page: who they are, what the ledger sent them, what came back.
public struct SubscriberDetail: Sendable, Codable, Equatable {
    public var subscriber: Subscriber
    /// Newest first, at most the limit asked for.
    public var deliveries: [ReaderDelivery]
    /// Newest first.
    public var bounces: [BounceRecord]
    public var bounceCounts: BounceCounts
}

/// One page of a reader search.
public struct SubscriberPage: Sendable, Codable, Equatable {
    /// Readers matching, in all pages.
    public var total: Int
    public var limit: Int
    public var offset: Int
    /// This page, by address.
    public var subscribers: [Subscriber]
}

/// The encoder of the figures' JSON.
enum StatsJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
