import DigestCore
import Foundation

/// The archive as an Atom feed (RFC 4287): one entry per edition, newest first, each linking to the
/// edition's page with its items as the content. Ids are the pages' URLs (stable: an edition's date never
/// changes), `updated` is the edition's cut-off, and the feed links to itself as validators ask.
struct ArchiveFeed {
    var siteName: String
    var baseURL: String
    var entries: [(edition: Edition, view: EditionWebView)]

    var xml: String {
        let feedURL = baseURL + "/archive/feed.xml"
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <title>\(Self.escape(siteName)): past editions</title>
            <id>\(Self.escape(feedURL))</id>
            <link rel="self" type="application/atom+xml" href="\(Self.escape(feedURL))"/>
            <link rel="alternate" type="text/html" href="\(Self.escape(baseURL + "/archive"))"/>
            <updated>\(DateParsing.iso8601String(entries.first?.edition.cutoff ?? Date(timeIntervalSince1970: 0)))</updated>
            <author><name>\(Self.escape(siteName))</name></author>

            """
        for (edition, view) in entries {
            let url = baseURL + "/archive/" + edition.kind.archivePath(edition.date)
            xml += """
                <entry>
                <title>\(Self.escape(siteName + ": " + view.heading))</title>
                <id>\(Self.escape(url))</id>
                <link rel="alternate" type="text/html" href="\(Self.escape(url))"/>
                <updated>\(DateParsing.iso8601String(edition.cutoff))</updated>
                <published>\(DateParsing.iso8601String(edition.cutoff))</published>
                <summary>\(Self.escape(view.preheader))</summary>
                <content type="html">\(Self.escape(Self.content(view)))</content>
                </entry>

                """
        }
        return xml + "</feed>\n"
    }

    /// The edition's items as HTML (escaped once more when put in the feed).
    static func content(_ view: EditionWebView) -> String {
        var html = ""
        for section in view.sections {
            html += "<h2>\(escape(section.title))</h2><ol>"
            for item in section.items {
                html += "<li><a href=\"\(escape(item.url))\">\(escape(item.title))</a>"
                if let summary = item.summary { html += "<br>\(escape(summary))" }
                html += "</li>"
            }
            html += "</ol>"
        }
        return html
    }

    static func escape(_ text: String) -> String { XMLText.escaped(text) }
}
