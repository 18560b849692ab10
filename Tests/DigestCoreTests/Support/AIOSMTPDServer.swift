import Foundation

/// An `aiosmtpd` server on 127.0.0.1 (Python, started from a script this file writes), for what
/// smtp-sink cannot do: STARTTLS with a test certificate, AUTH, and per-recipient replies.
///
///     let server = try await AIOSMTPDServer(tls: true, auth: ("digest", "s3cret"))
///     // server.caFile verifies its certificate (issued for 127.0.0.1)
///     let received = try server.receivedMessages()
final class AIOSMTPDServer: @unchecked Sendable {
    struct ReceivedMessage: Sendable {
        var mailFrom: String
        var recipients: [String]
        /// The DATA payload exactly as received (CRLF line ends, dot-unstuffed).
        var data: [UInt8]
    }

    let port: UInt16
    let folder: TemporaryDirectory
    /// The self-signed certificate the server presents (nil without TLS); use it as `caFile`.
    let caFile: String?
    private let messagesFolder: String
    private let eventsFile: String
    private let process: ChildProcess

    private let implicitTLS: Bool
    var url: String { "\(implicitTLS ? "smtps" : "smtp")://127.0.0.1:\(port)" }

    /// - Parameters:
    ///   - tls: offer STARTTLS with a fresh self-signed certificate for 127.0.0.1 (and require it).
    ///   - implicitTLS: speak TLS from the first byte (for `smtps://` URLs) instead of STARTTLS.
    ///   - auth: require AUTH with this user and password.
    ///   - rejectRecipients: full SMTP replies for chosen RCPT addresses, e.g. ["bad@x.test": "550 5.1.1 …"].
    /// Waits for openssl and for the server to be ready by suspending, never on a thread of the test pool.
    init(
        tls: Bool = false, implicitTLS: Bool = false, auth: (user: String, password: String)? = nil,
        rejectRecipients: [String: String] = [:]
    ) async throws {
        port = FreePort.next()
        self.implicitTLS = implicitTLS
        let tls = tls || implicitTLS
        folder = TemporaryDirectory("aiosmtpd")
        messagesFolder = folder.file("messages")
        eventsFile = folder.file("events.txt")
        try FileManager.default.createDirectory(atPath: messagesFolder, withIntermediateDirectories: true)
        var certificate: String?
        var key: String?
        if tls {
            certificate = folder.file("cert.pem")
            key = folder.file("key.pem")
            let openssl = try await Programs.run(
                "openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key!, "-out", certificate!, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                ])
            guard openssl.status == 0 else {
                throw TestServerError.didNotStart("openssl req failed: \(openssl.standardError)")
            }
        }
        caFile = certificate
        var settings: [String: Any] = [
            "port": Int(port), "messages": messagesFolder, "events": eventsFile, "reject": rejectRecipients,
            "ready": folder.file("ready"),
        ]
        if let certificate, let key {
            settings["tls"] = ["cert": certificate, "key": key, "implicit": implicitTLS]
        }
        if let auth { settings["auth"] = ["user": auth.user, "password": auth.password] }
        let script = folder.write("server.py", Self.script)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
        process = try ChildProcess("/usr/bin/env", ["python3", script, json], output: folder.file("output.txt"))
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: folder.file("ready")) {
            guard Date() < deadline, process.process.isRunning else {
                process.stop()
                throw TestServerError.didNotStart("aiosmtpd: \(Self.read(folder.file("output.txt")))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() { process.stop() }
    deinit { stop() }

    /// Connections accepted since the server became ready.
    var connectionCount: Int {
        Self.read(eventsFile).split(separator: "\n").filter { $0 == "CONNECT" }.count
    }

    func receivedMessages() throws -> [ReceivedMessage] {
        let names = try FileManager.default.contentsOfDirectory(atPath: messagesFolder)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let base = messagesFolder + "/" + name.dropLast(".json".count)
            let envelope =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: base + ".json"))) as! [String: Any]
            return ReceivedMessage(
                mailFrom: envelope["from"] as? String ?? "", recipients: envelope["to"] as? [String] ?? [],
                data: Array(try Data(contentsOf: URL(fileURLWithPath: base + ".eml"))))
        }
    }

    private static func read(_ file: String) -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

    private static let script = #"""
        import json, os, ssl, sys, threading
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        settings = json.loads(sys.argv[1])
        ready = False

        def event(text):
            with open(settings["events"], "a") as f:
                f.write(text + "\n")

        class Handler:
            def __init__(self):
                self.count = 0
                self.lock = threading.Lock()

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                reply = settings["reject"].get(address)
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 Ok"

            async def handle_DATA(self, server, session, envelope):
                with self.lock:
                    self.count += 1
                    number = self.count
                base = os.path.join(settings["messages"], "%06d" % number)
                with open(base + ".eml", "wb") as f:
                    f.write(envelope.original_content)
                with open(base + ".json.part", "w") as f:
                    json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
                os.rename(base + ".json.part", base + ".json")
                return "250 2.0.0 Ok: queued as %06d" % number

        def authenticator(server, session, envelope, mechanism, auth_data):
            auth = settings["auth"]
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == auth["user"].encode()
                  and auth_data.password == auth["password"].encode())
            return AuthResult(success=ok, handled=False)

        class CountingController(Controller):
            def factory(self):
                if ready:
                    event("CONNECT")
                return super().factory()

        options = {}
        if "tls" in settings:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(settings["tls"]["cert"], settings["tls"]["key"])
            if settings["tls"]["implicit"]:
                options["ssl_context"] = context
            else:
                options["tls_context"] = context
                options["require_starttls"] = True
        if "auth" in settings:
            options["authenticator"] = authenticator
            options["auth_required"] = True
            # aiosmtpd does not count implicit TLS as TLS for this check, so it would hide AUTH.
            options["auth_require_tls"] = "tls" in settings and not settings["tls"]["implicit"]
        controller = CountingController(Handler(), hostname="127.0.0.1", port=settings["port"], **options)
        controller.start()
        ready = True
        open(settings["ready"], "w").close()
        threading.Event().wait()
        """#
}
