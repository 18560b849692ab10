import Foundation
import Testing

@_exported import DigestTestSupport

@testable import DigestCore
@testable import DigestPostgres

enum Fixtures {
    /// The repository's root folder, found from this source file.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// A working configuration (the example file) with its database in `directory`.
    static func configuration(in directory: TemporaryDirectory, edit: (inout [String: Any]) -> Void = { _ in }) throws
        -> Configuration
    {
        let example = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config.example.json"))
        var json = try JSONSerialization.jsonObject(with: example) as! [String: Any]
        json["database"] = directory.file("digest.sqlite")
        json["templates"] = repositoryRoot + "/templates"
        var mail = json["mail"] as! [String: Any]
        mail["maildir"] = directory.file("outbox")
        json["mail"] = mail
        edit(&json)
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let file = directory.file("config.json")
        try data.write(to: URL(fileURLWithPath: file))
        return try Configuration.load(path: file)
    }

    /// In a configuration being edited: mail goes over SMTP, with `settings` (url, tls, …) laid over
    /// the example's `mail.smtp` block.
    static func useSMTP(_ json: inout [String: Any], _ settings: [String: Any]) {
        var mail = json["mail"] as! [String: Any]
        mail["transport"] = "smtp"
        mail["smtp"] = (mail["smtp"] as! [String: Any]).merging(settings) { _, new in new }
        json["mail"] = mail
    }

    /// In a configuration being edited: `mail.dkim` signs with each key file, selectors `sel0`, `sel1`… of
    /// courier.example.
    static func useDKIM(_ json: inout [String: Any], keys: [String]) {
        var mail = json["mail"] as! [String: Any]
        mail["dkim"] = keys.enumerated().map { index, file in
            ["domain": "courier.example", "selector": "sel\(index)", "privateKeyFile": file]
        }
        json["mail"] = mail
    }

    /// In a configuration being edited: the site's time zone.
    static func useSiteTimeZone(_ json: inout [String: Any], _ zone: String) {
        var site = json["site"] as! [String: Any]
        site["timeZone"] = zone
        json["site"] = site
    }

    /// A fresh store: a new file in `directory` (SQLite), or a new database on the test process's PostgreSQL.
    static func store(in directory: TemporaryDirectory, _ backend: StoreBackend = .sqlite) throws -> Store {
        try Store.open(try backend.database(in: directory))
    }

    static func date(_ text: String) -> Date { DateParsing.iso8601(text)! }

    /// The example items (`examples/items.json`, published 2026-11-23), as drafts to upsert.
    static func exampleItems() throws -> [ItemDraft] {
        try ItemRecordParser.parse(
            Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/examples/items.json")), source: "items")
    }
}

/// The two implementations of the store contract; store tests run on both (`@Test(arguments: StoreBackend.allCases)`).
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// What `database` names for a fresh, empty store: a file in `directory`, or a new database on the
    /// PostgreSQL server the tests start (`initdb` + `pg_ctl`, once per test process).
    func database(in directory: TemporaryDirectory) throws -> String {
        switch self {
        case .sqlite: directory.file("digest.sqlite")
        case .postgres: try PostgresServer.shared().createDatabase()
        }
    }
}
