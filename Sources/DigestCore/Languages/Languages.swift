import Foundation

/// The reader languages of a site (`site.languages`), each with its catalog from `templates/lang/CODE.txt`.
///
/// Loaded once with the templates; `language(_:)` gives a reader's language, falling back to the site's own
/// (the first of `site.languages`) for a reader without one or with one the site no longer offers.
public struct Languages: Sendable {
    /// `site.languages`, in order; the first is the site's own.
    public let codes: [String]
    public let folder: String
    private let languages: [String: Language]

    /// Reads the catalog of every language of `site`; a missing or unreadable one is refused, naming its file.
    public init(templates: String, site: Configuration.Site) throws(CatalogError) {
        folder = templates + "/lang"
        codes = site.languages
        var catalogs: [String: Catalog] = [:]
        for code in site.languages { catalogs[code] = try Catalog.load(code: code, folder: folder) }
        // English is the last fallback when the site has it; a key no catalog has is an empty text.
        let english = catalogs["en"] ?? (try? Catalog.load(code: "en", folder: folder))
        let siteCatalog = catalogs[site.language]!
        let fallbacks = [siteCatalog] + (english.map { [$0] } ?? [])
        var languages: [String: Language] = [:]
        for (code, catalog) in catalogs {
            languages[code] = Language(
                catalog: catalog, fallbacks: fallbacks, siteName: site.name,
                siteDirection: code == site.language ? site.explicitDirection : nil)
        }
        self.languages = languages
    }

    /// The site's own language: the archive's pages, and readers without a language of their own.
    public var site: Language { languages[codes[0]]! }

    /// The catalogs of `site`'s languages under `templates` (nil: an English site).
    public static func load(templates: String, site: Configuration.Site?) throws(TemplateError) -> Languages {
        try Languages(templates: templates, site: site ?? Configuration.Site(name: "", url: "", timeZone: .gmt))
    }

    /// `code`'s language, or the site's when `code` is nil or not one of `site.languages`.
    public func language(_ code: String?) -> Language { code.flatMap { languages[$0] } ?? site }

    /// Whether `code` is one of `site.languages`.
    public func offers(_ code: String) -> Bool { languages[code] != nil }

    /// The language a browser asks for (`Accept-Language: ar-JO,ar;q=0.9,en;q=0.5`): the offered one with the
    /// highest q-value (a region falls back to its language), or the site's when none is offered. RFC 9110 §12.5.4.
    public func preferred(acceptLanguage header: String?) -> Language {
        var best: (code: String, q: Double)?
        for part in (header ?? "").split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for parameter in pieces.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            guard q > 0 else { continue }
            let code =
                codes.first { $0.lowercased() == tag }
                ?? codes.first { tag.hasPrefix($0.lowercased() + "-") }
                ?? (tag == "*" ? codes.first : nil)
            // Equal q-values keep the browser's order: the first one seen stays.
            if let code, q > (best?.q ?? 0) { best = (code, q) }
        }
        return best.map { language($0.code) } ?? site
    }
}

extension Languages {
    /// What `digest languages check` and `digest init` report: catalogs of `site.languages` missing keys that
    /// another catalog (or a template's `{{t.…}}`) has, keys whose `{placeholders}` differ from the site's
    /// catalog, and lines that cannot be read. Empty when every catalog is complete.
    public static func check(templates: String, site: Configuration.Site) -> [CatalogError] {
        let folder = templates + "/lang"
        var problems: [CatalogError] = []
        var catalogs: [Catalog] = []
        for code in site.languages {
            do {
                catalogs.append(try Catalog.load(code: code, folder: folder))
            } catch {
                problems.append(error)
            }
        }
        let used = templateKeys(in: templates)
        var required = catalogs.reduce(into: Set<String>()) { $0.formUnion($1.requiredKeys) }
        for (key, _) in used where !catalogs.contains(where: { $0.has(key) }) { required.insert(key) }
        let reference = catalogs.first { $0.code == site.language } ?? catalogs.first
        // What the program fills for a key: what English, the catalog it ships with, writes in any form of it (else
        // what the other catalogs write).
        let english = catalogs.first { $0.code == "en" } ?? (try? Catalog.load(code: "en", folder: folder))
        func filled(besides code: String) -> [String: Set<String>] {
            var filled: [String: Set<String>] = [:]
            for other in english.map({ [$0] }) ?? catalogs.filter({ $0.code != code }) {
                for (key, text) in other.entries {
                    filled[Catalog.baseKey(key), default: []].formUnion(Catalog.placeholders(in: text))
                }
            }
            return filled
        }
        for catalog in catalogs {
            for key in required.sorted() where !catalog.has(key) {
                let usedBy = used[key].map { " (used by \($0))" } ?? ""
                problems.append(
                    CatalogError(
                        file: catalog.file, line: nil,
                        message: "`\(key)` is missing\(usedBy); readers of \(catalog.code) get "
                            + (reference?.code == catalog.code ? "an empty text" : "the \(site.language) text")))
            }
            let filled = filled(besides: catalog.code)
            for (key, text) in catalog.entries.sorted(by: { $0.key < $1.key }) {
                guard let expected = filled[Catalog.baseKey(key)] else { continue }
                if let extra = Catalog.placeholders(in: text).subtracting(expected).sorted().first {
                    problems.append(
                        CatalogError(
                            file: catalog.file, line: catalog.lines[key],
                            message: "`\(key)` has {\(extra)}, which the program does not fill (it fills "
                                + (expected.isEmpty
                                    ? "none" : expected.sorted().map { "{\($0)}" }.joined(separator: ", ")) + ")"))
                }
            }
            let direction = catalog.entries["language.direction"]
            if let direction, direction != "ltr" && direction != "rtl" {
                problems.append(
                    CatalogError(
                        file: catalog.file, line: catalog.lines["language.direction"],
                        message: "`language.direction` is \"ltr\" or \"rtl\", found \"\(direction)\""))
            }
        }
        return problems
    }

    /// The catalog keys the templates read (`{{t.digest.greeting}}`, `{{#t.…}}`), each with the first template
    /// that reads it.
    static func templateKeys(in folder: String) -> [String: String] {
        var keys: [String: String] = [:]
        guard let files = FileManager.default.enumerator(atPath: folder) else { return keys }
        for case let path as String in files where path.hasSuffix(".mustache") {
            guard let text = try? String(contentsOfFile: "\(folder)/\(path)", encoding: .utf8) else { continue }
            var rest = text[...]
            while let open = rest.range(of: "{{") {
                rest = rest[open.upperBound...]
                guard let close = rest.range(of: "}}") else { break }
                var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                if let first = tag.first, "#^/{&".contains(first) { tag.removeFirst() }
                tag = tag.trimmingCharacters(in: .whitespaces)
                if tag.hasPrefix("t."), tag.count > 2, keys[String(tag.dropFirst(2))] == nil {
                    keys[String(tag.dropFirst(2))] = path
                }
            }
        }
        return keys
    }
}
