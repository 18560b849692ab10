/// libxml2's error numbers (as FoundationXML's `XMLParser` reports them in `NSXMLParserErrorDomain`,
/// https://gnome.pages.gitlab.gnome.org/libxml2/devhelp/libxml2-xmlerror.html#xmlParserErrors)
/// in words, so a refused feed says what is wrong instead of "error 26".
enum XMLErrorText {
    static func reason(code: Int) -> String {
        switch code {
        case 3, 4: "the document is empty or does not start with an element"
        case 5: "the document ends before its elements are closed (cut off?)"
        case 6, 7, 8: "a character reference (&#…;) that is not a number"
        case 9: "a character that XML does not allow"
        case 22, 23: "an & that does not start an entity (write &amp;)"
        case 26, 27: "an entity that is not declared"
        case 31, 32, 79, 81: "an encoding the parser cannot read"
        case 33, 34: "a quoted value that does not end"
        case 35: "a namespace declaration that is not valid"
        case 38: "a < inside an attribute value"
        case 39, 40, 41: "an attribute without a quoted value"
        case 42: "the same attribute twice in one tag"
        case 45: "a comment (<!-- -->) that does not end"
        case 47: "a processing instruction (<?…?>) that does not end"
        case 56, 57: "an XML declaration (<?xml …?>) that is not complete"
        case 61: "a document type declaration that does not end"
        case 62: "]]> outside a CDATA section"
        case 63: "a CDATA section that does not end"
        case 64: "the XML declaration is not at the very start of the document"
        case 65: "a space is missing"
        case 68: "a tag name is missing or starts with a character a name cannot start with"
        case 73: "a tag that is not closed with > (a broken attribute?)"
        case 74: "an end tag (</…>) is expected"
        case 75: "an = is missing after an attribute name"
        case 76: "an end tag that does not match the element it closes"
        case 77: "a tag that is not complete"
        case 80: "-- inside a comment"
        case 85: "elements that are not properly nested"
        case 86: "text or elements after the end of the root element"
        case 89: "an entity that refers to itself"
        case 200: "a namespace declaration that redefines the xml prefix"
        case 201: "a namespace prefix that is not declared (no xmlns: for it)"
        case 202: "a qualified name that is not valid"
        case 203: "the same attribute twice in one tag (under two prefixes)"
        case 204: "an empty namespace name"
        default: "XML error \(code)"
        }
    }
}
