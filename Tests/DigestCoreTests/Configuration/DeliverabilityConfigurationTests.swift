import Foundation
import Testing

@testable import DigestCore

@Suite struct DeliverabilityConfigurationTests {
    let directory = TemporaryDirectory("deliverability-config")

    func mail(_ settings: [String: Any], smtp: [String: Any]? = nil) throws -> Configuration.Mail {
        try Fixtures.configuration(in: directory) { json in
            var mail = json["mail"] as! [String: Any]
            mail.merge(settings) { _, new in new }
            json["mail"] = mail
            if let smtp { Fixtures.useSMTP(&json, smtp) }
        }.mail
    }

    @Test func theEHLONameDefaultsToTheDomainOfFrom() throws {
        let plain = try mail([:], smtp: ["url": "smtp://127.0.0.1:2525"])
        #expect(plain.effectiveHeloName == "courier.example")
        #expect(plain.smtpURL == "smtp://127.0.0.1:2525/courier.example")
        let named = try mail(["heloName": "mail.courier.example"], smtp: ["url": "smtps://relay.example/"])
        #expect(named.smtpURL == "smtps://relay.example/mail.courier.example")
        // A path in the URL already names the EHLO host: left as written.
        let explicit = try mail(["heloName": "mail.courier.example"], smtp: ["url": "smtp://relay.example:587/out.example"])
        #expect(explicit.smtpURL == "smtp://relay.example:587/out.example")
    }

    /// The relay hears the domain in EHLO, not the machine's bare host name (smtp-sink records it).
    @Test func theRelayHearsTheDomainInEHLO() throws {
        let sink = try SMTPSinkServer()
        defer { sink.stop() }
        let transport = try mail([:], smtp: ["url": sink.url, "tls": "off"]).makeTransport(environment: [:])
        let outcome = try transport.makeConnection().send(MailTests.message(1))
        guard case .sent = outcome else {
            Issue.record("not sent: \(outcome)")
            return
        }
        let dump = try String(contentsOfFile: try #require(sink.receivedMessages().first).file, encoding: .utf8)
        #expect(dump.contains("X-Helo-Args: courier.example\n"), "\(dump.prefix(300))")
    }

    @Test func badValuesAreRefusedWithTheirKey() throws {
        #expect {
            _ = try mail(["heloName": "not a host"])
        } throws: { "\($0)".contains("mail.heloName") }
        #expect {
            _ = try mail(["bounceAddress": "bounces+x@courier.example"])
        } throws: { "\($0)".contains("mail.bounceAddress") }
        #expect {
            _ = try mail(["dkim": [["domain": "courier.example", "selector": "bad selector", "privateKeyFile": "k.pem"]]])
        } throws: { "\($0)".contains("mail.dkim[0].selector") }
        #expect {
            _ = try mail(["dkim": [["domain": "courier.example", "selector": "s1"]]])
        } throws: { "\($0)".contains("mail.dkim[0].privateKeyFile") }
        #expect(try mail(["bounceAddress": "bounces@courier.example"]).bounceAddress?.description == "bounces@courier.example")
        #expect(try mail([:]).bounceAddress == nil)
    }

    /// The reply address and the trusted receiving servers of reply commands: checked and named like the rest.
    @Test func replyCommandKeysAreReadAndBadOnesNamed() throws {
        let set = try mail(["replyAddress": "reply@courier.example", "trustedAuthservIds": ["MX.Courier.Example", "mx2.courier.example"]])
        #expect(set.replyAddress?.description == "reply@courier.example")
        #expect(set.trustedAuthservIds == ["mx.courier.example", "mx2.courier.example"])
        #expect(try mail([:]).replyAddress == nil && mail([:]).trustedAuthservIds == [])
        #expect {
            _ = try mail(["replyAddress": "reply+x@courier.example"])
        } throws: { "\($0)".contains("mail.replyAddress") && "\($0)".contains("must not contain \"+\"") }
        #expect {
            _ = try mail(["replyAddress": "not an address"])
        } throws: { "\($0)".contains("mail.replyAddress") }
        #expect {
            _ = try mail(["trustedAuthservIds": ["mx.courier.example", 3]])
        } throws: { "\($0)".contains("mail.trustedAuthservIds[1]") }
    }
}
