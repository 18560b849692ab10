import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads back what a `TimeChart` drew, with an XML parser (so the SVG must be well-formed): each
/// bar's series, value and geometry, each line point's value, the threshold lines, and the title and
/// description.
final class SVGChartReader: NSObject, XMLParserDelegate {
    struct Bar: Equatable {
        var series: String
        var value: Double
        var y: Double
        var height: Double
    }

    private(set) var bars: [Bar] = []
    private(set) var points: [String: [Double]] = [:]
    private(set) var thresholds: [Double] = []
    private(set) var title = ""
    private(set) var summary = ""
    private(set) var labelledBy = ""
    private var series: [String] = []
    private var text: String?

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "\(parser.parserError.map { "\($0)" } ?? "")"])
        }
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        series.append(attributes["data-series"] ?? series.last ?? "")
        switch name {
        case "svg": labelledBy = attributes["aria-labelledby"] ?? ""
        case "rect" where attributes["data-value"] != nil:
            bars.append(
                Bar(
                    series: series.last ?? "", value: Double(attributes["data-value"]!)!, y: Double(attributes["y"]!)!,
                    height: Double(attributes["height"]!)!))
        case "g" where attributes["class"] == "point":
            points[series.last ?? "", default: []].append(Double(attributes["data-value"]!)!)
        case "g" where attributes["class"] == "threshold":
            thresholds.append(Double(attributes["data-value"]!)!)
        case "title" where title.isEmpty && series.count == 2, "desc":
            text = ""
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        series.removeLast()
        if let text {
            if name == "desc" { summary = text } else if name == "title" { title = text }
            self.text = nil
        }
    }
}
