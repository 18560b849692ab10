import Foundation
import Testing

@testable import DigestCore

/// `digest import` and `digest subscribers import` as an admin runs them: every message names the file.
@Suite struct ImportCommandTests {
    let directory = TemporaryDirectory("import-command")
    static let binary = Fixtures.repositoryRoot + "/.build/debug/digest"

    /// Runs `digest ARGUMENTS… --config CONFIG`; returns exit status, standard output and error.
    func digest(_ arguments: [String], config: String) async throws -> (status: Int32, output: String, error: String) {
        let result = try await Python.run(
            """
            import subprocess, sys
            done = subprocess.run(sys.argv[1:], capture_output=True)
            sys.stdout.write(done.stdout.decode() + "\\n--stderr--\\n" + done.stderr.decode() + "\\n--status--\\n"
                + str(done.returncode))
            """, arguments: [Self.binary] + arguments + ["--config", config])
        let text = String(decoding: result.standardOutput, as: UTF8.self)
        let parts = text.components(separatedBy: "\n--stderr--\n")
        let rest = parts[1].components(separatedBy: "\n--status--\n")
        return (Int32(rest[1]) ?? -1, parts[0], rest[0])
    }

    @Test func everyMessageNamesTheFile() async throws {
        let configuration = try Fixtures.configuration(in: directory)
        let config = configuration.file
        #expect(try await digest(["init"], config: config).status == 0)

        let unclosed = directory.write("unclosed.csv", "email,name\nu0@example.com,A\nu1@example.com,\"Unclosed\nu2@example.com,B\n")
        let refused = try await digest(["subscribers", "import", unclosed], config: config)
        #expect(refused.status != 0)
        #expect(refused.error.contains("\(unclosed): line 3: the quoted field that opens on this line is never closed"))
        #expect(try await digest(["subscribers", "list"], config: config).error.contains("0 subscribers"))

        let added = try await digest(
            ["subscribers", "add", "w@example.com", "--cadence", "weekly", "--weekday", "tue", "--paused-until", "2027-01-10",
             "--max-stories", "3", "--confirmed"], config: config)
        #expect(added.output.contains("added w@example.com (active; weekly on Tuesday, paused until 2027-01-10, at most 3 stories)"))
        let listed = try await digest(["subscribers", "list", "--json"], config: config)
        #expect(listed.output.contains("\"cadence\":\"weekly\"") && listed.output.contains("\"pausedUntil\":\"2027-01-10\""))
        #expect(listed.output.contains("\"maxStories\":3") && listed.output.contains("\"weekday\":\"tue\""))
        #expect(listed.output.contains("\"language\":\"en\""))  // the site's, for a reader without one
        _ = try await digest(["subscribers", "add", "ar@example.com", "--language", "ar", "--confirmed"], config: config)
        let arabic = try await digest(["subscribers", "list", "--json"], config: config)
        #expect(arabic.output.contains("\"email\":\"ar@example.com\"") && arabic.output.contains("\"language\":\"ar\""))
        // Every key in every object: a reader without a name, pause or length has them as null.
        let objects = try #require(
            try JSONSerialization.jsonObject(with: Data(arabic.output.utf8)) as? [[String: Any]], "\(arabic.output)")
        let keys = ["email", "name", "status", "format", "timeZone", "deliveryHour", "sections", "cadence", "weekday",
                    "pausedUntil", "maxStories", "maxPosts", "readingMinutes", "language", "createdAt", "confirmedAt",
                    "bounceCount", "bounces"]
        for object in objects { #expect(Set(object.keys) == Set(keys), "\(object)") }
        #expect(objects.first { $0["email"] as? String == "ar@example.com" }?["pausedUntil"] is NSNull)
        let unknown = try await digest(["subscribers", "add", "fr@example.com", "--language", "fr"], config: config)
        #expect(unknown.status != 0 && unknown.error.contains("language \"fr\" is not one of the site's languages (en, ar"))
        _ = try await digest(["subscribers", "remove", "ar@example.com"], config: config)
        let catalogs = try await digest(["languages", "check"], config: config)
        #expect(catalogs.status == 0 && catalogs.output.contains("languages en, ar: every catalog is complete"))
        let wrong = try await digest(["subscribers", "add", "x@example.com", "--cadence", "hourly"], config: config)
        #expect(wrong.status != 0 && wrong.error.contains("cadence must be daily, weekly or monthly, not \"hourly\""))
        _ = try await digest(["subscribers", "remove", "w@example.com"], config: config)

        let rows = directory.write("rows.csv", "email,status\nok@example.com,active\nbad@example.com,sleeping\n")
        let partly = try await digest(["subscribers", "import", rows], config: config)
        #expect(partly.error.contains("\(rows): line 3: status must be one of"))
        #expect(partly.output.contains("\(rows): 1 imported, 0 already on the list, 1 rejected"))

        let scalar = directory.write("number.json", "42")
        let json = try await digest(["import", scalar], config: config)
        #expect(json.status != 0)
        #expect(json.error.contains("\(scalar): expected an array of item objects, found a number"))

        var latin1 = Array("<rss version=\"2.0\"><channel><item><title>Caf".utf8) + [0xE9]
        latin1 += Array("</title><link>https://cmd.example/1</link></item></channel></rss>".utf8)
        let feed = directory.file("undeclared.xml")
        try Data(latin1).write(to: URL(fileURLWithPath: feed))
        let warned = try await digest(["import", feed], config: config)
        #expect(warned.status == 0)
        #expect(warned.error.contains("\(feed): warning: declares no encoding and is not UTF-8"))
    }

    /// `items list` shows the site's votes and the votes from digests; `--json` writes `digestVotes` beside
    /// `votes`, and importing that output again leaves the server's count as it is.
    @Test func itemsListShowsBothCounts() async throws {
        let configuration = try Fixtures.configuration(in: directory)
        let config = configuration.file
        #expect(try await digest(["init"], config: config).status == 0)
        let file = directory.write(
            "items.json",
            #"[{"kind": "story", "title": "Voted on", "url": "https://n.example/v", "publishedAt": "2026-11-23T10:00:00Z", "votes": 7}]"#)
        #expect(try await digest(["import", file], config: config).status == 0)
        try Store(path: configuration.database).database.write { db in
            _ = try db.execute("UPDATE items SET digestVotes = 3 WHERE url = 'https://n.example/v'")
        }
        let table = try await digest(["items", "list"], config: config)
        #expect(table.output.contains("    7    3  Voted on  <https://n.example/v>"), "\(table.output)")
        let json = try await digest(["items", "list", "--json"], config: config)
        #expect(json.output.contains("\"digestVotes\" : 3") && json.output.contains("\"votes\" : 7"), "\(json.output)")
        let again = directory.write("again.json", json.output)
        #expect(try await digest(["import", again], config: config).status == 0)
        #expect(try Store(path: configuration.database).item(url: "https://n.example/v")?.digestVotes == 3)
    }
}
