import Foundation

/// The admin console's figures, one query per figure, each reading summary rows, an index, or a few rows by
/// key: never a count over the ledger (`deliveries`), so every page stays fast on millions of rows. `now` is
/// always given (the pages and the command pass the clock; tests their own).
extension Store {
    /// Readers by status now: one count per status over the status index.
    public func readerCounts() throws -> ReaderCounts {
        try database.read { db in try Self.readerCounts(db) }
    }

    static func readerCounts(_ db: any SQLConnection) throws -> ReaderCounts {
        var counts = ReaderCounts()
        for row in try db.fetchAll("SELECT status, count(*) AS total FROM subscribers GROUP BY status") {
            if let status = SubscriberStatus(rawValue: try row["status"]) { counts[status] = try row["total"] }
        }
        return counts
    }

    /// Readers by status now and the change of each over the `days` UTC days ending with `now`'s.
    public func readerSummary(days: Int, now: Date) throws -> ReaderSummary {
        try database.read { db in try Self.readerSummary(db, days: days, now: now) }
    }

    static func readerSummary(_ db: any SQLConnection, days: Int, now: Date) throws -> ReaderSummary {
        let current = try readerCounts(db)
        let (from, through) = period(days: days, now: now)
        let row = try db.fetchOne(
            """
            SELECT \(["pendingChange", "activeChange", "unsubscribedChange", "bouncedChange"].map { "\(total($0)) AS \($0)" }.joined(separator: ", "))
            FROM daily_stats WHERE day >= ? AND day <= ?
            """, .text(from.description), .text(through.description))
        let change = ReaderCounts(
            pending: try row?["pendingChange"] ?? 0, active: try row?["activeChange"] ?? 0,
            unsubscribed: try row?["unsubscribedChange"] ?? 0, bounced: try row?["bouncedChange"] ?? 0)
        return ReaderSummary(days: days, current: current, change: change, previous: current - change)
    }

    /// The days of the period from `from` through `through` (UTC `YYYY-MM-DD`), oldest first, every day present
    /// (zeros where nothing happened).
    public func dailyStats(from: Day, through: Day) throws -> [DailyStats] {
        try database.read { db in try Self.dailyStats(db, from: from, through: through) }
    }

    static func dailyStats(_ db: any SQLConnection, from: Day, through: Day) throws -> [DailyStats] {
        let rows = try db.fetchAll(
            "SELECT \(DailyStats.columns) FROM daily_stats WHERE day >= ? AND day <= ? ORDER BY day",
            .text(from.description), .text(through.description))
        var stored: [String: DailyStats] = [:]
        for row in rows {
            let day = try DailyStats(row: row)
            stored[day.day] = day
        }
        var result: [DailyStats] = []
        var day = from
        while day <= through {
            result.append(stored[day.description] ?? DailyStats(day: day.description))
            day = day.adding(days: 1)
        }
        return result
    }

    /// Editions with their outcome, newest first, a page at a time.
    public func editionStats(limit: Int = 30, offset: Int = 0) throws -> [EditionStats] {
        try database.read { db in
            try db.fetchAll(
                """
                SELECT \(EditionStats.columns) FROM edition_stats s JOIN editions e ON e.id = s.editionID
                ORDER BY e.date DESC LIMIT ? OFFSET ?
                """, limit.sqlValue, offset.sqlValue
            ).map(EditionStats.init(row:))
        }
    }

    /// How many editions have an outcome (for paging `editionStats`).
    public func editionStatsCount() throws -> Int {
        try database.read { db in try db.fetchValue("SELECT count(*) FROM edition_stats") ?? 0 }
    }

    /// The editions dated from `from` through `through`, oldest first (a chart's nights).
    public func editionStats(from: Day, through: Day) throws -> [EditionStats] {
        try database.read { db in try Self.editionStats(db, from: from, through: through) }
    }

    static func editionStats(_ db: any SQLConnection, from: Day, through: Day) throws -> [EditionStats] {
        try db.fetchAll(
            """
            SELECT \(EditionStats.columns) FROM editions e JOIN edition_stats s ON s.editionID = e.id
            WHERE e.date >= ? AND e.date <= ? ORDER BY e.date
            """, .text(from.description), .text(through.description)
        ).map(EditionStats.init(row:))
    }

    /// The edition of `date` and `kind`: its outcome, its items with their votes then and now, and its runs. Nil
    /// when no such edition was sent (or frozen).
    public func editionReport(date: Day, kind: EditionKind = .daily) throws -> EditionReport? {
        try database.read { db in
            guard
                let id: Int64 = try db.fetchValue(
                    "SELECT id FROM editions WHERE date = ? AND kind = ?", date.sqlValue, kind.sqlValue)
            else { return nil }
            var stats =
                try db.fetchOne(
                    """
                    SELECT \(EditionStats.columns) FROM edition_stats s JOIN editions e ON e.id = s.editionID
                    WHERE s.editionID = ?
                    """, id.sqlValue
                ).map(EditionStats.init(row:))
                ?? EditionStats(empty: id, date: date.description, kind: kind)
            let clicks = try Self.clicks(db, editionID: id)
            stats.clicks = clicks.values.reduce(0, +)
            let items = try db.fetchAll(
                """
                SELECT ei.position, ei.itemID, ei.kind, ei.title, ei.url, ei.votes, i.votes AS currentVotes,
                    (SELECT count(*) FROM digest_votes v WHERE v.editionID = ei.editionID AND v.itemID = ei.itemID)
                        AS digestVotes
                FROM edition_items ei LEFT JOIN items i ON i.id = ei.itemID
                WHERE ei.editionID = ? ORDER BY ei.position
                """, id.sqlValue
            ).map { row in
                EditionItemStats(
                    position: try row["position"], itemID: try row["itemID"], kind: try row["kind"],
                    title: try row["title"], url: try row["url"], votes: try row["votes"],
                    currentVotes: try row["currentVotes"], digestVotes: try row["digestVotes"],
                    clicks: clicks[try row["itemID"]] ?? 0)
            }
            // A run's report lists its editions' dates; the runs table has one row per run (small).
            let runs = try db.fetchAll(
                """
                SELECT id, command, startedAt, finishedAt, exitStatus, summary FROM runs
                WHERE summary LIKE ? ORDER BY id DESC LIMIT 50
                """, .text("%\"\(date.description)\"%")
            ).map(Self.runReport(row:))
            .filter { $0.summary?.editions.contains(date.description) == true }
            return EditionReport(stats: stats, items: items, runs: runs)
        }
    }

    /// Ledger rows waiting, and outbox mails by status: counts over partial and status indexes only.
    public func backlog() throws -> Backlog {
        try database.read { db in try Self.backlog(db) }
    }

    static func backlog(_ db: any SQLConnection) throws -> Backlog {
        var backlog = Backlog()
        // `deliveries_due` and `deliveries_claimed` hold only these rows.
        for row in try db.fetchAll(
            "SELECT status, count(*) AS total FROM deliveries WHERE status IN ('queued', 'deferred') GROUP BY status")
        {
            let total: Int = try row["total"]
            if try row["status"] as String == "queued" { backlog.ledgerQueued = total } else { backlog.ledgerDeferred = total }
        }
        backlog.ledgerSending = try db.fetchValue("SELECT count(*) FROM deliveries WHERE status = 'sending'") ?? 0
        for row in try db.fetchAll(
            "SELECT status, count(*) AS total FROM outbox WHERE status <> 'sent' GROUP BY status")
        {
            let total: Int = try row["total"]
            switch OutboxStatus(rawValue: try row["status"]) {
            case .queued?: backlog.outboxQueued = total
            case .deferred?: backlog.outboxDeferred = total
            case .sending?: backlog.outboxSending = total
            case .failed?: backlog.outboxFailed = total
            default: break
            }
        }
        return backlog
    }

    /// The next 24 hours (from `now`'s hour, UTC) in which active readers become due for an edition, with how
    /// many: active readers grouped by (time zone, delivery hour), each group placed on the hour `schedule`
    /// makes it due. Hours with no one due are left out. Readers who already had that edition are counted too
    /// (a projection, not the ledger).
    public func dueHours(now: Date, schedule: DeliverySchedule) throws -> [DueHour] {
        try database.read { db in try Self.dueHours(db, now: now, schedule: schedule) }
    }

    static func dueHours(_ db: any SQLConnection, now: Date, schedule: DeliverySchedule) throws -> [DueHour] {
        let siteZone = schedule.ranker.timeZone.identifier
        // Grouped by the stored columns, in the order of the status index (SQLite reads the groups off it, with
        // no temporary B-tree for 85,000 active readers: 5× faster than grouping by the coalesced values);
        // the site's defaults fill the NULLs here, merging the groups they join. Cadence, weekday and pause (in
        // the index since v9) split the groups: a weekly reader is due on their weekday only, a paused one not
        // before the pause ends (catch-ups are left out: they fall on days already counted).
        let rows = try db.fetchAll(
            """
            SELECT timeZone, deliveryHour, cadence, weekday, pausedUntil, count(*) AS readers
            FROM subscribers WHERE status = 'active' GROUP BY timeZone, deliveryHour, cadence, weekday, pausedUntil
            """)
        struct Group: Hashable {
            var zone: String
            var hour: Int
            var cadence: Cadence
            var weekday: Weekday
            var pausedUntil: Day?
        }
        var groups: [Group: Int] = [:]
        for row in rows {
            let group = Group(
                zone: try row["timeZone"] as String? ?? siteZone,
                hour: try row["deliveryHour"] as Int? ?? schedule.ranker.digest.sendHour, cadence: try row["cadence"],
                weekday: try row["weekday"], pausedUntil: try row["pausedUntil"])
            groups[group, default: 0] += try row["readers"] as Int
        }
        let hourStart = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        let end = hourStart.addingTimeInterval(24 * 3600)
        var hours: [Date: (readers: Int, editions: Set<String>)] = [:]
        let anchor = Day(now, in: schedule.ranker.timeZone)
        for (group, readers) in groups {
            guard let zone = TimeZone(identifier: group.zone) else { continue }
            let reader = Subscriber(
                email: try EmailAddress("due@example.invalid"), cadence: group.cadence, weekday: group.weekday,
                pausedUntil: group.pausedUntil)
            for offset in -2...2 {
                let date = anchor.adding(days: offset)
                guard ReaderSchedule.isRegular(date, for: reader), !reader.isPaused(on: date) else { continue }
                let due = schedule.dueInstant(of: date, timeZone: zone, hour: group.hour)
                guard due >= hourStart, due < end else { continue }
                let bucket = Date(timeIntervalSince1970: (due.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
                hours[bucket, default: (0, [])].readers += readers
                hours[bucket, default: (0, [])].editions.insert(
                    group.cadence == .daily ? date.description : "\(date) \(group.cadence.editionKind.rawValue)")
            }
        }
        return hours.keys.sorted().map { DueHour(start: $0, readers: hours[$0]!.readers, editions: hours[$0]!.editions.sorted()) }
    }

    /// The last `send` run (finished or not), with the reports received since about its editions.
    public func lastRun() throws -> RunGlance? {
        try database.read { db in try Self.lastRun(db) }
    }

    static func lastRun(_ db: any SQLConnection) throws -> RunGlance? {
        guard
            let run = try db.fetchOne(
                """
                SELECT id, command, startedAt, finishedAt, exitStatus, summary FROM runs
                WHERE command LIKE 'send%' ORDER BY id DESC LIMIT 1
                """
            ).map(runReport(row:))
        else { return nil }
        return RunGlance(run, reported: try reportedCounts(db, editionDates: run.summary?.editions ?? []))
    }

    /// Bounce and complaint reports about the editions of `dates`, from their summary rows.
    public func reportedCounts(editionDates dates: [String]) throws -> BounceCounts {
        try database.read { db in try Self.reportedCounts(db, editionDates: dates) }
    }

    static func reportedCounts(_ db: any SQLConnection, editionDates dates: [String]) throws -> BounceCounts {
        var counts = BounceCounts()
        guard !dates.isEmpty else { return counts }
        let row = try db.fetchOne(
            """
            SELECT \(total("s.hardBounces")) AS hard, \(total("s.softBounces")) AS soft,
                \(total("s.otherBounces")) AS other, \(total("s.complaints")) AS complaints
            FROM edition_stats s JOIN editions e ON e.id = s.editionID WHERE e.date IN (\(sqlPlaceholders(dates.count)))
            """, dates.map(\.sqlValue))
        counts.hard = try row?["hard"] ?? 0
        counts.soft = try row?["soft"] ?? 0
        counts.failed = try row?["other"] ?? 0
        counts.complaints = try row?["complaints"] ?? 0
        return counts
    }

    /// Every figure of the dashboard for the `days` UTC days ending with `now`'s, in one read (one snapshot).
    public func statsReport(days: Int, now: Date, schedule: DeliverySchedule) throws -> StatsReport {
        try database.read { db in
            let (from, through) = Self.period(days: days, now: now)
            let (previousFrom, previousThrough) = (from.adding(days: -days), from.adding(days: -1))
            let daily = try Self.dailyStats(db, from: from, through: through)
            let editions = try Self.editionStats(db, from: from, through: through)
            func totals(_ days: [DailyStats], _ editions: [EditionStats]) -> PeriodTotals {
                var totals = PeriodTotals()
                days.forEach { totals.add($0) }
                editions.forEach { totals.add($0) }
                totals.rates(from: editions)
                return totals
            }
            return StatsReport(
                generatedAt: now, days: days, from: from.description, through: through.description,
                readers: try Self.readerSummary(db, days: days, now: now),
                totals: totals(daily, editions),
                previousTotals: totals(
                    try Self.dailyStats(db, from: previousFrom, through: previousThrough),
                    try Self.editionStats(db, from: previousFrom, through: previousThrough)),
                daily: daily, editions: editions, lastRun: try Self.lastRun(db), backlog: try Self.backlog(db),
                dueHours: try Self.dueHours(db, now: now, schedule: schedule))
        }
    }

    /// The totals `/metrics` exposes, since the database began: sums over the summary rows (one row per
    /// edition, one per day).
    public func metricsSnapshot() throws -> MetricsSnapshot {
        try database.read { db in
            let messageColumns = ["recipients", "sent", "deferred", "failed", "skipped"]
            let messages = try db.fetchOne(
                "SELECT count(*) AS editions, \(messageColumns.map { "\(Self.total($0)) AS \($0)" }.joined(separator: ", ")) FROM edition_stats")
            var totals = PeriodTotals()
            totals.editions = try messages?["editions"] ?? 0
            totals.recipients = try messages?["recipients"] ?? 0
            totals.sent = try messages?["sent"] ?? 0
            totals.deferred = try messages?["deferred"] ?? 0
            totals.failed = try messages?["failed"] ?? 0
            totals.skipped = try messages?["skipped"] ?? 0
            let eventColumns = DailyCounts.Column.allCases.map(\.rawValue)
            var events = PeriodTotals()
            if let row = try db.fetchOne(
                "SELECT 'all' AS day, \(eventColumns.map { "\(Self.total($0)) AS \($0)" }.joined(separator: ", ")) FROM daily_stats")
            {
                events.add(try DailyStats(row: row))
            }
            return MetricsSnapshot(
                readers: try Self.readerCounts(db), messages: totals, events: events, editions: totals.editions,
                backlog: try Self.backlog(db), lastRun: try Self.lastRun(db), clicks: try Self.totalClicks(db))
        }
    }

    // MARK: - Readers

    /// Readers whose address (or name) contains `query`, whatever its case, optionally of one `status`, by
    /// address, a page at a time. Without a query, every reader (of that status). A scan of the readers
    /// (100,000 in a few tens of milliseconds), never of the ledger.
    public func searchSubscribers(query: String?, status: SubscriberStatus?, limit: Int = 50, offset: Int = 0) throws
        -> SubscriberPage
    {
        try database.read { db in
            var conditions: [String] = []
            var arguments: [SQLValue] = []
            let text = query?.trimmingCharacters(in: .whitespaces) ?? ""
            if !text.isEmpty {
                let pattern = SQLValue.text("%" + Self.likeEscaped(text.lowercased()) + "%")
                conditions.append(
                    "(\(Self.lowered("email", db.dialect)) LIKE ? ESCAPE '\\' OR \(Self.lowered("coalesce(name, '')", db.dialect)) LIKE ? ESCAPE '\\')")
                arguments += [pattern, pattern]
            }
            if let status {
                // With a text to find, every row's address is read anyway: SQLite reads the table in order
                // rather than fetch the readers of the status one by one through its index (85 % of them are
                // active: 6× slower than the whole table). A unary `+` keeps SQLite off an index; PostgreSQL
                // finds the text through its trigram index and checks the status on the rows it finds.
                conditions.append(!text.isEmpty && db.dialect == .sqlite ? "+status = ?" : "status = ?")
                arguments.append(status.sqlValue)
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let page = try db.fetchAll(
                "SELECT \(Subscriber.columns()) FROM subscribers \(filter) ORDER BY email LIMIT ? OFFSET ?",
                arguments + [limit.sqlValue, offset.sqlValue]
            ).map { try Subscriber(row: $0) }
            // A short page that is not past the end is the last one: it gives the total, and the count (a second
            // scan of the readers for a rare match on SQLite) is not needed. Same snapshot, same number.
            let total: Int =
                page.count < limit && (offset == 0 || !page.isEmpty)
                ? offset + page.count
                : try db.fetchValue("SELECT count(*) FROM subscribers \(filter)", arguments) ?? 0
            return SubscriberPage(total: total, limit: limit, offset: offset, subscribers: page)
        }
    }

    /// A reader with their newest `deliveryLimit` ledger rows (through the ledger's subscriber index) and every
    /// bounce and complaint report about them; nil when there is no such reader.
    public func subscriberDetail(id: Int64, deliveryLimit: Int = 50) throws -> SubscriberDetail? {
        try database.read { db in
            guard let subscriber = try Self.subscriber(db, id: id) else { return nil }
            let deliveries = try db.fetchAll(
                """
                SELECT d.id, e.date, d.status, d.attempts, d.messageID, d.lastReply, d.queuedAt, d.sentAt, d.updatedAt
                FROM deliveries d JOIN editions e ON e.id = d.editionID
                WHERE d.subscriberID = ? ORDER BY d.editionID DESC LIMIT ?
                """, id.sqlValue, deliveryLimit.sqlValue
            ).map { row in
                ReaderDelivery(
                    id: try row["id"], editionDate: try row["date"], status: try row["status"],
                    attempts: try row["attempts"], messageID: try row["messageID"], lastReply: try row["lastReply"],
                    queuedAt: try row["queuedAt"], sentAt: try row["sentAt"], updatedAt: try row["updatedAt"])
            }
            var counts = BounceCounts()
            let bounces = try db.fetchAll(
                """
                SELECT b.id, b.kind, b.status, b.reason, b.source, b.reportKey, b.receivedAt, e.date
                FROM bounce_events b LEFT JOIN deliveries d ON d.id = b.deliveryID
                LEFT JOIN editions e ON e.id = d.editionID
                WHERE b.subscriberID = ? ORDER BY b.id DESC
                """, id.sqlValue
            ).map { row in
                let kind: String = try row["kind"]
                counts.add(kind, 1)
                return BounceRecord(
                    id: try row["id"], kind: BounceReport.Kind(rawValue: kind) ?? .failed, status: try row["status"],
                    reason: try row["reason"], source: try row["source"], reportKey: try row["reportKey"],
                    receivedAt: try row["receivedAt"], editionDate: try row["date"])
            }
            return SubscriberDetail(subscriber: subscriber, deliveries: deliveries, bounces: bounces, bounceCounts: counts)
        }
    }

    // MARK: - Helpers

    /// The UTC days of a period of `days` days ending with `now`'s.
    static func period(days: Int, now: Date) -> (from: Day, through: Day) {
        let through = Day(now, in: utc)
        return (through.adding(days: -(max(1, days) - 1)), through)
    }

    /// A sum that reads as a whole number in both dialects (PostgreSQL's sum of BIGINT is NUMERIC) and as 0
    /// over no rows.
    static func total(_ column: String) -> String { "CAST(coalesce(sum(\(column)), 0) AS BIGINT)" }

    /// `column` in lower case for `LIKE`: SQLite's LIKE already ignores ASCII case; PostgreSQL cannot LIKE under
    /// the addresses' nondeterministic collation, so the text is compared byte for byte ("C"), lowered.
    static func lowered(_ column: String, _ dialect: SQLDialect) -> String {
        dialect == .postgres ? "lower(\(column) COLLATE \"C\")" : column
    }

    /// `text` with LIKE's wildcards and the escape character escaped (`ESCAPE '\'`).
    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func runReport(row: SQLRow) throws -> RunReport {
        let text: String = try row["summary"]
        return RunReport(
            id: try row["id"], command: try row["command"], startedAt: try row["startedAt"],
            finishedAt: try row["finishedAt"], exitStatus: try row["exitStatus"],
            summary: try? JSONDecoder().decode(RunSummary.self, from: Data(text.utf8)))
    }
}

extension EditionStats {
    /// An edition with no outcome yet (frozen, nothing recorded).
    init(empty editionID: Int64, date: String, kind: EditionKind) {
        self.editionID = editionID
        self.date = date
        self.kind = kind.rawValue
        recipients = 0
        queued = 0
        sent = 0
        deferred = 0
        failed = 0
        skipped = 0
        hardBounces = 0
        softBounces = 0
        otherBounces = 0
        complaints = 0
        deferredReasons = [:]
        failedReasons = [:]
        skippedReasons = [:]
        complaintRate = 0
        hardBounceRate = 0
        updatedAt = Date(timeIntervalSince1970: 0)
    }
}
