import Foundation

/// One reader language, ready to use: its catalog, the catalogs it falls back to (the site's language, then
/// English), its direction, its digits and its locale for dates.
///
/// A key missing from the language's catalog is taken from the next catalog; a key missing from all of them
/// is an empty text, never the key itself (`digest languages check` reports both).
public struct Language: Sendable {
    /// The code of `site.languages` (`ar`): the reader's `language`, the file's name, the HTML `lang`.
    public let code: String
    /// `ltr` or `rtl`, for the HTML `dir` (catalog key `language.direction`).
    public let direction: String
    /// Arabic-Indic digits (`language.digits = arabic-indic`) or Latin ones (the default).
    public let arabicIndicDigits: Bool
    /// The locale of dates, from `language.locale` (default: the code), with the catalog's digits.
    public let locale: Locale
    /// This language's catalog first, then its fallbacks.
    let catalogs: [Catalog]
    /// What `{site}` stands for when a caller does not say: the site's name.
    let siteName: String

    init(catalog: Catalog, fallbacks: [Catalog], siteName: String = "", siteDirection: String? = nil) {
        code = catalog.code
        self.siteName = siteName
        catalogs = [catalog] + fallbacks.filter { $0.code != catalog.code }
        let own = catalog.entries
        // `site.direction`, when the file gives it, wins over the catalog (README, "site.direction").
        direction =
            siteDirection ?? own["language.direction"].flatMap { $0 == "rtl" || $0 == "ltr" ? $0 : nil }
            ?? (Self.rightToLeft.contains(catalog.code.prefix(2).lowercased()) ? "rtl" : "ltr")
        arabicIndicDigits = own["language.digits"] == "arabic-indic"
        let localeID = own["language.locale"].flatMap { $0.isEmpty ? nil : $0 } ?? catalog.code
        // The site's English pages have always been dated with the bare code's locale: keep it where the
        // digits are the locale's own.
        locale = Locale(
            identifier: localeID
                + (arabicIndicDigits ? "@numbers=arab" : localeID.hasPrefix("en") ? "" : "@numbers=latn"))
    }

    /// Languages written right to left, when a catalog does not say.
    static let rightToLeft: Set<String> = ["ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ku"]

    public var isRightToLeft: Bool { direction == "rtl" }

    /// The text of `key`, its `{placeholders}` filled from `values` (`{site}`: the site's name, unless given).
    public func text(_ key: String, _ values: [String: String] = [:]) -> String {
        Self.fill(raw(key) ?? "", values.merging(["site": siteName]) { given, _ in given })
    }

    /// The text of `key` for `count`: its plural form for that number (`.one`, `.few`, …, else `.other`), with
    /// `{count}` written in the language's digits.
    public func text(_ key: String, count: Int, _ values: [String: String] = [:]) -> String {
        let form = PluralRule.form(count, language: code)
        // A catalog's own forms first: a fallback catalog's `.one` must not win over this one's `.other`.
        let text =
            catalogs.lazy.compactMap { $0.entries["\(key).\(form)"] ?? $0.entries["\(key).other"] ?? $0.entries[key] }
            .first ?? ""
        return Self.fill(text, values.merging(["count": number(count), "site": siteName]) { given, _ in given })
    }

    /// Whether any catalog of this language's chain has `key` (or its `.other` form).
    public func has(_ key: String) -> Bool { raw(key) != nil || raw(key + ".other") != nil }

    private func raw(_ key: String) -> String? {
        for catalog in catalogs { if let text = catalog.entries[key] { return text } }
        return nil
    }

    /// `number` in the language's digits, without grouping (as the mails have always written counts).
    public func number(_ number: Int) -> String { digits(in: String(number)) }

    /// `text` with its Latin digits written in the language's digits (a math question, "2 + 10 =").
    public func digits(in text: String) -> String {
        guard arabicIndicDigits else { return text }
        return String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    (0x30...0x39).contains(scalar.value) ? Unicode.Scalar(scalar.value - 0x30 + 0x660)! : scalar
                }))
    }

    /// `text` with Arabic-Indic (٠–٩) and Eastern Arabic-Indic (۰–۹) digits written as Latin ones.
    public static func latinDigits(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    switch scalar.value {
                    case 0x660...0x669: Unicode.Scalar(scalar.value - 0x660 + 0x30)!
                    case 0x6F0...0x6F9: Unicode.Scalar(scalar.value - 0x6F0 + 0x30)!
                    default: scalar
                    }
                }))
    }

    /// "Tuesday, 24 November 2026" in this language (Foundation's formatter with the language's locale).
    public func longDate(_ day: Day) -> String {
        let utc = TimeZone(identifier: "UTC")!
        var style = Date.FormatStyle(date: .complete, time: .omitted, locale: locale)
        style.timeZone = utc
        return day.instant(hour: 12, in: utc).formatted(style)
    }

    /// Every text of the chain as nested dictionaries (`digest.greeting` under `digest`, then `greeting`), for
    /// templates that read `{{t.digest.greeting}}`; `{site}` is filled with the site's name.
    public func tree() -> [String: any Sendable] {
        var tree: [String: any Sendable] = [:]
        for catalog in catalogs.reversed() {
            for (key, value) in catalog.entries {
                Self.insert(
                    Self.fill(value, ["site": siteName]), at: key.split(separator: ".").map(String.init), in: &tree)
            }
        }
        return tree
    }

    private static func insert(_ value: String, at path: [String], in tree: inout [String: any Sendable]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            if tree[first] is [String: any Sendable] { return }  // a key that is also a prefix: the check reports it
            tree[first] = value
            return
        }
        var child = tree[first] as? [String: any Sendable] ?? [:]
        insert(value, at: Array(path.dropFirst()), in: &child)
        tree[first] = child
    }

    /// `text` with each `{name}` of `values` replaced; other braces are left as they are.
    static func fill(_ text: String, _ values: [String: String]) -> String {
        guard !values.isEmpty, text.contains("{") else { return text }
        var result = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            if let close = rest[open...].firstIndex(of: "}"),
                let value = values[String(rest[rest.index(after: open)..<close])]
            {
                result += value
                rest = rest[rest.index(after: close)...]
            } else {
                result += "{"
                rest = rest[rest.index(after: open)...]
            }
        }
        return result + rest
    }

    /// `text` cut at its `{name}` placeholder: what comes before and after, for a template that puts markup
    /// (a link) where the placeholder is. Without the placeholder, all of it is before.
    public static func split(_ text: String, at name: String) -> (before: String, after: String) {
        guard let range = text.range(of: "{\(name)}") else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }
}
