/// How a bar series is told apart without colour: a solid fill, then hatching, dots and a cross
/// pattern over the series' colour. The colours are presentation attributes that the page's CSS
/// (`.chart .sN`) overrides for light and dark mode.
enum ChartPattern: CaseIterable {
    case solid, hatched, dotted, crossed

    static let all = allCases
    /// Colours that stay apart for the common colour-vision deficiencies (Okabe–Ito).
    static let colours = ["#0072b2", "#e69f00", "#cc79a7", "#009e73"]

    func write(to svg: inout SVGWriter, id: String, series: Int) {
        let colour = Self.colours[series % Self.colours.count]
        svg.open("pattern", [("id", id), ("patternUnits", "userSpaceOnUse"), ("width", "6"), ("height", "6")])
        svg.element("rect", [("class", "fill s\(series)"), ("width", "6"), ("height", "6"), ("fill", colour)])
        let mark = [("class", "mark"), ("stroke", "#ffffff"), ("stroke-width", "1.5")]
        switch self {
        case .solid:
            break
        case .hatched:
            svg.element("path", [("d", "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2")] + mark)
        case .dotted:
            svg.element("circle", [("cx", "3"), ("cy", "3"), ("r", "1.2"), ("class", "mark"), ("fill", "#ffffff")])
        case .crossed:
            svg.element("path", [("d", "M0,3 h6 M3,0 v6")] + mark)
        }
        svg.close("pattern")
    }
}

/// How a line series is told apart without colour: its dash and its marker.
struct ChartLineStyle {
    var dash: String
    var marker: Marker

    enum Marker { case circle, square, triangle, diamond }

    static let all = [
        ChartLineStyle(dash: "none", marker: .circle), ChartLineStyle(dash: "6 3", marker: .square),
        ChartLineStyle(dash: "2 3", marker: .triangle), ChartLineStyle(dash: "10 3 2 3", marker: .diamond),
    ]

    func marker(at point: (x: Double, y: Double), to svg: inout SVGWriter) {
        let (x, y) = (point.x, point.y)
        let c = ChartNumber.coordinate
        switch marker {
        case .circle:
            svg.element("circle", [("cx", c(x)), ("cy", c(y)), ("r", "2.5")])
        case .square:
            svg.element("rect", [("x", c(x - 2.5)), ("y", c(y - 2.5)), ("width", "5"), ("height", "5")])
        case .triangle:
            svg.element("path", [("d", "M\(c(x)),\(c(y - 3)) L\(c(x + 3)),\(c(y + 2.5)) L\(c(x - 3)),\(c(y + 2.5)) Z")])
        case .diamond:
            svg.element("path", [("d", "M\(c(x)),\(c(y - 3.5)) L\(c(x + 3.5)),\(c(y)) L\(c(x)),\(c(y + 3.5)) L\(c(x - 3.5)),\(c(y)) Z")])
        }
    }
}
