import Foundation
import Testing

@testable import DigestCore

/// Keys as `openssl genrsa 2048` and `openssl genpkey -algorithm ed25519` write them, made once per
/// test process (RSA key generation is slow on a loaded machine).
enum DKIMTestKeys {
    private static let files = KeyFiles()

    /// The RSA-2048 key's file.
    static func rsa() async throws -> String { try await files.file("rsa.pem", ["genrsa", "-out", "{}", "2048"]) }

    /// The Ed25519 key's file.
    static func ed25519() async throws -> String {
        try await files.file("ed25519.pem", ["genpkey", "-algorithm", "ed25519", "-out", "{}"])
    }

    /// Each key file made by openssl once, however many tests ask for it at the same time.
    private actor KeyFiles {
        let folder = TemporaryDirectory("dkim-keys")
        var making: [String: Task<String, any Error>] = [:]

        /// `name` in the folder, made by `openssl ARGUMENTS` (`{}` stands for its path) on first use.
        func file(_ name: String, _ arguments: [String]) async throws -> String {
            if let task = making[name] { return try await task.value }
            let path = folder.file(name)
            let task = Task {
                try await Programs.output("openssl", arguments.map { $0 == "{}" ? path : $0 })
                return path
            }
            making[name] = task
            return try await task.value
        }
    }

    static func signer(_ files: [String]) throws -> DKIMSigner {
        DKIMSigner(keys: try files.enumerated().map { index, file in
            try DKIMKey(domain: "courier.example", selector: "sel\(index)", privateKeyFile: file)
        })
    }
}

/// dkimpy, a verifier we did not write, checks every signature against the TXT records that
/// `dnsRecords()` publishes (answered by its `dnsfunc`, no DNS involved).
@Suite(.requires(.python3, .openssl, .dkimpy))
struct DKIMSignerTests {
    static let verifier = #"""
        import json, sys
        try:
            import dkim
        except ImportError:
            print(json.dumps({"error": "dkimpy is not installed (scripts/setup --test)"})); sys.exit(0)

        records = json.load(open(sys.argv[1]))
        def dnsfunc(name, timeout=5):
            if isinstance(name, bytes): name = name.decode()
            value = records.get(name.rstrip("."))
            return value.encode() if value is not None else None

        def signatures(raw):
            results = []
            d = dkim.DKIM(raw)
            count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
            for index in range(count):
                d = dkim.DKIM(raw)
                try:
                    ok = d.verify(idx=index, dnsfunc=dnsfunc)
                except dkim.ValidationError:  # a body that no longer matches bh= is reported by raising
                    ok = False
                fields = {k.decode(): v.decode() for k, v in d.signature_fields.items()}
                results.append({"ok": bool(ok), "a": fields.get("a"), "c": fields.get("c"), "s": fields.get("s"),
                                "headers": [h.decode() for h in d.include_headers]})
            return results

        print(json.dumps({"messages": [signatures(open(path, "rb").read()) for path in sys.argv[2:]]}))
        """#

    struct Verification: Decodable {
        struct Signature: Decodable {
            var ok: Bool
            var a: String?
            var c: String?
            var s: String?
            var headers: [String]
        }
        /// Per message, its signatures in order.
        var messages: [[Signature]]?
        var error: String?
    }

    static func verify(_ message: [UInt8], signer: DKIMSigner) async throws -> [Verification.Signature] {
        try await verify([message], signer: signer).first ?? []
    }

    /// Each message's signatures, checked by one dkimpy process.
    static func verify(_ messages: [[UInt8]], signer: DKIMSigner) async throws -> [[Verification.Signature]] {
        let directory = TemporaryDirectory("dkim")
        var files: [String] = []
        for (index, message) in messages.enumerated() {
            files.append(directory.file("message-\(index).eml"))
            try Data(message).write(to: URL(fileURLWithPath: files[index]))
        }
        var records: [String: String] = [:]
        for (name, value) in signer.dnsRecords() { records[name] = value }
        let recordsFile = directory.file("records.json")
        try JSONSerialization.data(withJSONObject: records).write(to: URL(fileURLWithPath: recordsFile))
        let result = try await Python.run(verifier, arguments: [recordsFile] + files)
        guard result.status == 0 else { throw PythonError(message: "dkimpy failed: \(result.standardError)") }
        let verification = try JSONDecoder().decode(Verification.self, from: result.standardOutput)
        if let error = verification.error { throw PythonError(message: error) }
        return verification.messages ?? []
    }

    /// `received` as it was on the wire: smtp-sink writes each CRLF as LF, and digest writes no bare LF.
    static func wireForm(_ received: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(received.count + received.count / 40)
        for byte in received {
            if byte == 0x0A { bytes.append(0x0D) }
            bytes.append(byte)
        }
        return bytes
    }

    static let expectedHeaders = [
        "from", "reply-to", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
        "list-unsubscribe-post", "mime-version", "content-type",
    ]

    func signed(_ files: [String], html: String? = "<p>Hello</p>\n") throws -> ([UInt8], DKIMSigner) {
        let signer = try DKIMTestKeys.signer(files)
        var builder = Sample.builder(
            subject: "Today's top stories — أخبار اليوم", text: "Hello  there \t\n\n  spaced   line  \n\n\n", html: html)
        builder.dkim = signer
        return (try builder.build(), signer)
    }

    @Test func rsaSignatureVerifies() async throws {
        let (message, signer) = try signed([try await DKIMTestKeys.rsa()])
        let signatures = try await Self.verify(message, signer: signer)
        #expect(signatures.count == 1)
        #expect(signatures.first?.ok == true)
        #expect(signatures.first?.a == "rsa-sha256")
        #expect(signatures.first?.c == "relaxed/relaxed")
        #expect(signatures.first?.headers == Self.expectedHeaders)
        for line in message.split(separator: 0x0A) { #expect(line.count <= 80) }
    }

    @Test func ed25519SignatureVerifies() async throws {
        let (message, signer) = try signed([try await DKIMTestKeys.ed25519()], html: nil)
        let signatures = try await Self.verify(message, signer: signer)
        #expect(signatures.count == 1)
        #expect(signatures.first?.ok == true)
        #expect(signatures.first?.a == "ed25519-sha256")
        // A text-only message has Content-Transfer-Encoding in the header, and it is signed.
        #expect(signatures.first?.headers == Self.expectedHeaders + ["content-transfer-encoding"])
    }

    @Test func bothSignaturesVerifyAndATamperedHeaderFailsBoth() async throws {
        let (message, signer) = try signed([try await DKIMTestKeys.rsa(), try await DKIMTestKeys.ed25519()])
        let signatures = try await Self.verify(message, signer: signer)
        #expect(signatures.map(\.ok) == [true, true])
        #expect(signatures.map(\.a) == ["rsa-sha256", "ed25519-sha256"])
        #expect(signatures.map(\.s) == ["sel0", "sel1"])

        let text = String(decoding: message, as: UTF8.self)
        for (original, forged) in [
            ("List-Unsubscribe-Post: List-Unsubscribe=One-Click", "List-Unsubscribe-Post: List-Unsubscribe=Never"),
            ("Message-ID: <2026-11-24.42@courier.example>", "Message-ID: <2026-11-24.43@courier.example>"),
            ("<p>Hello</p>", "<p>Hallo</p>"),
        ] {
            #expect(text.contains(original))
            let tampered = Array(text.replacingOccurrences(of: original, with: forged).utf8)
            #expect(try await Self.verify(tampered, signer: signer).map(\.ok) == [false, false], "\(forged)")
        }
        // Relaxed canonicalization: refolding and extra spaces in a signed header do not matter.
        let refolded = Array(text.replacingOccurrences(of: "Message-ID: <", with: "Message-ID:  \r\n\t<").utf8)
        #expect(try await Self.verify(refolded, signer: signer).map(\.ok) == [true, true])
    }

    /// The site in English (quoted-printable bodies) and in Arabic first (a body in base64, spliced from the
    /// encoding prepared once per edition): both verify.
    @Test(arguments: [["en", "ar"], ["ar", "en"]])
    func theComposerSignsEveryDigest(languages: [String]) async throws {
        let directory = TemporaryDirectory()
        let (rsa, ed25519) = (try await DKIMTestKeys.rsa(), try await DKIMTestKeys.ed25519())
        let configuration = try Fixtures.configuration(in: directory) { json in
            var mail = json["mail"] as! [String: Any]
            mail["dkim"] = [
                ["domain": "courier.example", "selector": "rsa2026", "privateKeyFile": rsa],
                ["domain": "courier.example", "selector": "ed2026", "privateKeyFile": ed25519],
            ]
            json["mail"] = mail
            var site = json["site"] as! [String: Any]
            site["languages"] = languages
            json["site"] = site
        }
        #expect(configuration.mail.dkim.map(\.selector) == ["rsa2026", "ed2026"])
        let composer = try await DigestComposer.make(configuration: configuration, environment: ["DIGEST_SECRET": String(repeating: "s", count: 32)])
        let signer = try #require(composer.dkim)
        let store = try Fixtures.store(in: directory)
        let preview = DigestPreview(composer: composer, store: store)
        let (_, digest) = try preview.digest(date: Day("2026-11-24")!, subscriber: nil, now: Fixtures.date("2026-11-24T05:00:00Z"))
        let text = String(decoding: digest.message.data, as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: base64") == (languages.first == "ar"))
        let signatures = try await Self.verify(digest.message.data, signer: signer)
        #expect(signatures.map(\.ok) == [true, true])
        #expect(signatures.first?.headers.contains("list-unsubscribe-post") == true)
        #expect(signer.zoneFileRecords().first?.hasPrefix("rsa2026._domainkey.courier.example. IN TXT ( \"v=DKIM1; k=rsa; p=MII") == true)
        #expect(signer.zoneFileRecords().last?.hasPrefix("ed2026._domainkey.courier.example. IN TXT ( \"v=DKIM1; k=ed25519; p=") == true)
    }

    @Test func theConfirmationMailIsSignedToo() async throws {
        let directory = TemporaryDirectory()
        let ed25519 = try await DKIMTestKeys.ed25519()
        let configuration = try Fixtures.configuration(in: directory) { json in
            var mail = json["mail"] as! [String: Any]
            mail["dkim"] = [["domain": "courier.example", "selector": "ed2026", "privateKeyFile": ed25519]]
            json["mail"] = mail
        }
        let mail = try await ConfirmationMail(
            configuration: configuration, signer: LinkSigner(secret: String(repeating: "s", count: 32)))
        let reader = Subscriber(id: 7, email: try EmailAddress("new@example.org"), name: nil, status: .pending)
        let message = try mail.message(for: reader, now: Fixtures.date("2026-11-24T05:00:00Z"))
        let signer = try #require(mail.dkim)
        #expect(try await Self.verify(message.data, signer: signer).map(\.ok) == [true])
    }

    @Test func aBadKeyIsRefusedNamingItsFile() async throws {
        let folder = TemporaryDirectory("dkim-bad")
        let notAKey = folder.write("broken.pem", "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
        #expect {
            _ = try DKIMKey(domain: "courier.example", selector: "s", privateKeyFile: notAKey)
        } throws: { error in
            "\(error)".contains(notAKey) && "\(error)".contains("openssl genrsa 2048")
        }
        let small = folder.file("small.pem")
        try await Programs.output("openssl", ["genrsa", "-out", small, "1024"])
        #expect {
            _ = try DKIMKey(domain: "courier.example", selector: "s", privateKeyFile: small)
        } throws: { error in
            "\(error)".contains(small) && "\(error)".contains("1024-bit")
        }
        #expect {
            _ = try DKIMKey(domain: "courier.example", selector: "s", privateKeyFile: folder.file("missing.pem"))
        } throws: { error in
            "\(error)".contains(folder.file("missing.pem"))
        }
    }

    @Test func configurationRefusesAMissingKeyFile() throws {
        let directory = TemporaryDirectory()
        #expect {
            _ = try Fixtures.configuration(in: directory) { json in
                var mail = json["mail"] as! [String: Any]
                mail["dkim"] = [["domain": "courier.example", "selector": "s1", "privateKeyFile": "keys/none.pem"]]
                json["mail"] = mail
            }
        } throws: { error in
            "\(error)".contains("mail.dkim[0].privateKeyFile") && "\(error)".contains(directory.file("keys/none.pem"))
        }
    }
}

@Suite struct DKIMCanonicalizationTests {
    func body(_ text: String) -> String {
        String(decoding: DKIMCanonicalization.relaxedBody(Array(text.utf8)[...]), as: UTF8.self)
    }

    func header(_ text: String) -> String {
        var result: [UInt8] = []
        DKIMCanonicalization.appendRelaxedHeader(Array(text.utf8)[...], to: &result)
        return String(decoding: result, as: UTF8.self)
    }

    /// RFC 6376 §3.4.5's example, and the edge cases of §3.4.4.
    @Test func relaxedBody() {
        #expect(body(" C \r\nD \t E\r\n\r\n\r\n") == " C\r\nD E\r\n")
        #expect(body("") == "")
        #expect(body("\r\n\r\n") == "")
        #expect(body("a") == "a\r\n")
        #expect(body("a\r\n \t\r\nb\r\n  \r\n") == "a\r\n\r\nb\r\n")
    }

    /// RFC 6376 §3.4.4 written the plain way, line by line, to check the word-at-a-time version against.
    static func plainRelaxedBody(_ body: [UInt8]) -> [UInt8] {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var index = 0
        while index < body.count {
            if body[index] == 0x0D, index + 1 < body.count, body[index + 1] == 0x0A {
                lines.append(line)
                line = []
                index += 2
            } else {
                line.append(body[index])
                index += 1
            }
        }
        if !line.isEmpty { lines.append(line) }
        var result: [[UInt8]] = lines.map { line in
            var reduced: [UInt8] = []
            for byte in line {
                let isWSP = byte == 0x20 || byte == 0x09
                if isWSP { if reduced.last != 0x20 { reduced.append(0x20) } } else { reduced.append(byte) }
            }
            while reduced.last == 0x20 { reduced.removeLast() }
            return reduced
        }
        while result.last?.isEmpty == true { result.removeLast() }
        return result.flatMap { $0 + [0x0D, 0x0A] }
    }

    /// Random bodies of the bytes that matter (and bodies longer than a word, so both paths run), the spaces and
    /// line ends falling on every offset of the sixteen-byte words.
    @Test func wordAtATimeMatchesThePlainRules() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x61, 0x62, 0x20, 0x20, 0x09, 0x0D, 0x0A, 0x0D, 0x3D]
        // Mostly letters, as a digest's body is: most sixteen-byte words are copied whole, and the few with a
        // change fall on every offset.
        let sparse: [UInt8] = Array(repeating: 0x61, count: 40) + [0x20, 0x20, 0x09, 0x0D, 0x0A]
        for length in Array(0..<40) + [63, 64, 65, 200, 1000] {
            for trial in 0..<60 {
                let letters = trial % 2 == 0 ? alphabet : sparse
                let body = (0..<length).map { _ in letters.randomElement(using: &generator)! }
                let crlfOnly = body.reduce(into: [UInt8]()) { out, byte in
                    if byte == 0x0A { out += [0x0D, 0x0A] } else if byte != 0x0D { out.append(byte) }
                }
                for sample in [body, crlfOnly] {
                    #expect(
                        DKIMCanonicalization.relaxedBody(sample[...]) == Self.plainRelaxedBody(sample),
                        "\(sample.map { String(format: "%02x", $0) }.joined(separator: " "))")
                }
            }
        }
        // A slice that does not start at index 0 (as the body of a message does).
        let message = Array("From: a\r\n\r\nHello  world \r\n\r\n".utf8)
        #expect(DKIMCanonicalization.relaxedBody(message[11...]) == Array("Hello world\r\n".utf8))
    }

    /// The body hash's shortcut to the body finds what reading the fields finds.
    @Test func bodyStartMatchesTheFieldReader() {
        for text in [
            "", "\r\n", "\r\nbody", "From: a\r\n", "From: a\r\n\r\n", "From: a\r\n\r\nbody\r\n\r\nmore",
            "From: a\r\n folded\r\nTo: b\r\n\r\n\r\n", "From: a\nTo: b\n\nLF only", "From: a\r\nTo: b",
        ] {
            let message = Array(text.utf8)
            #expect(
                DKIMCanonicalization.bodyStart(of: message) == DKIMCanonicalization.headerFields(of: message).bodyStart,
                "\(text.debugDescription)")
        }
    }

    @Test func relaxedHeaders() {
        #expect(header("A: X") == "a:X")
        #expect(header("B : Y\t\r\n\tZ  ") == "b:Y Z")
        #expect(header("Subject:\r\n =?utf-8?q?x?=\r\n =?utf-8?q?y?=") == "subject:=?utf-8?q?x?= =?utf-8?q?y?=")
    }

    @Test func headerFieldsAndBodyStart() {
        let message = Array("From: a\r\nSubject: one\r\n two\r\nTo: b\r\n\r\nbody\r\n".utf8)
        let (fields, bodyStart) = DKIMCanonicalization.headerFields(of: message)
        #expect(fields.map(\.name) == ["from", "subject", "to"])
        #expect(String(decoding: message[fields[1].range], as: UTF8.self) == "Subject: one\r\n two")
        #expect(String(decoding: message[bodyStart...], as: UTF8.self) == "body\r\n")
    }
}
