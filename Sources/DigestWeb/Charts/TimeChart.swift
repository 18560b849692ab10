/// A chart of figures per day or per night, drawn as SVG text by the server: numbers in, SVG out, no
/// I/O and no clock, so golden files pin what it draws.
///
/// Bars stack per column (upwards for `.up` series, downwards below the zero line for `.down`), lines
/// run over them, and threshold lines (the 0.3 % complaint line) are drawn across. Nothing depends on
/// colour alone: every bar series has its own fill pattern (solid, hatched, dotted, crossed) and every
/// line its own dash and marker, all named in the legend; each bar and point carries its value in a
/// `<title>`. The SVG has a title and a description (`role="img"`, `aria-labelledby`); the page puts the
/// same numbers in a table beside it (`table`).
///
/// Colours come from the page's CSS (`.chart .sN`), so the chart follows light and dark mode.
struct TimeChart: Sendable, Equatable {
    /// What a value means, for the axis and the tooltips.
    enum Unit: Sendable, Equatable {
        case count
        /// A fraction drawn as a percentage (0.003 → "0.3 %").
        case percent
    }

    enum Direction: Sendable, Equatable {
        case up, down
    }

    struct BarSeries: Sendable, Equatable {
        var name: String
        var values: [Double]
        var direction: Direction = .up
    }

    struct LineSeries: Sendable, Equatable {
        var name: String
        var values: [Double]
    }

    /// A horizontal line across the chart, such as a rate not to cross.
    struct Threshold: Sendable, Equatable {
        var name: String
        var value: Double
    }

    /// Unique on its page: the ids of the title, description and patterns derive from it.
    var id: String
    var title: String
    /// One or two sentences saying what the chart shows (its `<desc>`).
    var summary: String
    /// One per column, oldest first, e.g. "2026-11-30".
    var labels: [String]
    var bars: [BarSeries] = []
    var lines: [LineSeries] = []
    var thresholds: [Threshold] = []
    var unit: Unit = .count

    static let width = 720.0
    static let height = 260.0
    static let margin = (top: 14.0, right: 16.0, bottom: 40.0, left: 56.0)
    static let plotWidth = width - margin.left - margin.right
    static let plotHeight = height - margin.top - margin.bottom
    /// At most this many dates under the axis; the others are in the table and the tooltips.
    static let maxAxisLabels = 6

    /// The columns' extent: the highest upward stack (and line, threshold) and the deepest downward one.
    var extent: (top: Double, bottom: Double) {
        var top = 0.0
        var bottom = 0.0
        for column in labels.indices {
            top = max(top, bars.filter { $0.direction == .up }.reduce(0) { $0 + $1.value(at: column) })
            bottom = max(bottom, bars.filter { $0.direction == .down }.reduce(0) { $0 + $1.value(at: column) })
            for line in lines { top = max(top, line.value(at: column)) }
        }
        for threshold in thresholds { top = max(top, threshold.value) }
        return (top, bottom)
    }

    /// The axis: where zero lies and how many units a pixel is, with round tick values.
    var scale: ChartScale {
        let (top, bottom) = extent
        return ChartScale(top: top, bottom: bottom, height: Self.plotHeight)
    }

    /// The x of column `index`'s left edge, and the width of its bar.
    func column(_ index: Int) -> (x: Double, width: Double) {
        let step = Self.plotWidth / Double(max(labels.count, 1))
        let gap = step >= 6 ? step * 0.2 : 0
        return (Self.margin.left + Double(index) * step + gap / 2, step - gap)
    }

    func format(_ value: Double) -> String {
        switch unit {
        case .count: ChartNumber.count(value)
        case .percent: ChartNumber.percent(value)
        }
    }

    var svg: String {
        var svg = SVGWriter()
        let scale = scale
        let zero = Self.margin.top + scale.zeroOffset
        svg.open(
            "svg",
            [
                ("class", "chart"), ("role", "img"), ("aria-labelledby", "\(id)-title \(id)-desc"),
                ("viewBox", "0 0 \(ChartNumber.coordinate(Self.width)) \(ChartNumber.coordinate(Self.height + legendHeight))"),
                ("xmlns", "http://www.w3.org/2000/svg"), ("font-size", "12"), ("fill", "currentColor"),
            ])
        svg.element("title", [("id", "\(id)-title")], text: title)
        svg.element("desc", [("id", "\(id)-desc")], text: summary)
        svg.open("defs")
        for index in bars.indices { ChartPattern.all[index % ChartPattern.all.count].write(to: &svg, id: "\(id)-p\(index)", series: index) }
        svg.close("defs")

        // The grid and the value axis.
        svg.open("g", [("class", "axis")])
        for tick in scale.ticks {
            let y = Self.margin.top + scale.offset(of: tick)
            svg.element("line", [
                ("class", tick == 0 ? "zero" : "grid"), ("stroke", tick == 0 ? "currentColor" : "#d8d4cc"), ("x1", ChartNumber.coordinate(Self.margin.left)),
                ("x2", ChartNumber.coordinate(Self.width - Self.margin.right)),
                ("y1", ChartNumber.coordinate(y)), ("y2", ChartNumber.coordinate(y)),
            ])
            svg.element("text", [
                ("x", ChartNumber.coordinate(Self.margin.left - 6)), ("y", ChartNumber.coordinate(y + 4)),
                ("text-anchor", "end"),
            ], text: format(tick < 0 ? -tick : tick))
        }
        let every = max(1, (labels.count + Self.maxAxisLabels - 1) / Self.maxAxisLabels)
        for index in labels.indices where index % every == 0 {
            let (x, width) = column(index)
            svg.element("text", [
                ("x", ChartNumber.coordinate(x + width / 2)), ("y", ChartNumber.coordinate(Self.height - Self.margin.bottom + 18)),
                ("text-anchor", "middle"),
            ], text: labels[index])
        }
        svg.close("g")

        // Bars, stacked away from the zero line.
        for (series, bar) in bars.enumerated() {
            svg.open("g", [("class", "bars s\(series)"), ("data-series", bar.name)])
            for index in labels.indices {
                let value = bar.value(at: index)
                guard value > 0 else { continue }
                let below = bars[..<series].filter { $0.direction == bar.direction }.reduce(0) { $0 + $1.value(at: index) }
                let (x, width) = column(index)
                let near = scale.pixels(below)
                let length = scale.pixels(value)
                let y = bar.direction == .up ? zero - near - length : zero + near
                svg.open("rect", [
                    ("x", ChartNumber.coordinate(x)), ("y", ChartNumber.coordinate(y)),
                    ("width", ChartNumber.coordinate(width)), ("height", ChartNumber.coordinate(length)),
                    ("fill", "url(#\(id)-p\(series))"), ("data-value", ChartNumber.plain(value)),
                ])
                svg.element("title", [], text: "\(labels[index]): \(bar.name) \(format(value))")
                svg.close("rect")
            }
            svg.close("g")
        }

        // Lines over the bars, each with its dash and marker.
        for (series, line) in lines.enumerated() {
            let style = ChartLineStyle.all[series % ChartLineStyle.all.count]
            svg.open("g", [
                ("class", "line l\(series)"), ("data-series", line.name), ("stroke", "currentColor"), ("fill", "currentColor"),
            ])
            let points = labels.indices.map { index -> (Double, Double) in
                let (x, width) = column(index)
                return (x + width / 2, zero - scale.pixels(line.value(at: index)))
            }
            svg.element("polyline", [
                ("points", points.map { "\(ChartNumber.coordinate($0.0)),\(ChartNumber.coordinate($0.1))" }.joined(separator: " ")),
                ("fill", "none"), ("stroke-width", "2"), ("stroke-dasharray", style.dash),
            ])
            for (index, point) in points.enumerated() {
                svg.open("g", [("class", "point"), ("data-value", ChartNumber.plain(line.value(at: index)))])
                style.marker(at: point, to: &svg)
                svg.element("title", [], text: "\(labels[index]): \(line.name) \(format(line.value(at: index)))")
                svg.close("g")
            }
            svg.close("g")
        }

        for threshold in thresholds {
            let y = zero - scale.pixels(threshold.value)
            svg.open("g", [("class", "threshold"), ("data-value", ChartNumber.plain(threshold.value)), ("stroke", "#b42318")])
            svg.element("line", [
                ("x1", ChartNumber.coordinate(Self.margin.left)), ("x2", ChartNumber.coordinate(Self.width - Self.margin.right)),
                ("y1", ChartNumber.coordinate(y)), ("y2", ChartNumber.coordinate(y)), ("stroke-dasharray", "8 4"),
            ])
            svg.element("text", [
                ("x", ChartNumber.coordinate(Self.width - Self.margin.right - 4)), ("y", ChartNumber.coordinate(y - 4)),
                ("text-anchor", "end"), ("stroke", "none"), ("fill", "#b42318"),
            ], text: "\(threshold.name) (\(format(threshold.value)))")
            svg.close("g")
        }

        writeLegend(to: &svg)
        svg.close("svg")
        return svg.text
    }

    /// One row per series under the axis: the swatch (pattern or dash and marker) and the name.
    private var legendEntries: Int { bars.count + lines.count }
    private var legendHeight: Double { legendEntries == 0 ? 0 : 22 * Double((legendEntries + 2) / 3) }

    private func writeLegend(to svg: inout SVGWriter) {
        guard legendEntries > 0 else { return }
        svg.open("g", [("class", "legend")])
        let names = bars.map(\.name) + lines.map(\.name)
        for (index, name) in names.enumerated() {
            let x = Self.margin.left + Double(index % 3) * 220
            let y = Self.height + Double(index / 3) * 22
            if index < bars.count {
                svg.element("rect", [
                    ("x", ChartNumber.coordinate(x)), ("y", ChartNumber.coordinate(y - 11)), ("width", "14"), ("height", "14"),
                    ("fill", "url(#\(id)-p\(index))"), ("class", "swatch"),
                ])
            } else {
                let style = ChartLineStyle.all[(index - bars.count) % ChartLineStyle.all.count]
                svg.open("g", [("class", "line l\(index - bars.count)"), ("stroke", "currentColor"), ("fill", "currentColor")])
                svg.element("line", [
                    ("x1", ChartNumber.coordinate(x - 4)), ("x2", ChartNumber.coordinate(x + 18)),
                    ("y1", ChartNumber.coordinate(y - 4)), ("y2", ChartNumber.coordinate(y - 4)),
                    ("stroke-dasharray", style.dash),
                ])
                style.marker(at: (x + 7, y - 4), to: &svg)
                svg.close("g")
            }
            svg.element("text", [("x", ChartNumber.coordinate(x + 22)), ("y", ChartNumber.coordinate(y)), ("stroke", "none")], text: name)
        }
        svg.close("g")
    }

    /// The numbers behind the chart, one row per column, for the table beside it.
    var table: (header: [String], rows: [[String]]) {
        let header = ["Date"] + bars.map(\.name) + lines.map(\.name)
        let rows = labels.indices.map { index in
            [labels[index]] + bars.map { format($0.value(at: index)) } + lines.map { format($0.value(at: index)) }
        }
        return (header, rows)
    }
}

extension TimeChart.BarSeries {
    func value(at index: Int) -> Double { index < values.count ? max(0, values[index]) : 0 }
}

extension TimeChart.LineSeries {
    func value(at index: Int) -> Double { index < values.count ? max(0, values[index]) : 0 }
}
