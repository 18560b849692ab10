import DigestTestSupport
import Foundation
import Testing

@testable import DigestWeb

/// The admin console's charts: numbers in, SVG out. Golden files pin the drawing; the SVG is parsed
/// back to check that every bar and point stands for its number at the scale the axis shows.
@Suite struct TimeChartTests {
    static let golden = GoldenFiles(
        folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Golden")

    static let nights = ["11-24", "11-25", "11-26", "11-27", "11-28", "11-29", "11-30"]

    static let messages = TimeChart(
        id: "messages", title: "Messages per night", summary: "Sent, deferred and failed messages of each edition.",
        labels: nights,
        bars: [
            .init(name: "Sent", values: [980, 1012, 1003, 0, 1020, 1031, 1040]),
            .init(name: "Deferred", values: [12, 0, 40, 0, 3, 0, 1]),
            .init(name: "Failed", values: [2, 1, 0, 0, 5, 2, 0]),
        ])

    static let rates = TimeChart(
        id: "rates", title: "Bounce and complaint rates", summary: "Hard bounces and complaints per message sent.",
        labels: nights,
        lines: [
            .init(name: "Hard bounces", values: [0.004, 0.001, 0.0, 0.0, 0.025, 0.002, 0.001]),
            .init(name: "Complaints", values: [0.0, 0.001, 0.0005, 0.0, 0.004, 0.0, 0.0]),
        ],
        thresholds: [.init(name: "Complaint line", value: 0.003), .init(name: "Hard-bounce line", value: 0.02)],
        unit: .percent)

    static let growth = TimeChart(
        id: "growth", title: "List growth", summary: "Confirmations above the line, unsubscribes and bounces below.",
        labels: nights,
        bars: [
            .init(name: "Confirmed", values: [30, 12, 8, 0, 25, 14, 9]),
            .init(name: "Unsubscribed", values: [3, 5, 2, 0, 11, 4, 1], direction: .down),
            .init(name: "Bounced", values: [1, 0, 0, 0, 6, 0, 2], direction: .down),
        ],
        lines: [.init(name: "Signed up", values: [41, 15, 9, 2, 30, 18, 10])])

    @Test(arguments: [messages, rates, growth])
    func drawingsMatchTheirGoldenFiles(chart: TimeChart) throws {
        try Self.golden.check(Array(chart.svg.utf8), "chart-\(chart.id).svg")
    }

    @Test(arguments: [messages, rates, growth])
    func everyBarAndPointStandsForItsNumber(chart: TimeChart) throws {
        let drawn = try SVGChartReader(chart.svg)
        let scale = chart.scale
        let zero = TimeChart.margin.top + scale.zeroOffset
        #expect(drawn.title == chart.title)
        #expect(drawn.summary == chart.summary)
        #expect(drawn.labelledBy == "\(chart.id)-title \(chart.id)-desc")

        // One bar per non-zero value, of that value's height, stacked on the series before it.
        for (index, series) in chart.bars.enumerated() {
            let bars = drawn.bars.filter { $0.series == series.name }
            #expect(bars.map(\.value) == series.values.filter { $0 > 0 })
            var column = 0
            for bar in bars {
                while series.values[column] == 0 { column += 1 }
                #expect(abs(bar.height - scale.pixels(bar.value)) <= 0.1)
                let under = chart.bars[..<index].filter { $0.direction == series.direction }.reduce(0) { $0 + $1.values[column] }
                let expectedY = series.direction == .up
                    ? zero - scale.pixels(under) - scale.pixels(bar.value) : zero + scale.pixels(under)
                #expect(abs(bar.y - expectedY) <= 0.1, "\(series.name) on \(chart.labels[column])")
                column += 1
            }
        }
        for line in chart.lines {
            #expect(drawn.points[line.name] == line.values)
        }
        #expect(drawn.thresholds == chart.thresholds.map(\.value))
        // The axis reaches past the highest stack and the deepest one.
        #expect(scale.top >= chart.extent.top)
        #expect(scale.bottom >= chart.extent.bottom)
    }

    @Test func theTableHoldsTheSameNumbersAsTheChart() {
        let table = Self.growth.table
        #expect(table.header == ["Date", "Confirmed", "Unsubscribed", "Bounced", "Signed up"])
        #expect(table.rows.first == ["11-24", "30", "3", "1", "41"])
        #expect(Self.rates.table.rows[4] == ["11-28", "2.5 %", "0.4 %"])
    }

    @Test func axisStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        #expect(ChartScale.roundStep(0.0007) == 0.001)
        #expect(ChartScale.roundStep(260) == 500)
        #expect(ChartScale.roundStep(200) == 200)
        #expect(ChartScale.roundStep(1.2) == 2)
        let scale = ChartScale(top: 1040 + 40 + 5, bottom: 0, height: 200)
        #expect(scale.ticks == [0, 500, 1000, 1500])
        let diverging = ChartScale(top: 30, bottom: 17, height: 200)
        #expect(diverging.ticks == [-20, 0, 20, 40])
        // Nothing to draw yet: an axis from 0 to 1, no division by zero.
        #expect(ChartScale(top: 0, bottom: 0, height: 200).ticks == [0, 1])
    }

    @Test func textIsEscapedAndNumbersIgnoreTheLocale() throws {
        let chart = TimeChart(
            id: "x", title: "Sent <b>& \"failed\"", summary: "a < b", labels: ["<d>"],
            bars: [.init(name: "A & B", values: [1_234_567])])
        let drawn = try SVGChartReader(chart.svg)
        #expect(drawn.title == "Sent <b>& \"failed\"")
        #expect(chart.svg.contains("&lt;d&gt;: A &amp; B 1,234,567"))
        #expect(ChartNumber.percent(0.003) == "0.3 %")
        #expect(ChartNumber.percent(0.02) == "2 %")
        #expect(ChartNumber.count(999) == "999")
        #expect(ChartNumber.count(1000) == "1,000")
    }

    @Test func aYearOfNightsLabelsOnlyAFewDatesUnderTheAxis() {
        let labels = (0..<365).map { "d\($0)" }
        let chart = TimeChart(
            id: "year", title: "t", summary: "s", labels: labels, bars: [.init(name: "Sent", values: labels.map { _ in 5 })])
        let svg = chart.svg
        let shown = labels.filter { svg.contains(">\($0)</text>") }
        #expect(shown.count <= TimeChart.maxAxisLabels + 1)
        #expect(shown.first == "d0")
    }
}
