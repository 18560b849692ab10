import Foundation
import Testing

@testable import DigestCore

/// The admin console's sessions and audit table, on both stores; and the values that carry a session
/// (its cookie) and a form's CSRF token.
@Suite struct AdminStoreTests {
    let directory = TemporaryDirectory("admin-store")
    let now = Fixtures.date("2026-11-25T10:00:00Z")

    func session(_ id: String, at time: Date, hours: Double = 12, client: String = "198.51.100.7") -> AdminSession {
        AdminSession(
            idHash: AdminSession.hash(id), createdAt: time, expiresAt: time + hours * 3600, clientAddress: client)
    }

    @Test(arguments: StoreBackend.allCases) func sessionsLiveUntilTheyExpireOrEnd(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let first = AdminSession.newID()
        let second = AdminSession.newID()
        #expect(first != second)
        try store.createAdminSession(session(first, at: now), now: now)
        try store.createAdminSession(session(second, at: now, hours: 1), now: now)
        let found = try #require(try store.adminSession(idHash: AdminSession.hash(first), now: now + 60))
        #expect(found == session(first, at: now))
        // The id itself is nowhere in the table: only its hash.
        #expect(try store.adminSession(idHash: first, now: now) == nil)
        #expect(try store.adminSessionCount(now: now) == 2)
        // An hour on, the short one has expired; the long one is still there.
        #expect(try store.adminSession(idHash: AdminSession.hash(second), now: now + 3600) == nil)
        #expect(try store.adminSession(idHash: AdminSession.hash(first), now: now + 3600) != nil)
        // Signing out ends it at once.
        #expect(try store.endAdminSession(idHash: AdminSession.hash(first)))
        #expect(try store.adminSession(idHash: AdminSession.hash(first), now: now + 3601) == nil)
        #expect(try store.endAdminSession(idHash: AdminSession.hash(first)) == false)
        // The next sign-in prunes what expired.
        let rows: () throws -> Int = {
            try store.database.read { db in try db.fetchValue("SELECT count(*) FROM admin_sessions") ?? -1 }
        }
        #expect(try rows() == 1)
        try store.createAdminSession(session(AdminSession.newID(), at: now + 7200), now: now + 7200)
        #expect(try rows() == 1)
    }

    @Test(arguments: StoreBackend.allCases) func auditRowsAreWrittenAndReadNewestFirst(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let reader = try store.addSubscriber(Subscriber(email: try EmailAddress("rana@example.com"), status: .active))
        try store.recordAudit(
            AuditEntry(at: now, action: "admin.signin", actor: "session 1a2b3c4d", clientAddress: "198.51.100.7"))
        try store.recordAudit(
            AuditEntry(
                at: now + 1, action: "reader.note", detail: "asked by phone", actor: "bearer token",
                clientAddress: "::1"
            ).about(reader))
        try store.recordAudit(
            AuditEntry(at: now + 2, action: "admin.signout", actor: "session 1a2b3c4d", clientAddress: "198.51.100.7"))
        let log = try store.auditLog()
        #expect(log.map(\.action) == ["admin.signout", "reader.note", "admin.signin"])
        #expect(try store.auditCount() == 3)
        let note = log[1]
        #expect(note.subscriberID == reader.id)
        #expect(note.subscriberEmail == "rana@example.com")
        #expect(note.detail == "asked by phone")
        #expect(note.actor == "bearer token")
        #expect(note.clientAddress == "::1")
        #expect(note.at == now + 1)
        #expect(log[0].subscriberID == nil && log[0].subscriberEmail == nil)
        #expect(try store.auditLog(limit: 1, offset: 1).map(\.action) == ["reader.note"])
        #expect(try store.auditLog(subscriberID: reader.id!).map(\.action) == ["reader.note"])
        // The row outlives the reader it is about.
        #expect(try store.removeSubscriber(email: reader.email))
        #expect(try store.auditLog(subscriberID: reader.id!).first?.subscriberEmail == "rana@example.com")
    }

    /// A store action writes its audit row in its own transaction: both or neither.
    @Test(arguments: StoreBackend.allCases) func anActionAndItsAuditCommitTogether(backend: StoreBackend) throws {
        let store = try Fixtures.store(in: directory, backend)
        let reader = try store.addSubscriber(Subscriber(email: try EmailAddress("omar@example.com"), status: .active))
        let entry = AuditEntry(
            at: now, action: "reader.unsubscribe", actor: "admin listener", clientAddress: "127.0.0.1")
        guard case .changed = try store.unsubscribeSubscriber(id: reader.id!, now: now, audit: entry) else {
            Issue.record("the reader should have been unsubscribed")
            return
        }
        let row = try #require(try store.auditLog().first)
        #expect(row.action == "reader.unsubscribe" && row.subscriberID == reader.id)
        #expect(row.subscriberEmail == "omar@example.com")
        // No such reader: nothing changed, nothing recorded.
        #expect(try store.unsubscribeSubscriber(id: 9999, now: now, audit: entry) == .notFound)
        #expect(try store.auditCount() == 1)
        // A transaction that fails after the audit row takes the row with it.
        #expect(throws: SubscriberError.self) {
            try store.database.write { db in
                try Store.insertAudit(entry, in: db)
                throw SubscriberError("the action failed")
            }
        }
        #expect(try store.auditCount() == 1)
        // Sign-in and sign-out write theirs with the session.
        let id = AdminSession.newID()
        try store.createAdminSession(
            session(id, at: now), now: now,
            audit: AuditEntry(at: now, action: "admin.signin", actor: "session x", clientAddress: "a"))
        try store.endAdminSession(
            idHash: AdminSession.hash(id),
            audit: AuditEntry(at: now, action: "admin.signout", actor: "session x", clientAddress: "a"))
        #expect(try store.auditLog().map(\.action) == ["admin.signout", "admin.signin", "reader.unsubscribe"])
    }

    @Test func sessionCookiesAreSignedWithTheAdminToken() {
        let id = AdminSession.newID()
        #expect(id.utf8.count == 43)
        #expect(AdminSession.hash(id).count == 64)
        let value = AdminSession.cookieValue(id: id, adminToken: "token-one")
        #expect(AdminSession.id(inCookie: value, adminToken: "token-one") == id)
        // Another token (changed and restarted): every cookie is worthless.
        #expect(AdminSession.id(inCookie: value, adminToken: "token-two") == nil)
        #expect(AdminSession.id(inCookie: value, adminToken: "") == nil)
        // A made-up id, a changed MAC, a bare id: refused before any lookup.
        let other = AdminSession.newID()
        let mac = value.split(separator: ".")[1]
        for forged in ["\(other).\(mac)", id, "\(id).", "\(id).AAAA", "", ".", "a.b.c"] {
            #expect(AdminSession.id(inCookie: forged, adminToken: "token-one") == nil, "\(forged)")
        }
    }

    @Test func csrfTokensAreBoundAndExpire() throws {
        let signer = try LinkSigner(secret: "test-link-secret-0123456789")
        let session = CSRFBinding.session(idHash: AdminSession.hash(AdminSession.newID()))
        let token = signer.csrfToken(for: session, expires: now + 3600)
        #expect(signer.isValidCSRFToken(token, for: session, now: now))
        #expect(signer.isValidCSRFToken(token, for: session, now: now + 3600))
        #expect(!signer.isValidCSRFToken(token, for: session, now: now + 3601))
        // Bound: another session's or the listener's token does not pass.
        let other = CSRFBinding.session(idHash: AdminSession.hash(AdminSession.newID()))
        #expect(!signer.isValidCSRFToken(token, for: other, now: now))
        #expect(!signer.isValidCSRFToken(token, for: .adminListener, now: now))
        let listener = signer.csrfToken(for: .adminListener, expires: now + 60)
        #expect(signer.isValidCSRFToken(listener, for: .adminListener, now: now))
        #expect(!signer.isValidCSRFToken(listener, for: session, now: now))
        // Another secret, a later expiry written in, garbage: refused.
        #expect(!(try LinkSigner(secret: "another-secret-0123456789")).isValidCSRFToken(token, for: session, now: now))
        let parts = token.split(separator: ".")
        let extended = "\(Int(parts[0])! + 86400).\(parts[1])"
        #expect(!signer.isValidCSRFToken(extended, for: session, now: now))
        for bad in ["", ".", "123", "abc.def", token + "x"] {
            #expect(!signer.isValidCSRFToken(bad, for: session, now: now), "\(bad)")
        }
    }
}
