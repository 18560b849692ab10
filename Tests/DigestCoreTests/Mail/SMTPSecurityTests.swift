import Foundation
import Testing

@testable import DigestCore

/// STARTTLS, certificate verification, AUTH and per-recipient replies against aiosmtpd on loopback.
@Suite struct SMTPSecurityTests {
    static let environment = ["TEST_SMTP_PASSWORD": "s3cret"]

    @Test func startTLSWithTheRightCAAndAuthDelivers() async throws {
        let server = try await AIOSMTPDServer(tls: true, auth: ("digest", "s3cret"))
        let settings = MailTests.smtp(
            server.url, tls: .required, username: "digest", passwordEnv: "TEST_SMTP_PASSWORD", caFile: server.caFile)
        let transport = try SMTPTransport(settings: settings, environment: Self.environment)
        let messages = (0..<3).map { MailTests.message($0) }
        let (results, summary) = await MailTests.send(messages, over: transport)
        #expect(summary.sent == 3, "\(results)")
        for result in results.values {
            guard case .sent(let reply) = result.outcome else { continue }
            #expect(reply.hasPrefix("250 2.0.0 Ok: queued as"))
        }
        let received = try server.receivedMessages()
        #expect(received.map(\.data) == messages.map(\.data))
        #expect(received.map(\.recipients) == messages.map { [$0.recipient.ascii] })
        // One STARTTLS session carried all three messages.
        #expect(server.connectionCount == 1)
    }

    @Test func implicitTLSWithSMTPSDelivers() async throws {
        let server = try await AIOSMTPDServer(implicitTLS: true, auth: ("digest", "s3cret"))
        #expect(server.url.hasPrefix("smtps://"))
        let settings = MailTests.smtp(
            server.url, tls: .required, username: "digest", passwordEnv: "TEST_SMTP_PASSWORD", caFile: server.caFile)
        let transport = try SMTPTransport(settings: settings, environment: Self.environment)
        let messages = (0..<2).map { MailTests.message($0) }
        let (results, summary) = await MailTests.send(messages, over: transport)
        #expect(summary.sent == 2, "\(results)")
        #expect(try server.receivedMessages().map(\.data) == messages.map(\.data))
    }

    @Test func startTLSWithoutTheCAFailsVerificationAndStopsThePool() async throws {
        let server = try await AIOSMTPDServer(tls: true, auth: ("digest", "s3cret"))
        let settings = MailTests.smtp(
            server.url, tls: .required, connections: 1, username: "digest", passwordEnv: "TEST_SMTP_PASSWORD")
        let transport = try SMTPTransport(settings: settings, environment: Self.environment)
        let (results, summary) = await MailTests.send((0..<3).map { MailTests.message($0) }, over: transport)
        let result = try #require(results[0])
        #expect(result.isConfigurationFailure)
        guard case .transient(let reason) = result.outcome else {
            Issue.record("expected transient, got \(result.outcome)")
            return
        }
        #expect(reason.contains("certificate"), "\(reason)")
        #expect(summary.stoppedBecause == reason)
        // The pool stopped taking messages: the other two were never handed over.
        #expect(results.count == 1)
        #expect(try server.receivedMessages().isEmpty)
    }

    @Test func wrongPasswordIsAClearConfigurationError() async throws {
        let server = try await AIOSMTPDServer(tls: true, auth: ("digest", "s3cret"))
        let settings = MailTests.smtp(
            server.url, tls: .required, username: "digest", passwordEnv: "TEST_SMTP_PASSWORD", caFile: server.caFile)
        let transport = try SMTPTransport(settings: settings, environment: ["TEST_SMTP_PASSWORD": "wrong"])
        let (results, summary) = await MailTests.send([MailTests.message(1)], over: transport)
        let result = try #require(results[0])
        #expect(result.isConfigurationFailure)
        guard case .permanent(let reason) = result.outcome else {
            Issue.record("expected permanent, got \(result.outcome)")
            return
        }
        #expect(reason.hasPrefix("authentication failed for user digest: 535"), "\(reason)")
        #expect(summary.stoppedBecause == reason && summary.failed == 0 && summary.deferred == 1)
    }

    @Test func authenticationRequiredButNotConfiguredStopsThePool() async throws {
        let server = try await AIOSMTPDServer(auth: ("digest", "s3cret"))
        let transport = try SMTPTransport(settings: MailTests.smtp(server.url, connections: 1))
        let (results, summary) = await MailTests.send((0..<3).map { MailTests.message($0) }, over: transport)
        let result = try #require(results[0])
        #expect(result.isConfigurationFailure && results.count == 1)
        #expect(result.outcome.text.contains("requires authentication"), "\(result.outcome)")
        #expect(summary.stoppedBecause == result.outcome.text)
    }

    @Test func requiredTLSRefusesAServerWithoutSTARTTLS() async throws {
        let server = try await AIOSMTPDServer(tls: false)
        let transport = try SMTPTransport(settings: MailTests.smtp(server.url, tls: .required))
        let (results, _) = await MailTests.send([MailTests.message(1)], over: transport)
        let outcome = try #require(results[0]).outcome
        guard case .transient(let reason) = outcome else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
        #expect(reason.contains("STARTTLS not offered"), "\(reason)")
        #expect(try server.receivedMessages().isEmpty)
    }

    @Test func rejectedRecipientFailsWithTheServerReplyWhileOthersAreDelivered() async throws {
        let reply = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
        let server = try await AIOSMTPDServer(rejectRecipients: ["gone@example.org": reply])
        let transport = try SMTPTransport(settings: MailTests.smtp(server.url, connections: 2))
        var messages = (0..<6).map { MailTests.message($0) }
        messages[2] = MailTests.message(2, recipient: "gone@example.org")
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, jitter: 0)
        let (results, summary) = await MailTests.send(messages, over: transport, retry: retry)
        #expect(summary.sent == 5 && summary.failed == 1 && summary.retries == 0)
        #expect(results[2] == DeliveryResult(outcome: .permanent(reason: reply), attempts: 1, isBounce: true))
        let received = try server.receivedMessages()
        #expect(
            Set(received.flatMap(\.recipients))
                == Set(messages.map(\.recipient.ascii)).subtracting(["gone@example.org"]))
    }

    @Test func missingPasswordVariableIsNamedAtCreation() throws {
        let settings = MailTests.smtp("smtp://127.0.0.1:25", username: "digest", passwordEnv: "NO_SUCH_SMTP_PASSWORD")
        let error = #expect(throws: MailTransportError.self) {
            _ = try SMTPTransport(settings: settings, environment: [:])
        }
        #expect(error?.code == .missingPassword)
        #expect(error?.message.contains("NO_SUCH_SMTP_PASSWORD") == true)
    }
}
