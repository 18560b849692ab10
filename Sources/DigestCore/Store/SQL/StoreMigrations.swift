import Foundation

/// One named change of the schema, written once for both dialects: the spellings that differ come from
/// `SchemaDialect` (`\(d.id)`, `\(d.timestamp)`, …). Append only: never edit or reorder one that shipped;
/// the same names are applied, in the same order, to SQLite and to PostgreSQL.
struct StoreMigration: Sendable {
    var name: String
    private let script: @Sendable (SchemaDialect) -> String
    /// Work that follows the script in the same transaction, for a backfill that needs Swift (grouping
    /// reply texts). It must only touch what existed when the migration shipped, as the script does.
    let backfill: (@Sendable (any SQLConnection) throws -> Void)?

    init(
        _ name: String, _ script: @escaping @Sendable (SchemaDialect) -> String,
        backfill: (@Sendable (any SQLConnection) throws -> Void)? = nil
    ) {
        self.name = name
        self.script = script
        self.backfill = backfill
    }

    /// A change spelled the same in both dialects.
    init(_ name: String, _ sql: String) {
        self.init(name) { _ in sql }
    }

    func sql(for dialect: SQLDialect) -> String { script(SchemaDialect(dialect)) }
}

extension Store {
    /// Every migration ever shipped, in order.
    static let migrations: [StoreMigration] = [
        StoreMigration("v1-items") { d in
            """
            CREATE TABLE items (
                id \(d.id),
                kind TEXT NOT NULL CHECK (kind IN ('story', 'post')),
                title TEXT NOT NULL,
                url TEXT NOT NULL UNIQUE,
                summary TEXT NOT NULL DEFAULT '',
                author TEXT,
                imageURL TEXT,
                publishedAt \(d.timestamp) NOT NULL,
                votes \(d.integer) NOT NULL DEFAULT 0 CHECK (votes >= 0),
                updatedAt \(d.timestamp) NOT NULL
            );
            CREATE INDEX items_by_kind_published ON items (kind, publishedAt);
            """
        },
        StoreMigration("v1-subscribers") { d in
            """
            \(d.caseInsensitiveCollation)CREATE TABLE subscribers (
                id \(d.id),
                email \(d.caseInsensitiveUniqueText),
                name TEXT,
                status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
                sections TEXT NOT NULL DEFAULT '',
                format TEXT NOT NULL DEFAULT 'html' CHECK (format IN ('html', 'text')),
                timeZone TEXT,
                deliveryHour \(d.integer) CHECK (deliveryHour BETWEEN 0 AND 23),
                createdAt \(d.timestamp) NOT NULL,
                confirmedAt \(d.timestamp),
                unsubscribedAt \(d.timestamp),
                bounceCount \(d.integer) NOT NULL DEFAULT 0,
                lastConfirmationAt \(d.timestamp)
            );
            CREATE INDEX subscribers_by_status ON subscribers (status, timeZone, deliveryHour);
            """
        },
        StoreMigration("v1-editions-deliveries") { d in
            """
            CREATE TABLE editions (
                id \(d.id),
                date TEXT NOT NULL UNIQUE,
                windowStart \(d.timestamp) NOT NULL,
                cutoff \(d.timestamp) NOT NULL,
                createdAt \(d.timestamp) NOT NULL
            );
            CREATE TABLE edition_items (
                editionID \(d.integer) NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
                position \(d.integer) NOT NULL,
                itemID \(d.integer) NOT NULL,
                kind TEXT NOT NULL,
                title TEXT NOT NULL,
                url TEXT NOT NULL,
                summary TEXT NOT NULL,
                author TEXT,
                imageURL TEXT,
                publishedAt \(d.timestamp) NOT NULL,
                votes \(d.integer) NOT NULL,
                PRIMARY KEY (editionID, position)
            );
            CREATE TABLE deliveries (
                id \(d.id),
                editionID \(d.integer) NOT NULL REFERENCES editions(id),
                subscriberID \(d.integer) NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                status TEXT NOT NULL
                    CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'skipped')),
                attempts \(d.integer) NOT NULL DEFAULT 0,
                messageID TEXT NOT NULL,
                itemIDs TEXT NOT NULL DEFAULT '',
                lastReply TEXT,
                queuedAt \(d.timestamp) NOT NULL,
                updatedAt \(d.timestamp) NOT NULL,
                nextAttemptAt \(d.timestamp),
                sentAt \(d.timestamp),
                claimedBy TEXT,
                UNIQUE (editionID, subscriberID)
            );
            CREATE INDEX deliveries_by_status ON deliveries (status, nextAttemptAt);
            CREATE INDEX deliveries_by_subscriber ON deliveries (subscriberID, editionID);
            """
        },
        StoreMigration("v1-runs-locks") { d in
            """
            CREATE TABLE runs (
                id \(d.id),
                startedAt \(d.timestamp) NOT NULL,
                finishedAt \(d.timestamp),
                command TEXT NOT NULL,
                summary TEXT NOT NULL DEFAULT '{}',
                exitStatus \(d.integer)
            );
            CREATE TABLE locks (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                pid \(d.integer) NOT NULL,
                host TEXT NOT NULL,
                expiresAt \(d.timestamp) NOT NULL
            );
            """
        },
        // Validators of the last successful feed fetch, for conditional GET (RFC 9110 §13.1).
        StoreMigration("v2-feed-state") { d in
            """
            CREATE TABLE feed_state (
                url TEXT PRIMARY KEY,
                etag TEXT,
                lastModified TEXT,
                fetchedAt \(d.timestamp) NOT NULL
            );
            """
        },
        // Ids of math-challenge tokens already answered, so each is good for one try; rows
        // are pruned once the token could no longer be accepted anyway.
        StoreMigration("v3-used-challenges") { d in
            """
            CREATE TABLE used_challenges (
                id TEXT PRIMARY KEY,
                expiresAt \(d.timestamp) NOT NULL
            );
            CREATE INDEX used_challenges_by_expiry ON used_challenges (expiresAt);
            """
        },
        // When a reader was marked bounced, so a mistake can be undone for a span of time
        // (`digest subscribers reactivate --bounced-since`).
        StoreMigration("v4-subscribers-bounced-at") { d in
            "ALTER TABLE subscribers ADD COLUMN bouncedAt \(d.timestamp)"
        },
        // Bounces and complaints that arrived after the SMTP session (DSNs, ARF reports, the
        // bounces API), one row per (report, recipient): a second import of the same report
        // finds its row and changes nothing.
        StoreMigration("v4-bounce-events") { d in
            """
            CREATE TABLE bounce_events (
                id \(d.id),
                reportKey TEXT NOT NULL,
                recipient TEXT NOT NULL DEFAULT '',
                kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'failed', 'complaint')),
                subscriberID \(d.integer) NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                deliveryID \(d.integer) REFERENCES deliveries(id) ON DELETE SET NULL,
                status TEXT NOT NULL DEFAULT '',
                reason TEXT NOT NULL DEFAULT '',
                source TEXT NOT NULL,
                receivedAt \(d.timestamp) NOT NULL,
                UNIQUE (reportKey, recipient)
            );
            CREATE INDEX bounce_events_by_subscriber ON bounce_events (subscriberID, kind);
            CREATE INDEX bounce_events_by_delivery ON bounce_events (deliveryID);
            """
        },
        // Mail the web side sends (confirmations), written in the same transaction as the
        // sign-up that caused it and sent from here by `digest serve`'s outbox worker, so a
        // restart or a kill loses none. The bytes are final: a re-send keeps the Message-ID.
        // `used_challenges.email`: the address a question signed up, so a repeated POST (a
        // double click) is recognised as the same sign-up.
        StoreMigration("v4-web-outbox") { d in
            """
            CREATE TABLE outbox (
                id \(d.id),
                purpose TEXT NOT NULL,
                subscriberID \(d.integer) REFERENCES subscribers(id) ON DELETE CASCADE,
                sender TEXT NOT NULL,
                recipient TEXT NOT NULL,
                messageID TEXT NOT NULL UNIQUE,
                data \(d.blob) NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed')),
                attempts \(d.integer) NOT NULL DEFAULT 0,
                lastReply TEXT,
                createdAt \(d.timestamp) NOT NULL,
                updatedAt \(d.timestamp) NOT NULL,
                nextAttemptAt \(d.timestamp) NOT NULL,
                sentAt \(d.timestamp),
                claimedBy TEXT,
                claimedUntil \(d.timestamp)
            );
            CREATE INDEX outbox_by_status ON outbox (status, nextAttemptAt);
            CREATE INDEX outbox_by_subscriber ON outbox (subscriberID, purpose);
            ALTER TABLE used_challenges ADD COLUMN email TEXT;
            """
        },
        // Rows a sender holds (`claimedBy`, status 'sending'), found without a scan: cooperating senders
        // look for claims whose worker's lease ran out, and each renews and releases its own.
        StoreMigration(
            "v5-deliveries-claims",
            "CREATE INDEX deliveries_claimed ON deliveries (claimedBy) WHERE status = 'sending'"),
        // Only the rows still to send are indexed for claiming, in id order: a claim reads its batch from the
        // front of the index instead of sorting every due row, and a recorded outcome leaves the row out of
        // it (one index page fewer per committed message than moving it within `(status, nextAttemptAt)`).
        StoreMigration(
            "v6-deliveries-due",
            """
            DROP INDEX deliveries_by_status;
            CREATE INDEX deliveries_due ON deliveries (id, status, nextAttemptAt) WHERE status IN ('queued', 'deferred');
            """),
        // Summary rows for the admin console, `digest stats` and `/metrics`, so that no figure counts the
        // ledger (a million rows a week on a big list) while a page waits.
        // `daily_stats`: per UTC day, what happened to the list, counted by the code that made it happen, in
        // the same transaction (`Store.count`): sign-ups, confirmations, unsubscribes, readers marked bounced,
        // bounce and complaint reports received, and the net change of each status (their sum over every day
        // is the number of readers in that status now; the backfill keeps that true for older databases by
        // dating each reader's current status from its own timestamps).
        // `edition_stats`: per edition, the ledger's outcome (recipients, sent, deferred, failed and skipped
        // with their grouped reasons), written from that edition's rows at the end of each run that touched
        // it, plus the bounce and complaint reports about its messages, counted as each one is recorded.
        // `subscribers_by_email_lower`: reader search by address prefix, whatever the case, on PostgreSQL
        // (its case-insensitive collation cannot LIKE); SQLite's NOCASE email index already serves a prefix.
        StoreMigration(
            "v7-stats-summaries",
            { d in
                """
                CREATE TABLE daily_stats (
                    day TEXT PRIMARY KEY,
                    signups \(d.integer) NOT NULL DEFAULT 0,
                    confirmations \(d.integer) NOT NULL DEFAULT 0,
                    unsubscribes \(d.integer) NOT NULL DEFAULT 0,
                    bounced \(d.integer) NOT NULL DEFAULT 0,
                    reactivated \(d.integer) NOT NULL DEFAULT 0,
                    removed \(d.integer) NOT NULL DEFAULT 0,
                    hardBounces \(d.integer) NOT NULL DEFAULT 0,
                    softBounces \(d.integer) NOT NULL DEFAULT 0,
                    otherBounces \(d.integer) NOT NULL DEFAULT 0,
                    complaints \(d.integer) NOT NULL DEFAULT 0,
                    pendingChange \(d.integer) NOT NULL DEFAULT 0,
                    activeChange \(d.integer) NOT NULL DEFAULT 0,
                    unsubscribedChange \(d.integer) NOT NULL DEFAULT 0,
                    bouncedChange \(d.integer) NOT NULL DEFAULT 0
                );
                CREATE TABLE edition_stats (
                    editionID \(d.integer) PRIMARY KEY REFERENCES editions(id) ON DELETE CASCADE,
                    recipients \(d.integer) NOT NULL DEFAULT 0,
                    queued \(d.integer) NOT NULL DEFAULT 0,
                    sent \(d.integer) NOT NULL DEFAULT 0,
                    deferred \(d.integer) NOT NULL DEFAULT 0,
                    failed \(d.integer) NOT NULL DEFAULT 0,
                    skipped \(d.integer) NOT NULL DEFAULT 0,
                    hardBounces \(d.integer) NOT NULL DEFAULT 0,
                    softBounces \(d.integer) NOT NULL DEFAULT 0,
                    otherBounces \(d.integer) NOT NULL DEFAULT 0,
                    complaints \(d.integer) NOT NULL DEFAULT 0,
                    deferredReasons TEXT NOT NULL DEFAULT '{}',
                    failedReasons TEXT NOT NULL DEFAULT '{}',
                    skippedReasons TEXT NOT NULL DEFAULT '{}',
                    updatedAt \(d.timestamp) NOT NULL
                );
                \(d.dialect == .postgres ? "CREATE INDEX subscribers_by_email_lower ON subscribers (lower(email COLLATE \"C\") text_pattern_ops);" : "")
                """
            }, backfill: { db in try StatsBackfill.run(db) }),
        // The admin console's sign-in sessions, kept server-side so that signing out and expiry are real:
        // only the SHA-256 of a session's id is stored (the id itself is in the admin's cookie alone), so
        // reading this table opens no session. Rows are pruned once expired.
        // Every admin action, one row each, never changed: when, what (`reader.unsubscribe`), which reader
        // (id and address as they were: the row stays when the reader is erased), who and from where.
        StoreMigration("v7-admin-sessions-audit") { d in
            """
            CREATE TABLE admin_sessions (
                idHash TEXT PRIMARY KEY,
                createdAt \(d.timestamp) NOT NULL,
                expiresAt \(d.timestamp) NOT NULL,
                clientAddress TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expiresAt);
            CREATE TABLE admin_audit (
                id \(d.id),
                at \(d.timestamp) NOT NULL,
                action TEXT NOT NULL,
                subscriberID \(d.integer),
                subscriberEmail TEXT,
                detail TEXT NOT NULL DEFAULT '',
                actor TEXT NOT NULL,
                clientAddress TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX admin_audit_by_subscriber ON admin_audit (subscriberID, id);
            """
        },
        // The admin console's reader search (`Store.searchSubscribers`: the text anywhere in the address or the
        // name, whatever its case) on PostgreSQL: without an index every search computed lower() of every
        // reader twice (110 ms on 100,000 readers, twice per page: the count and the page). A trigram index on
        // the very expressions the query compares; SQLite scans (see `substringIndex`).
        StoreMigration("v8-subscribers-search") { d in
            d.substringIndex(
                "subscribers_search", on: "subscribers",
                ["lower(email COLLATE \"C\")", "lower(coalesce(name, '') COLLATE \"C\")"])
        },
        // Readers choose (issue 25): a cadence (daily, weekly on a weekday, monthly), a pause that ends on a
        // day, and a length; every reader so far is daily, not paused, at the site's counts. An edition is
        // now identified by its date and its kind (daily, weekly, monthly, catch-up), so one day may have
        // several; a reader still gets at most one a day (`EditionPlanner`). The ledger gains `superseded`
        // (a newer edition took the place of one that had not gone out: after an outage a reader gets one
        // digest, not a pile) and, for a catch-up, the day the reader's last edition came out (`coversSince`:
        // their share holds only what came after it). SQLite cannot change a constraint in place: the two
        // tables are rebuilt as https://sqlite.org/lang_altertable.html#otheralter describes (foreign keys
        // unenforced meanwhile, `Store.migrate`), their indexes made again. The status index gains the choices,
        // so the admin's "readers due in the next 24 hours" still reads its groups off it (`Store.dueHours`).
        StoreMigration("v9-reader-choices") { d in
            let subscribers = """
                ALTER TABLE subscribers ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily'
                    CHECK (cadence IN ('daily', 'weekly', 'monthly'));
                ALTER TABLE subscribers ADD COLUMN weekday TEXT NOT NULL DEFAULT 'mon'
                    CHECK (weekday IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'));
                ALTER TABLE subscribers ADD COLUMN pausedUntil TEXT;
                ALTER TABLE subscribers ADD COLUMN maxStories \(d.integer) CHECK (maxStories BETWEEN 1 AND 100);
                ALTER TABLE subscribers ADD COLUMN maxPosts \(d.integer) CHECK (maxPosts BETWEEN 1 AND 100);
                ALTER TABLE subscribers ADD COLUMN readingMinutes \(d.integer) CHECK (readingMinutes BETWEEN 1 AND 100);
                DROP INDEX subscribers_by_status;
                CREATE INDEX subscribers_by_status
                    ON subscribers (status, timeZone, deliveryHour, cadence, weekday, pausedUntil);

                """
            let kinds = "kind IN ('daily', 'weekly', 'monthly', 'catch-up')"
            let statuses = "status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'skipped', 'superseded')"
            if d.dialect == .postgres {
                return subscribers + """
                    ALTER TABLE editions ADD COLUMN kind TEXT NOT NULL DEFAULT 'daily' CHECK (\(kinds));
                    ALTER TABLE editions DROP CONSTRAINT editions_date_key;
                    ALTER TABLE editions ADD CONSTRAINT editions_date_kind_key UNIQUE (date, kind);
                    ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
                    ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (\(statuses));
                    ALTER TABLE deliveries ADD COLUMN coversSince TEXT;
                    """
            }
            return subscribers + """
                CREATE TABLE editions_v9 (
                    id \(d.id),
                    date TEXT NOT NULL,
                    kind TEXT NOT NULL DEFAULT 'daily' CHECK (\(kinds)),
                    windowStart \(d.timestamp) NOT NULL,
                    cutoff \(d.timestamp) NOT NULL,
                    createdAt \(d.timestamp) NOT NULL,
                    UNIQUE (date, kind)
                );
                INSERT INTO editions_v9 (id, date, kind, windowStart, cutoff, createdAt)
                    SELECT id, date, 'daily', windowStart, cutoff, createdAt FROM editions;
                DROP TABLE editions;
                ALTER TABLE editions_v9 RENAME TO editions;
                CREATE TABLE deliveries_v9 (
                    id \(d.id),
                    editionID \(d.integer) NOT NULL REFERENCES editions(id),
                    subscriberID \(d.integer) NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                    status TEXT NOT NULL CHECK (\(statuses)),
                    attempts \(d.integer) NOT NULL DEFAULT 0,
                    messageID TEXT NOT NULL,
                    itemIDs TEXT NOT NULL DEFAULT '',
                    lastReply TEXT,
                    queuedAt \(d.timestamp) NOT NULL,
                    updatedAt \(d.timestamp) NOT NULL,
                    nextAttemptAt \(d.timestamp),
                    sentAt \(d.timestamp),
                    claimedBy TEXT,
                    coversSince TEXT,
                    UNIQUE (editionID, subscriberID)
                );
                INSERT INTO deliveries_v9 (
                    id, editionID, subscriberID, status, attempts, messageID, itemIDs, lastReply, queuedAt, updatedAt,
                    nextAttemptAt, sentAt, claimedBy)
                SELECT id, editionID, subscriberID, status, attempts, messageID, itemIDs, lastReply, queuedAt, updatedAt,
                    nextAttemptAt, sentAt, claimedBy FROM deliveries;
                DROP TABLE deliveries;
                ALTER TABLE deliveries_v9 RENAME TO deliveries;
                CREATE INDEX deliveries_by_subscriber ON deliveries (subscriberID, editionID);
                CREATE INDEX deliveries_claimed ON deliveries (claimedBy) WHERE status = 'sending';
                CREATE INDEX deliveries_due ON deliveries (id, status, nextAttemptAt) WHERE status IN ('queued', 'deferred');
                """
        },
        // Clicks on the digest's item links (`privacy.clickCounting`): a count per edition and item, and with
        // `perReader` only, per edition, item and reader. Counts, not events: no time and no address of a click
        // is kept. A reader's rows leave with the reader (erasure).
        StoreMigration("v10-clicks") { d in
            """
            CREATE TABLE clicks (
                editionID \(d.integer) NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
                itemID \(d.integer) NOT NULL,
                count \(d.integer) NOT NULL DEFAULT 0,
                PRIMARY KEY (editionID, itemID)
            );
            CREATE TABLE reader_clicks (
                editionID \(d.integer) NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
                itemID \(d.integer) NOT NULL,
                subscriberID \(d.integer) NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                count \(d.integer) NOT NULL DEFAULT 0,
                PRIMARY KEY (editionID, itemID, subscriberID)
            );
            CREATE INDEX reader_clicks_by_subscriber ON reader_clicks (subscriberID);
            """
        },
        // Votes from the digest (issue 26): a reader presses "Vote for this story" on the page of an item's vote
        // link. `items.digestVotes` counts them beside the site's `votes` (the ranking adds them at
        // `digest.digestVoteWeight`); `digest_votes` keeps one row per (item, reader) so a reader votes once for an
        // item, whichever edition's link they use, however many times it is pressed at once. Erasing a reader
        // keeps their votes in the counts and forgets whose they were (`subscriberID` set to NULL); deleting an
        // item deletes its rows. `votedAt` serves `GET /api/items/votes?since=`.
        StoreMigration("v11-digest-votes") { d in
            """
            ALTER TABLE items ADD COLUMN digestVotes \(d.integer) NOT NULL DEFAULT 0 CHECK (digestVotes >= 0);
            CREATE TABLE digest_votes (
                id \(d.id),
                itemID \(d.integer) NOT NULL REFERENCES items(id) ON DELETE CASCADE,
                subscriberID \(d.integer) REFERENCES subscribers(id) ON DELETE SET NULL,
                editionID \(d.integer) NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
                votedAt \(d.timestamp) NOT NULL,
                UNIQUE (itemID, subscriberID)
            );
            CREATE INDEX digest_votes_by_time ON digest_votes (votedAt);
            CREATE INDEX digest_votes_by_subscriber ON digest_votes (subscriberID);
            CREATE INDEX digest_votes_by_edition ON digest_votes (editionID, itemID);
            """
        },
        // Each migration below is one line naming a migration of its own file, so branches append theirs in any
        // order.
        .inbound,
    ]
}
