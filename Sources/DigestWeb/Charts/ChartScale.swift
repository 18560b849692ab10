/// The value axis of a `TimeChart`: round tick values (1, 2 or 5 times a power of ten) that cover the
/// highest upward stack and the deepest downward one, and where each value lies in pixels.
struct ChartScale: Sendable, Equatable {
    /// The tick above the highest value and the one below the deepest (as a positive number).
    let top: Double
    let bottom: Double
    let step: Double
    /// Pixels of the plot's height.
    let height: Double

    init(top: Double, bottom: Double, height: Double, ticks: Int = 4) {
        let span = top + bottom
        let step = span > 0 ? Self.roundStep(span / Double(ticks)) : 1
        self.step = step
        self.top = span > 0 ? (top / step).rounded(.up) * step : 1
        self.bottom = (bottom / step).rounded(.up) * step
        self.height = height
    }

    /// 1, 2 or 5 times a power of ten, the smallest at least `raw`.
    static func roundStep(_ raw: Double) -> Double {
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw * (1 - 1e-9) { return factor * magnitude }
        return 10 * magnitude
    }

    var pixelsPerUnit: Double { height / (top + bottom) }

    /// How far below the plot's top the zero line is.
    var zeroOffset: Double { top * pixelsPerUnit }

    func pixels(_ value: Double) -> Double { value * pixelsPerUnit }

    /// How far below the plot's top `value` lies (negative values below the zero line).
    func offset(of value: Double) -> Double { zeroOffset - pixels(value) }

    /// From the lowest tick to the highest, zero among them; values below zero are downward bars.
    var ticks: [Double] {
        let below = Int((bottom / step).rounded())
        let above = Int((top / step).rounded())
        return (-below...above).map { Double($0) * step }
    }
}

/// Numbers as a chart writes them: fixed formats that do not follow the machine's locale.
enum ChartNumber {
    /// 1234.6 → "1,235".
    static func count(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var grouped = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { grouped.append(",") }
            grouped.append(character)
        }
        return String(grouped.reversed())
    }

    /// 0.003 → "0.3 %", 0.02 → "2 %", 0.01234 → "1.23 %".
    static func percent(_ value: Double) -> String {
        trimmed(value * 100, decimals: 2) + " %"
    }

    /// A coordinate with at most one decimal.
    static func coordinate(_ value: Double) -> String { trimmed(value, decimals: 1) }

    /// The value itself, for `data-value` (what tests read back).
    static func plain(_ value: Double) -> String { trimmed(value, decimals: 6) }

    static func trimmed(_ value: Double, decimals: Int) -> String {
        var factor = 1.0
        for _ in 0..<decimals { factor *= 10 }
        let scaled = (value * factor).rounded()
        let negative = scaled < 0
        let whole = Int(abs(scaled)) / Int(factor)
        var fraction = String(Int(abs(scaled)) % Int(factor))
        if decimals > 0 { fraction = String(repeating: "0", count: decimals - fraction.count) + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let text = fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
        return negative && text != "0" ? "-" + text : text
    }
}
