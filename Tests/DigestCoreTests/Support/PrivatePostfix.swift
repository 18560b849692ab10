import Foundation

/// A private Postfix instance in a temporary folder (its own main.cf, master.cf and queue; no
/// network listener), for tests that need what a real MTA writes: mail to an unknown local user is
/// bounced by Postfix's local(8) and bounce(8), and the DSN is relayed to `relay` (an smtp-sink on
/// loopback that keeps it).
///
///     let sink = try SMTPSinkServer()
///     try await PrivatePostfix.with(relayPort: sink.port) { postfix in
///         try await postfix.submit(message, from: "bounces+…@courier.example", to: "no-such-reader@reader.example")
///     }
///
/// Needs root (Postfix's master runs as root and drops to `postfix`), as `scripts/setup --test` and
/// the test machines have: tests declare `.requires(.postfix)`. Postfix's commands run through
/// `Programs.run`, off the test pool's threads.
final class PrivatePostfix: @unchecked Sendable {
    /// The domain whose mail this Postfix delivers locally.
    static let localDomain = "reader.example"

    let folder: TemporaryDirectory
    var configuration: String { folder.file("conf") }

    /// Starts a private Postfix relaying to 127.0.0.1:`relayPort`, runs `body` with it, and stops it.
    static func with<T>(relayPort: UInt16, _ body: (PrivatePostfix) async throws -> T) async throws -> T {
        let postfix = try PrivatePostfix(relayPort: relayPort)
        do {
            try await postfix.start()
            let value = try await body(postfix)
            await postfix.stop()
            return value
        } catch {
            await postfix.stop()
            throw error
        }
    }

    /// Writes the instance's configuration.
    private init(relayPort: UInt16) throws {
        folder = TemporaryDirectory("postfix")
        let base = folder.path
        for name in ["conf", "queue", "data"] {
            try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base)
        try FileManager.default.copyItem(atPath: "/etc/postfix/master.cf", toPath: folder.file("conf/master.cf"))
        folder.write(
            "conf/main.cf",
            """
            compatibility_level = 3.6
            queue_directory = \(base)/queue
            data_directory = \(base)/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mx.\(Self.localDomain)
            mydomain = \(Self.localDomain)
            myorigin = \(Self.localDomain)
            mydestination = \(Self.localDomain)
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            # No listener of its own: mail comes in through sendmail(1), bounces leave for the relay.
            master_service_disable = inet
            relayhost = [127.0.0.1]:\(relayPort)
            local_recipient_maps =
            alias_maps =
            alias_database =
            smtputf8_enable = no
            smtp_tls_security_level = none
            notify_classes =
            biff = no
            maillog_file_prefixes = \(base)
            maillog_file = \(base)/maillog

            """)
    }

    private func start() async throws {
        try await Programs.output("chown", ["postfix", folder.file("data")])
        let start = try await Programs.run("postfix", ["-c", configuration, "start"])
        guard start.status == 0 else {
            throw ProgramError(message: "postfix did not start: \(start.standardError) \(log)")
        }
    }

    var log: String { (try? String(contentsOfFile: folder.file("maillog"), encoding: .utf8)) ?? "" }

    /// Hands `message` to this Postfix as `sendmail -f sender recipient` does.
    func submit(_ message: [UInt8], from sender: String, to recipient: String) async throws {
        try await Programs.output("sendmail", ["-C", configuration, "-f", sender, recipient], input: Data(message))
    }

    private func stop() async {
        _ = try? await Programs.run("postfix", ["-c", configuration, "stop"])
    }
}
