/// CLDR's plural categories for the languages the catalogs ship with; every other language counts as English
/// does (one, other). https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html
enum PluralRule {
    static func form(_ count: Int, language: String) -> String {
        switch language.prefix(2) {
        case "ar":
            let tail = count % 100
            switch count {
            case 0: return "zero"
            case 1: return "one"
            case 2: return "two"
            default: return (3...10).contains(tail) ? "few" : (11...99).contains(tail) ? "many" : "other"
            }
        default: return count == 1 ? "one" : "other"
        }
    }
}
