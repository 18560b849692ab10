import Foundation
import GRDB

/// The one doorway to the database: opens it in WAL mode, runs the named migrations, and owns
/// every SQL statement the rest of the program needs.
public final class Store: Sendable {
    let pool: DatabasePool
    /// Where the database lives, for messages.
    public let path: String

    /// Opens the database at `path` and brings its schema up to date. With `create` false (every command
    /// but `digest init`) a database that does not exist is refused, never made anew: a mistyped path or an
    /// unmounted volume must not look like an empty list to cron.
    public init(path: String, create: Bool = true) throws(StoreError) {
        self.path = path
        if !create && !FileManager.default.fileExists(atPath: path) {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            let hasFolder = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
            throw StoreError(
                path: path,
                underlying: StoreError.Missing(
                    message: (hasFolder ? "does not exist" : "does not exist (nor does its folder \(folder))")
                        + "; run `digest init` to create it, or correct `database` in the configuration"))
        }
        do {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = GRDB.Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last ones.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, underlying: error)
        }
    }

    /// Names of the migrations applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// Every migration ever shipped, by name, in order. Append only: never edit or reorder one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-items") { db in
            try db.execute(
                sql: """
                    CREATE TABLE items (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('story', 'post')),
                        title TEXT NOT NULL,
                        url TEXT NOT NULL UNIQUE,
                        summary TEXT NOT NULL DEFAULT '',
                        author TEXT,
                        imageURL TEXT,
                        publishedAt DATETIME NOT NULL,
                        votes INTEGER NOT NULL DEFAULT 0 CHECK (votes >= 0),
                        updatedAt DATETIME NOT NULL
                    );
                    CREATE INDEX items_by_kind_published ON items (kind, publishedAt);
                    """)
        }
        migrator.registerMigration("v1-subscribers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE subscribers (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        name TEXT,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
                        sections TEXT NOT NULL DEFAULT '',
                        format TEXT NOT NULL DEFAULT 'html' CHECK (format IN ('html', 'text')),
                        timeZone TEXT,
                        deliveryHour INTEGER CHECK (deliveryHour BETWEEN 0 AND 23),
                        createdAt DATETIME NOT NULL,
                        confirmedAt DATETIME,
                        unsubscribedAt DATETIME,
                        bounceCount INTEGER NOT NULL DEFAULT 0,
                        lastConfirmationAt DATETIME
                    );
                    CREATE INDEX subscribers_by_status ON subscribers (status, timeZone, deliveryHour);
                    """)
        }
        migrator.registerMigration("v1-editions-deliveries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE editions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        date TEXT NOT NULL UNIQUE,
                        windowStart DATETIME NOT NULL,
                        cutoff DATETIME NOT NULL,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE edition_items (
                        editionID INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        itemID INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        title TEXT NOT NULL,
                        url TEXT NOT NULL,
                        summary TEXT NOT NULL,
                        author TEXT,
                        imageURL TEXT,
                        publishedAt DATETIME NOT NULL,
                        votes INTEGER NOT NULL,
                        PRIMARY KEY (editionID, position)
                    );
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        editionID INTEGER NOT NULL REFERENCES editions(id),
                        subscriberID INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                        status TEXT NOT NULL
                            CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'skipped')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        messageID TEXT NOT NULL,
                        itemIDs TEXT NOT NULL DEFAULT '',
                        lastReply TEXT,
                        queuedAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        nextAttemptAt DATETIME,
                        sentAt DATETIME,
                        claimedBy TEXT,
                        UNIQUE (editionID, subscriberID)
                    );
                    CREATE INDEX deliveries_by_status ON deliveries (status, nextAttemptAt);
                    CREATE INDEX deliveries_by_subscriber ON deliveries (subscriberID, editionID);
                    """)
        }
        migrator.registerMigration("v1-runs-locks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        startedAt DATETIME NOT NULL,
                        finishedAt DATETIME,
                        command TEXT NOT NULL,
                        summary TEXT NOT NULL DEFAULT '{}',
                        exitStatus INTEGER
                    );
                    CREATE TABLE locks (
                        name TEXT PRIMARY KEY,
                        owner TEXT NOT NULL,
                        pid INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        expiresAt DATETIME NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-feed-state") { db in
            // Validators of the last successful feed fetch, for conditional GET (RFC 9110 §13.1).
            try db.execute(
                sql: """
                    CREATE TABLE feed_state (
                        url TEXT PRIMARY KEY,
                        etag TEXT,
                        lastModified TEXT,
                        fetchedAt DATETIME NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3-used-challenges") { db in
            // Ids of math-challenge tokens already answered, so each is good for one try; rows
            // are pruned once the token could no longer be accepted anyway.
            try db.execute(
                sql: """
                    CREATE TABLE used_challenges (
                        id TEXT PRIMARY KEY,
                        expiresAt DATETIME NOT NULL
                    );
                    CREATE INDEX used_challenges_by_expiry ON used_challenges (expiresAt);
                    """)
        }
        migrator.registerMigration("v4-subscribers-bounced-at") { db in
            // When a reader was marked bounced, so a mistake can be undone for a span of time
            // (`digest subscribers reactivate --bounced-since`).
            try db.execute(sql: "ALTER TABLE subscribers ADD COLUMN bouncedAt DATETIME")
        }
        migrator.registerMigration("v4-bounce-events") { db in
            // Bounces and complaints that arrived after the SMTP session (DSNs, ARF reports, the
            // bounces API), one row per (report, recipient): a second import of the same report
            // finds its row and changes nothing.
            try db.execute(
                sql: """
                    CREATE TABLE bounce_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        reportKey TEXT NOT NULL,
                        recipient TEXT NOT NULL DEFAULT '',
                        kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'failed', 'complaint')),
                        subscriberID INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
                        deliveryID INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
                        status TEXT NOT NULL DEFAULT '',
                        reason TEXT NOT NULL DEFAULT '',
                        source TEXT NOT NULL,
                        receivedAt DATETIME NOT NULL,
                        UNIQUE (reportKey, recipient)
                    );
                    CREATE INDEX bounce_events_by_subscriber ON bounce_events (subscriberID, kind);
                    CREATE INDEX bounce_events_by_delivery ON bounce_events (deliveryID);
                    """)
        }
        migrator.registerMigration("v4-web-outbox") { db in
            // Mail the web side sends (confirmations), written in the same transaction as the
            // sign-up that caused it and sent from here by `digest serve`'s outbox worker, so a
            // restart or a kill loses none. The bytes are final: a re-send keeps the Message-ID.
            // `used_challenges.email`: the address a question signed up, so a repeated POST (a
            // double click) is recognised as the same sign-up.
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        purpose TEXT NOT NULL,
                        subscriberID INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
                        sender TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        messageID TEXT NOT NULL UNIQUE,
                        data BLOB NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        lastReply TEXT,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        nextAttemptAt DATETIME NOT NULL,
                        sentAt DATETIME,
                        claimedBy TEXT,
                        claimedUntil DATETIME
                    );
                    CREATE INDEX outbox_by_status ON outbox (status, nextAttemptAt);
                    CREATE INDEX outbox_by_subscriber ON outbox (subscriberID, purpose);
                    ALTER TABLE used_challenges ADD COLUMN email TEXT;
                    """)
        }
        return migrator
    }
}

/// A database that cannot be opened, migrated, read or written, with its path.
public struct StoreError: Error, CustomStringConvertible {
    public var path: String
    public var underlying: any Error
    public var description: String { "database \(path): \(underlying)" }

    /// The database file is not there and was not to be created.
    public struct Missing: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Whether the database was missing (not created).
    public var isMissing: Bool { underlying is Missing }
}
