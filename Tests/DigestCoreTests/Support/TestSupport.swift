import Foundation
import Testing

@_exported import DigestTestSupport

@testable import DigestCore

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

    /// In a configuration being edited: the site's time zone.
    static func useSiteTimeZone(_ json: inout [String: Any], _ zone: String) {
        var site = json["site"] as! [String: Any]
        site["timeZone"] = zone
        json["site"] = site
    }

    /// A store in a fresh file in `directory`.
    static func store(in directory: TemporaryDirectory) throws -> Store {
        try Store(path: directory.file("digest.sqlite"))
    }

    static func date(_ text: String) -> Date { DateParsing.iso8601(text)! }
}
