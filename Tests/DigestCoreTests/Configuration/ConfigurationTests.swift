import Foundation
import Testing

@testable import DigestCore

@Suite struct ConfigurationTests {
    let directory = TemporaryDirectory("config")

    /// The example file with `edit` applied, parsed as if it lived in the temp folder.
    func parse(_ edit: (inout [String: Any]) -> Void) throws(ConfigurationError) -> Configuration {
        let example = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/config.example.json"))
        var json = try! JSONSerialization.jsonObject(with: example) as! [String: Any]
        edit(&json)
        let data = try! JSONSerialization.data(withJSONObject: json)
        return try Configuration.parse(data, file: "test.json", folder: directory.path)
    }

    func error(_ edit: (inout [String: Any]) -> Void) -> ConfigurationError? {
        do {
            _ = try parse(edit)
            return nil
        } catch {
            return error
        }
    }

    @Test func exampleFileLoadsWithEveryKey() throws {
        let configuration = try Configuration.load(path: Fixtures.repositoryRoot + "/config.example.json")
        #expect(configuration.site.name == "The Amman Courier")
        #expect(configuration.site.timeZone.identifier == "Asia/Amman")
        #expect(configuration.digest.sections.map(\.kind) == [.story, .post])
        #expect(configuration.mail.transport == .maildir)
        #expect(configuration.mail.smtp?.connections == 4)
        #expect(configuration.database == Fixtures.repositoryRoot + "/var/digest.sqlite")
        #expect(configuration.templates == Fixtures.repositoryRoot + "/templates")
        #expect(configuration.web.adminSessionHours == 12)
        #expect(configuration.digest.digestVoteWeight == 1)
    }

    @Test func adminSessionHoursDefaultsToTwelveAndTakesFractions() throws {
        #expect(try parse { json in Self.removePath(&json, ["web", "adminSessionHours"]) }.web.adminSessionHours == 12)
        #expect(try parse { json in Self.setPath(&json, ["web", "adminSessionHours"], 0.5) }.web.adminSessionHours == 0.5)
    }

    /// Without `mail.transport`, a configuration with a `mail.smtp` server sends through it; one without goes
    /// to the Maildir.
    @Test func transportDefaultsToSMTPWhenAServerIsGivenElseTheMaildir() throws {
        #expect(try parse { json in Self.removePath(&json, ["mail", "transport"]) }.mail.transport == .smtp)
        let maildir = try parse { json in
            Self.removePath(&json, ["mail", "transport"])
            Self.removePath(&json, ["mail", "smtp"])
        }
        #expect(maildir.mail.transport == .maildir)
        #expect(maildir.mail.smtp == nil)
        #expect(try parse { json in Self.setPath(&json, ["mail", "transport"], "maildir") }.mail.transport == .maildir)
    }

    /// `digest serve --host --port`: a base URL left to its default follows the address; one the file sets stays.
    @Test func serveFlagsMoveADefaultBaseURLOnly() throws {
        let defaulted = try parse { json in
            Self.removePath(&json, ["web", "baseURL"])
            Self.setPath(&json, ["web", "port"], 8080)
        }.web
        #expect(defaulted.baseURL == "http://\(defaulted.host):8080")
        let moved = defaulted.listening(host: "127.0.0.2", port: 9090)
        #expect((moved.host, moved.port, moved.baseURL) == ("127.0.0.2", 9090, "http://127.0.0.2:9090"))
        #expect(defaulted.listening(host: nil, port: 9091).baseURL == "http://\(defaulted.host):9091")
        let given = try parse { json in Self.setPath(&json, ["web", "baseURL"], "https://news.example") }.web
        #expect(given.listening(host: "0.0.0.0", port: 9092).baseURL == "https://news.example")
        #expect(given.listening(host: "0.0.0.0", port: 9092).port == 9092)
    }

    static func removePath(_ json: inout [String: Any], _ path: [String]) {
        var web = json[path[0]] as! [String: Any]
        web[path[1]] = nil
        json[path[0]] = web
    }

    @Test func missingFileNamesTheFileAndHowToGiveOne() {
        #expect {
            try Configuration.load(path: directory.file("nope.json"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("nope.json") && text.contains("does not exist") && text.contains("--config")
        }
    }

    @Test func badJSONSaysSo() {
        let file = directory.write("bad.json", "{ \"site\": { \"name\": \"x\", }\n oops")
        #expect {
            try Configuration.load(path: file)
        } throws: { error in
            let error = error as! ConfigurationError
            return error.file == file && error.key.isEmpty && error.message.hasPrefix("not valid JSON")
        }
    }

    /// A syntax error is placed by line and column (JSONDecoder alone says only "not valid JSON"); a file cut off
    /// says so.
    @Test func badJSONSaysWhere() {
        func message(_ text: String) -> String {
            do {
                _ = try Configuration.load(path: directory.write("bad.json", text))
                return "loaded"
            } catch { return "\(error)" }
        }
        #expect(message("{\n  \"site\": {\n    \"name\": \"x\",,\n  }\n}\n").contains("line 3, column 17: invalid value"))
        #expect(message("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}\n").contains("line 3, column 14"))
        #expect(message("{\n  \"site\": {\n    \"name\": \"x\",\n  \"database\": ").contains("line 4: the text ends before"))
    }

    @Test func pathResolutionPrefersFlagThenEnvironmentThenDefault() {
        #expect(Configuration.resolvePath(explicit: "a.json", environment: ["DIGEST_CONFIG": "b.json"]) == "a.json")
        #expect(Configuration.resolvePath(explicit: nil, environment: ["DIGEST_CONFIG": "b.json"]) == "b.json")
        #expect(Configuration.resolvePath(explicit: nil, environment: [:]) == "config.json")
    }

    @Test func relativePathsResolveAgainstTheConfigFolder() throws {
        let configuration = try parse { json in json["database"] = "data/x.sqlite" }
        #expect(configuration.database == directory.path + "/data/x.sqlite")
    }

    /// Each case: an edit to the example, the key path the error must name, and words it must say.
    nonisolated(unsafe) static let invalid: [(String, (inout [String: Any]) -> Void, String, String)] = [
        ("unknown top-level key", { $0["databse"] = "x" }, "databse", "unknown key"),
        ("unknown nested key", { setPath(&$0, ["mail", "smtp", "conections"], 2) }, "mail.smtp.conections", "unknown key"),
        ("wrong type", { setPath(&$0, ["mail", "smtp", "connections"], "four") }, "mail.smtp.connections", "expected a whole number"),
        ("out of range", { setPath(&$0, ["mail", "smtp", "connections"], 0) }, "mail.smtp.connections", "from 1 to 64"),
        ("fraction for integer", { setPath(&$0, ["digest", "sendHour"], 6.5) }, "digest.sendHour", "whole number"),
        ("hour out of range", { setPath(&$0, ["digest", "sendHour"], 24) }, "digest.sendHour", "from 0 to 23"),
        ("bad time zone", { setPath(&$0, ["site", "timeZone"], "Mars/Olympus") }, "site.timeZone", "IANA"),
        ("bad transport", { setPath(&$0, ["mail", "transport"], "pigeon") }, "mail.transport", "\"smtp\", \"maildir\""),
        ("bad tls", { setPath(&$0, ["mail", "smtp", "tls"], "yes") }, "mail.smtp.tls", "\"required\""),
        ("bad smtp url", { setPath(&$0, ["mail", "smtp", "url"], "http://x") }, "mail.smtp.url", "smtp://"),
        ("bad from", { setPath(&$0, ["mail", "from"], "digest at courier") }, "mail.from", "mailbox"),
        ("missing site", { $0["site"] = nil }, "site", "required"),
        ("missing database", { $0["database"] = nil }, "database", "required"),
        ("bool as string", { setPath(&$0, ["digest", "skipWhenEmpty"], "yes") }, "digest.skipWhenEmpty", "true or false"),
        ("section kind", { setPath(&$0, ["digest", "sections"], [["kind": "video", "title": "V"]]) }, "digest.sections[0].kind", "\"story\""),
        ("empty sections", { setPath(&$0, ["digest", "sections"], [Any]()) }, "digest.sections", "at least one"),
        ("negative digest vote weight", { setPath(&$0, ["digest", "digestVoteWeight"], -1) }, "digest.digestVoteWeight", "from 0 to 1000"),
        ("missing ca file", { setPath(&$0, ["mail", "smtp", "caFile"], "nope.pem") }, "mail.smtp.caFile", "cannot be read"),
        ("smtp without smtp block", {
            setPath(&$0, ["mail", "transport"], "smtp")
            var mail = $0["mail"] as! [String: Any]
            mail["smtp"] = nil
            $0["mail"] = mail
        }, "mail.smtp", "required when"),
        ("password in env name", { setPath(&$0, ["mail", "smtp", "passwordEnv"], "hunter 2!") }, "mail.smtp.passwordEnv", "NAME of an environment variable"),
        ("base url", { setPath(&$0, ["web", "baseURL"], "localhost:8080") }, "web.baseURL", "http(s) URL"),
        ("admin session too short", { setPath(&$0, ["web", "adminSessionHours"], 0) }, "web.adminSessionHours", "from 0.25 to 720"),
        ("admin session as text", { setPath(&$0, ["web", "adminSessionHours"], "12h") }, "web.adminSessionHours", "expected a number"),
    ]

    @Test(arguments: 0..<invalid.count)
    func invalidValuesNameTheKeyAndExpectation(_ index: Int) {
        let (label, edit, key, words) = Self.invalid[index]
        let error = error(edit)
        #expect(error != nil, "\(label) was accepted")
        #expect(error?.file == "test.json", "\(label)")
        #expect(error?.key == key, "\(label): \(String(describing: error))")
        #expect(error?.message.contains(words) == true, "\(label): \(String(describing: error))")
    }

    static func setPath(_ json: inout [String: Any], _ path: [String], _ value: Any) {
        guard let first = path.first else { return }
        if path.count == 1 {
            json[first] = value
        } else {
            var inner = json[first] as? [String: Any] ?? [:]
            setPath(&inner, Array(path.dropFirst()), value)
            json[first] = inner
        }
    }
}
