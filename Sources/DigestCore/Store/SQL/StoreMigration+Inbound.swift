extension StoreMigration {
    /// Every message `digest inbound import` and `POST /api/inbound` applied, by its key (its Message-ID, else a
    /// digest of its bytes), with what it was: a second import of the same message finds its row and changes
    /// nothing. Bounces and complaints keep their own rows per (report, recipient) in `bounce_events`; this table
    /// holds the rest (command replies, letters, auto-replies, refused replies), counted by kind. A reader's rows
    /// go with them when they are erased, like their bounce events.
    static let inbound = StoreMigration("v13-inbound") { d in
        """
        CREATE TABLE inbound_messages (
            messageKey TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('command', 'letter', 'auto-reply', 'refused')),
            subscriberID \(d.integer) REFERENCES subscribers(id) ON DELETE CASCADE,
            detail TEXT NOT NULL DEFAULT '',
            receivedAt \(d.timestamp) NOT NULL
        );
        CREATE INDEX inbound_messages_by_kind ON inbound_messages (kind, receivedAt);
        """
    }
}
