import Foundation

/// What a subscriber command changed or refused.
public struct SubscriberError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One row of a subscriber CSV that was not imported.
public struct RejectedRow: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// The outcome of `subscribers import`.
public struct SubscriberImportResult: Sendable, Equatable {
    public var imported = 0
    /// Rows whose address was already on the list; left as they were.
    public var existing = 0
    public var rejected: [RejectedRow] = []
}

extension Store {
    /// Adds a new subscriber; an address already on the list is refused with its status. The day's figures
    /// count it on the day of its `createdAt`.
    @discardableResult
    public func addSubscriber(_ subscriber: Subscriber) throws -> Subscriber {
        try database.write { db in
            if let existing = try Self.subscriber(db, email: subscriber.email) {
                let hint = existing.status == .bounced ? "; `digest subscribers reactivate \(subscriber.email)` undoes a bounce" : ""
                throw SubscriberError("\(subscriber.email) is already on the list (status: \(existing.status.rawValue))\(hint)")
            }
            var subscriber = subscriber
            guard let id = try Self.insert(db, subscriber) else {
                throw SubscriberError("\(subscriber.email) was just added by someone else")
            }
            subscriber.id = id
            try Self.countStatusChange(from: nil, to: subscriber.status, at: subscriber.createdAt, in: db)
            return subscriber
        }
    }

    /// Returns readers marked `bounced` to `active` with a clean bounce count: the ones named in `emails`
    /// and, with `bouncedSince`, every reader marked bounced at or after it. Returns the addresses
    /// reactivated, and the named ones that were not bounced (left as they are).
    public func reactivateBounced(
        emails: [EmailAddress], bouncedSince: Date?, now: Date = Date()
    ) throws -> (reactivated: [EmailAddress], notBounced: [EmailAddress]) {
        try database.write { db in
            var reactivated: [EmailAddress] = []
            var notBounced: [EmailAddress] = []
            func reactivate(_ id: Int64) throws { try Self.reactivate(db, id: id, from: .bounced, now: now) }
            for email in emails {
                guard let subscriber = try Self.subscriber(db, email: email), subscriber.status == .bounced,
                    let id = subscriber.id
                else {
                    notBounced.append(email)
                    continue
                }
                try reactivate(id)
                reactivated.append(email)
            }
            if let bouncedSince {
                let rows = try db.fetchAll(
                    "SELECT id, email FROM subscribers WHERE status = 'bounced' AND bouncedAt >= ? ORDER BY email",
                    bouncedSince.sqlValue)
                for row in rows {
                    try reactivate(try row["id"])
                    reactivated.append(try EmailAddress(try row["email"] as String))
                }
            }
            return (reactivated, notBounced)
        }
    }

    public func subscriber(email: EmailAddress) throws -> Subscriber? {
        try database.read { db in try Self.subscriber(db, email: email) }
    }

    public func subscriber(id: Int64) throws -> Subscriber? {
        try database.read { db in try Self.subscriber(db, id: id) }
    }

    /// Saves every field of an existing subscriber (a change of status counts in the figures of `now`'s day).
    public func update(_ subscriber: Subscriber, now: Date = Date()) throws {
        try database.write { db in
            let before: SubscriberStatus? = try db.fetchValue(
                "SELECT status FROM subscribers WHERE id = ?\(db.dialect.forUpdate)", subscriber.id.sqlValue)
            try Self.update(db, subscriber)
            if let before { try Self.countStatusChange(from: before, to: subscriber.status, at: now, in: db) }
        }
    }

    /// The subscriber with this address; with `locking`, its row stays locked until the transaction ends
    /// (PostgreSQL: two web hosts handling the same address take turns).
    static func subscriber(_ db: any SQLConnection, email: EmailAddress, locking: Bool = false) throws -> Subscriber? {
        try db.fetchOne(
            "SELECT \(Subscriber.columns()) FROM subscribers WHERE email = ?\(locking ? db.dialect.forUpdate : "")",
            .text(email.description)
        ).map { try Subscriber(row: $0) }
    }

    static func subscriber(_ db: any SQLConnection, id: Int64, locking: Bool = false) throws -> Subscriber? {
        try db.fetchOne(
            "SELECT \(Subscriber.columns()) FROM subscribers WHERE id = ?\(locking ? db.dialect.forUpdate : "")", id.sqlValue
        ).map { try Subscriber(row: $0) }
    }

    /// Inserts `subscriber` (its id ignored); nil when the address is already on the list.
    static func insert(_ db: any SQLConnection, _ subscriber: Subscriber) throws -> Int64? {
        try db.fetchValue(
            """
            INSERT INTO subscribers (\(Subscriber.fields.joined(separator: ", ")))
            VALUES (\(sqlPlaceholders(Subscriber.fields.count))) ON CONFLICT (email) DO NOTHING RETURNING id
            """, subscriber.values)
    }

    static func update(_ db: any SQLConnection, _ subscriber: Subscriber) throws {
        guard let id = subscriber.id else { throw SubscriberError("\(subscriber.email) was never stored") }
        try db.execute(
            "UPDATE subscribers SET \(Subscriber.fields.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
            subscriber.values + [id.sqlValue])
    }

    /// All subscribers, optionally of one status, by email. Reads a page at a time (keyset on the
    /// address), so a list of any length takes the memory of one page; `body` sees one at a time.
    public func forEachSubscriber(status: SubscriberStatus? = nil, _ body: (Subscriber) throws -> Void) throws {
        var after: String?
        while true {
            let page = try database.read { db in
                var conditions: [String] = []
                var arguments: [SQLValue] = []
                if let after {
                    conditions.append("email > ?")
                    arguments.append(.text(after))
                }
                if let status {
                    conditions.append("status = ?")
                    arguments.append(status.sqlValue)
                }
                let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
                return try db.fetchAll(
                    "SELECT \(Subscriber.columns()) FROM subscribers \(filter) ORDER BY email LIMIT 1000", arguments
                ).map { try Subscriber(row: $0) }
            }
            for subscriber in page { try body(subscriber) }
            guard page.count == 1000, let last = page.last else { return }
            after = last.email.description
        }
    }

    /// Up to `limit` subscribers with ids above `afterID`, by id: for paging through a large
    /// list while doing other database work between pages (a cursor cannot be held meanwhile).
    public func subscribers(status: SubscriberStatus? = nil, afterID: Int64, limit: Int) throws -> [Subscriber] {
        try database.read { db in
            try db.fetchAll(
                """
                SELECT \(Subscriber.columns()) FROM subscribers WHERE id > ?\(status == nil ? "" : " AND status = ?")
                ORDER BY id LIMIT ?
                """, [afterID.sqlValue] + (status.map { [$0.sqlValue] } ?? []) + [limit.sqlValue]
            ).map { try Subscriber(row: $0) }
        }
    }

    public func subscriberCount(status: SubscriberStatus? = nil) throws -> Int {
        try database.read { db in
            if let status {
                return try db.fetchValue("SELECT count(*) FROM subscribers WHERE status = ?", status.sqlValue) ?? 0
            }
            return try db.fetchValue("SELECT count(*) FROM subscribers") ?? 0
        }
    }

    /// Deletes a subscriber and their delivery history; false when the address is not on the list. The
    /// summaries keep what they counted (an edition's recipients, a day's sign-ups); the reader's status
    /// count goes down on `now`'s day.
    public func removeSubscriber(email: EmailAddress, now: Date = Date()) throws -> Bool {
        try database.write { db in try Self.remove(db, where: "email = ?", .text(email.description), now: now) }
    }

    /// Deletes the subscribers `condition` names and, through the schema's cascades, their deliveries,
    /// bounces and outbox mails; their status counts go down on `now`'s day. True when one was there.
    static func remove(_ db: any SQLConnection, where condition: String, _ value: SQLValue, now: Date) throws -> Bool {
        let removed: [SubscriberStatus] = try db.fetchColumn("DELETE FROM subscribers WHERE \(condition) RETURNING status", value)
        for status in removed { try countStatusChange(from: status, to: nil, at: now, in: db) }
        return !removed.isEmpty
    }

    /// Makes reader `id`, now `old` (bounced or unsubscribed), active again, with no bounce counted against
    /// them: the hard bounces reported later (DSNs) count toward `bounced` too, so they go with the mistake.
    static func reactivate(_ db: any SQLConnection, id: Int64, from old: SubscriberStatus, now: Date) throws {
        try db.execute(
            "UPDATE subscribers SET status = 'active', bounceCount = 0, bouncedAt = NULL, unsubscribedAt = NULL WHERE id = ?",
            id.sqlValue)
        try db.execute("DELETE FROM bounce_events WHERE subscriberID = ? AND kind = 'hard'", id.sqlValue)
        try countStatusChange(from: old, to: .active, at: now, in: db)
    }

    /// Imports `email,name,…` CSV text: each bad row is reported, the good ones are inserted in
    /// one transaction. Known columns: email (required), name, format, timeZone, sections
    /// (`story;post`), deliveryHour, the reader's choices (`ReaderChoicesText.columns`), and the ones
    /// `exportSubscribers` adds: status, createdAt, confirmedAt, so an export imports back as it was. A row's `status` wins over `confirmed`
    /// (an unsubscribed reader stays unsubscribed); rows without one are `active` with `confirmed`,
    /// else `pending`. Addresses already on the list are left as they are. A quote that is never
    /// closed refuses the whole text (`CSVError`, naming the line where it opened).
    ///
    /// A `language` column names one of `languages` (`site.languages`; nil takes any code); empty is the site's.
    public func importSubscribers(
        csv text: String, confirmed: Bool, now: Date = Date(), languages: [String]? = nil
    ) throws -> SubscriberImportResult {
        let records = try CSV.parse(text)
        guard let header = records.first else { throw SubscriberError("the CSV file is empty (expected a header row email,name,…)") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known =
            ["email", "name", "status", "format", "timezone", "sections", "deliveryhour", "createdat", "confirmedat", "language"]
            + ReaderChoicesText.columns.map { $0.lowercased() }
        guard let emailColumn = columns.firstIndex(of: "email") else {
            throw SubscriberError("line \(header.line): the header has no \"email\" column (expected email,name,…)")
        }
        if let unknown = columns.first(where: { !known.contains($0) }) {
            throw SubscriberError(
                "line \(header.line): unknown column \"\(unknown)\" (known: email, name, status, format, timeZone, "
                    + "sections, deliveryHour, createdAt, confirmedAt, "
                    + ReaderChoicesText.columns.joined(separator: ", ") + ", language)")
        }
        func column(_ name: String, _ fields: [String]) -> String? {
            guard let index = columns.firstIndex(of: name), index < fields.count else { return nil }
            let value = fields[index].trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : value
        }
        var result = SubscriberImportResult()
        var subscribers: [(line: Int, subscriber: Subscriber)] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            do {
                guard record.fields.count <= columns.count else {
                    throw SubscriberError("has \(record.fields.count) fields, the header has \(columns.count)")
                }
                let email = try EmailAddress(emailColumn < record.fields.count ? record.fields[emailColumn] : "")
                // Matches the database's case-insensitive uniqueness of addresses.
                let key = email.description.lowercased()
                if let first = seen[key] { throw SubscriberError("\(email) is also on line \(first)") }
                seen[key] = record.line
                var subscriber = try Subscriber.validated(
                    email: email, name: column("name", record.fields), format: column("format", record.fields),
                    timeZone: column("timezone", record.fields), sections: column("sections", record.fields),
                    deliveryHour: column("deliveryhour", record.fields), confirmed: confirmed, now: now)
                try subscriber.apply(
                    ReaderChoicesText(
                        cadence: column("cadence", record.fields), weekday: column("weekday", record.fields),
                        pausedUntil: column("pauseduntil", record.fields), maxStories: column("maxstories", record.fields),
                        maxPosts: column("maxposts", record.fields),
                        readingMinutes: column("readingminutes", record.fields)))
                subscriber.language = try Subscriber.validatedLanguage(column("language", record.fields), offered: languages)
                try subscriber.applyExportedState(
                    status: column("status", record.fields), createdAt: column("createdat", record.fields),
                    confirmedAt: column("confirmedat", record.fields), now: now)
                subscribers.append((record.line, subscriber))
            } catch {
                result.rejected.append(RejectedRow(line: record.line, reason: "\(error)"))
            }
        }
        try database.write { db in
            let insert = """
                INSERT INTO subscribers (\(Subscriber.fields.joined(separator: ", ")))
                VALUES (\(sqlPlaceholders(Subscriber.fields.count)))
                ON CONFLICT(email) DO NOTHING
                """
            var counts = DailyCounts()
            for (_, subscriber) in subscribers {
                if try db.execute(insert, subscriber.values) > 0 {
                    result.imported += 1
                    counts.statusChanged(from: nil, to: subscriber.status)
                } else {
                    result.existing += 1
                }
            }
            try Self.count(counts, at: now, in: db)
        }
        return result
    }

    /// Writes every subscriber as CSV (the columns `importSubscribers` reads, plus status and times).
    public func exportSubscribers(to write: (String) throws -> Void) throws {
        try write(
            "email,name,status,format,timeZone,sections,deliveryHour,createdAt,confirmedAt,"
                + ReaderChoicesText.columns.joined(separator: ",") + ",language\r\n")
        try forEachSubscriber { s in
            let fields: [String] = [
                s.email.description, s.name ?? "", s.status.rawValue, s.format.rawValue, s.timeZone ?? "",
                s.sections.map(\.rawValue).joined(separator: ";"), s.deliveryHour.map(String.init) ?? "",
                DateParsing.iso8601String(s.createdAt), s.confirmedAt.map(DateParsing.iso8601String) ?? "",
                s.cadence.rawValue, s.weekday.rawValue, s.pausedUntil?.description ?? "",
                s.maxStories?.description ?? "", s.maxPosts?.description ?? "", s.readingMinutes?.description ?? "",
                s.language ?? "",
            ]
            try write(fields.map(CSV.escape).joined(separator: ",") + "\r\n")
        }
    }
}

extension Subscriber {
    /// The state columns of an export (`status`, `createdAt`, `confirmedAt`), when a row has them.
    mutating func applyExportedState(status: String?, createdAt: String?, confirmedAt: String?, now: Date) throws {
        func instant(_ text: String?, _ column: String) throws -> Date? {
            guard let text else { return nil }
            switch DateParsing.checkedISO8601(text) {
            case .success(let date): return date
            case .failure(let problem): throw SubscriberError("\(column) \"\(text)\": \(problem.reason)")
            }
        }
        if let created = try instant(createdAt, "createdAt") { self.createdAt = created }
        let confirmed = try instant(confirmedAt, "confirmedAt")
        if let status {
            guard let value = SubscriberStatus(rawValue: status.lowercased()) else {
                let known = SubscriberStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw SubscriberError("status must be one of \(known), not \"\(status)\"")
            }
            self.status = value
            self.confirmedAt = value == .active || value == .bounced ? confirmed ?? now : confirmed
            self.unsubscribedAt = value == .unsubscribed ? now : nil
        } else if let confirmed, self.status == .active {
            self.confirmedAt = confirmed
        }
    }

    /// A reader's language as given (`--language`, a CSV's `language` column): nil or empty is the site's; else
    /// one of `offered` (`site.languages`; nil: any well-formed code), or an error naming the field.
    public static func validatedLanguage(_ text: String?, offered: [String]?) throws -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let offered, !offered.contains(text) {
            throw SubscriberError(
                "language \"\(text)\" is not one of the site's languages (\(offered.joined(separator: ", ")); site.languages)")
        }
        if offered == nil, !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            throw SubscriberError("language \"\(text)\" is not a language code such as \"en\" or \"ar\"")
        }
        return text
    }

    /// Builds a subscriber from user-given text, with an error naming the field that is wrong.
    public static func validated(
        email: EmailAddress, name: String?, format: String?, timeZone: String?, sections: String?,
        deliveryHour: String?, confirmed: Bool, now: Date
    ) throws -> Subscriber {
        let name = name.map(ImportedText.normalized)
        if let name, name.count > 200 { throw SubscriberError("name is longer than 200 characters") }
        var parsedFormat = DigestFormat.html
        if let format {
            guard let value = DigestFormat(rawValue: format.lowercased()) else {
                throw SubscriberError("format must be \"html\" or \"text\", not \"\(format)\"")
            }
            parsedFormat = value
        }
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw SubscriberError("time zone \"\(timeZone)\" is not an IANA time zone such as \"Europe/Berlin\"")
        }
        var kinds: [ItemKind] = []
        for part in (sections ?? "").split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }) {
            guard let kind = ItemKind(rawValue: String(part)) else {
                throw SubscriberError("section \"\(part)\" is not \"story\" or \"post\"")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        if kinds.count == ItemKind.allCases.count { kinds = [] }
        var hour: Int?
        if let deliveryHour {
            guard let value = Int(deliveryHour), (0...23).contains(value) else {
                throw SubscriberError("delivery hour must be a whole number from 0 to 23, not \"\(deliveryHour)\"")
            }
            hour = value
        }
        return Subscriber(
            email: email, name: name?.isEmpty == true ? nil : name, status: confirmed ? .active : .pending,
            sections: kinds, format: parsedFormat, timeZone: timeZone, deliveryHour: hour, createdAt: now,
            confirmedAt: confirmed ? now : nil)
    }
}
