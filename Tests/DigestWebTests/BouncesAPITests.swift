import DigestCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigestWeb

@Suite struct BouncesAPITests {
    func readers(_ fixture: WebFixture) throws -> [Subscriber] {
        try (0..<3).map { index in
            try fixture.store.addSubscriber(
                Subscriber(email: try EmailAddress("reader\(index)@reader.example"), status: .active))
        }
    }

    @Test func needsTheAdminToken() async throws {
        let fixture = try WebFixture()
        _ = try readers(fixture)
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/api/bounces", method: .post, headers: [.authorization: "Bearer wrong"],
                body: body(#"{"email": "reader0@reader.example", "type": "complaint"}"#)
            ) { #expect($0.status == .unauthorized) }
        }
        #expect(try fixture.store.subscriber(email: try EmailAddress("reader0@reader.example"))?.status == .active)
    }

    @Test func appliesComplaintsAndBouncesOnceEach() async throws {
        let fixture = try WebFixture()
        let readers = try readers(fixture)
        let request = """
            [{"email": "reader0@reader.example", "type": "complaint", "reason": "FBL: marked as spam"},
             {"email": "reader1@reader.example", "type": "hard", "reason": "550 5.2.1 mailbox disabled", "id": "evt-1"},
             {"email": "reader1@reader.example", "type": "hard", "reason": "550 5.2.1 mailbox disabled", "id": "evt-2"},
             {"email": "reader1@reader.example", "type": "hard", "reason": "550 5.2.1 mailbox disabled", "id": "evt-3"},
             {"email": "reader2@reader.example", "type": "soft", "reason": "452 mailbox full"},
             {"email": "stranger@elsewhere.example", "type": "hard"}]
            """
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/bounces", method: .post, headers: authorized, body: body(request)) { response in
                #expect(response.status == .ok)
                let reply = object(response)
                #expect(reply?["recorded"] as? Int == 5)
                #expect(reply?["duplicates"] as? Int == 0)
                #expect(reply?["unmatched"] as? [Int] == [5])
                #expect(reply?["bounced"] as? [String] == ["reader1@reader.example"])
                #expect(reply?["unsubscribed"] as? [String] == ["reader0@reader.example"])
            }
            // A webhook retried: nothing changes.
            try await client.execute(uri: "/api/bounces", method: .post, headers: authorized, body: body(request)) { response in
                #expect(object(response)?["recorded"] as? Int == 0)
                #expect(object(response)?["duplicates"] as? Int == 5)
            }
        }
        #expect(try fixture.store.subscriber(id: readers[0].id!)?.status == .unsubscribed)
        #expect(try fixture.store.complaintReason(subscriberID: readers[0].id!) == "FBL: marked as spam")
        #expect(try fixture.store.subscriber(id: readers[1].id!)?.status == .bounced)
        #expect(try fixture.store.subscriber(id: readers[2].id!)?.status == .active)
        #expect(try fixture.store.bounceCountsBySubscriber()[readers[2].id!]?.soft == 1)
    }

    /// A provider's hard bounce whose diagnostic says the mailbox does not exist (5.1.1, 5.1.10) marks the reader
    /// `bounced` at once, its status on record; another hard bounce only counts.
    @Test func aMailboxThatDoesNotExistIsBouncedAtOnce() async throws {
        let fixture = try WebFixture()
        let readers = try readers(fixture)
        let request = """
            [{"email": "reader0@reader.example", "type": "hard", "reason": "smtp; 550 5.1.1 user unknown"},
             {"email": "reader1@reader.example", "type": "hard", "reason": "smtp; 556 5.1.10 null MX"},
             {"email": "reader2@reader.example", "type": "hard", "reason": "smtp; 550 5.2.1 mailbox disabled"}]
            """
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/bounces", method: .post, headers: authorized, body: body(request)) { response in
                #expect(response.status == .ok)
                #expect(object(response)?["bounced"] as? [String] == ["reader0@reader.example", "reader1@reader.example"])
            }
        }
        #expect(try fixture.store.subscriber(id: readers[0].id!)?.status == .bounced)
        #expect(try fixture.store.subscriber(id: readers[1].id!)?.status == .bounced)
        #expect(try fixture.store.subscriber(id: readers[2].id!)?.status == .active)
        #expect(try fixture.store.subscriber(id: readers[2].id!)?.bounceCount == 1)
        let statuses = try readers.map { try fixture.store.subscriberDetail(id: $0.id!)?.bounces.map(\.status) }
        #expect(statuses == [["5.1.1"], ["5.1.10"], ["5.2.1"]])
    }

    @Test func aBadRecordIsRefusedWholeWithItsIndexAndField() async throws {
        let fixture = try WebFixture()
        _ = try readers(fixture)
        let request = """
            [{"email": "reader0@reader.example", "type": "complaint"},
             {"email": "reader1@reader.example", "type": "bounce"}]
            """
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/bounces", method: .post, headers: authorized, body: body(request)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["index"] as? Int == 1)
                #expect(object(response)?["field"] as? String == "type")
            }
            try await client.execute(
                uri: "/api/bounces", method: .post, headers: authorized, body: body(#"{"type": "hard"}"#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(object(response)?["field"] as? String == "email")
            }
            try await client.execute(
                uri: "/api/bounces", method: .post, headers: authorized, body: body(#"{"email": "x@y.example", "type": "hard", "extra": 1}"#)
            ) { response in
                #expect(object(response)?["field"] as? String == "extra")
            }
        }
        #expect(try fixture.store.subscriber(email: try EmailAddress("reader0@reader.example"))?.status == .active)
    }
}
