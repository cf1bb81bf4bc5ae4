import Foundation

/// A horizontal bar chart of feature relevances as SVG: one bar a feature, red for positive and
/// blue for negative relevance (the colours of the heatmaps), drawn from a common zero line.
public struct BarChart {
    public let title: String
    public let bars: [(label: String, value: Double)]

    public init(title: String, bars: [(label: String, value: Double)]) {
        self.title = title
        self.bars = bars
    }

    /// The `count` entries of largest |value| (ties: lower index first), largest first.
    public static func strongest(_ values: [Double], names: [String], count: Int) -> [(label: String, value: Double)] {
        values.indices.sorted { abs(values[$0]) != abs(values[$1]) ? abs(values[$0]) > abs(values[$1]) : $0 < $1 }
            .prefix(count).map { (names[$0], values[$0]) }
    }

    static let labelWidth = 170.0, plotWidth = 300.0, valueWidth = 70.0, barHeight = 18.0, top = 34.0

    public var width: Int { Int(Self.labelWidth + Self.plotWidth + Self.valueWidth) }
    public var height: Int { Int(Self.top + Double(bars.count) * (Self.barHeight + 4) + 10) }

    public func svg() -> String {
        // The plot spans [-(largest negative), largest positive] with the zero line between.
        let maxPositive = bars.reduce(0) { max($0, $1.value) }, maxNegative = bars.reduce(0) { max($0, -$1.value) }
        let range = maxPositive + maxNegative
        let span = range > 0 ? Self.plotWidth / range : 0        // pixels per unit of relevance
        let zeroX = Self.labelWidth + maxNegative * span
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="6" y="20" font-size="14" font-weight="bold">\(xmlEscape(title))</text>

            """
        for (i, bar) in bars.enumerated() {
            let y = Self.top + Double(i) * (Self.barHeight + 4)
            let length = abs(bar.value) * span
            let x = bar.value < 0 ? zeroX - length : zeroX
            let color = bar.value < 0 ? DivergingColormap.color(-0.8) : DivergingColormap.color(0.8)
            s += "<text x=\"\(fmt(Self.labelWidth - 6))\" y=\"\(fmt(y + 13))\" text-anchor=\"end\">\(xmlEscape(bar.label))</text>"
            s += "<rect class=\"bar\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(length))\" height=\"\(fmt(Self.barHeight))\" fill=\"\(color.hex)\"><title>\(xmlEscape(bar.label)): \(shortNumber(bar.value))</title></rect>"
            s += "<text x=\"\(fmt(Self.labelWidth + Self.plotWidth + 4))\" y=\"\(fmt(y + 13))\">\(shortNumber(bar.value))</text>\n"
        }
        s += "<line x1=\"\(fmt(zeroX))\" y1=\"\(fmt(Self.top - 4))\" x2=\"\(fmt(zeroX))\" y2=\"\(height - 6)\" stroke=\"#333\"/>\n</svg>\n"
        return s
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// A number in 4 significant digits.
public func shortNumber(_ v: Double) -> String { String(format: "%.4g", v) }

/// Text for XML/HTML content and attribute values.
public func xmlEscape(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
