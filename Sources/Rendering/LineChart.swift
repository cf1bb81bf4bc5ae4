import Foundation

/// Lines over a common x axis as SVG (the mean insertion curves of Algorithm 1: fraction of
/// features added against the fraction of imputed samples still assigned to c), with a legend.
public struct LineChart {
    public let title: String
    public let xLabel: String
    public let yLabel: String
    /// Each series: a name and its y values at x = 1/n, 2/n, ..., 1 (n = values.count).
    public let series: [(name: String, values: [Double])]

    public init(title: String, xLabel: String, yLabel: String, series: [(name: String, values: [Double])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf"]
    static let left = 60.0, top = 40.0, plotWidth = 420.0, plotHeight = 280.0, legendWidth = 170.0

    public var width: Int { Int(Self.left + Self.plotWidth + 20 + Self.legendWidth) }
    public var height: Int { Int(Self.top + Self.plotHeight + 50) }

    /// y in [0, 1] is drawn from the bottom (0) to the top (1) of the plot.
    public func svg() -> String {
        let (l, t, w, h) = (Self.left, Self.top, Self.plotWidth, Self.plotHeight)
        func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="6" y="20" font-size="14" font-weight="bold">\(xmlEscape(title))</text>
            <rect x="\(fmt(l))" y="\(fmt(t))" width="\(fmt(w))" height="\(fmt(h))" fill="none" stroke="#444"/>

            """
        for k in 0...4 {
            let v = Double(k) / 4
            let y = t + h * (1 - v), x = l + w * v
            s += "<line x1=\"\(fmt(l))\" y1=\"\(fmt(y))\" x2=\"\(fmt(l + w))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(fmt(l - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(fmt(v))</text>\n"
            s += "<text x=\"\(fmt(x))\" y=\"\(fmt(t + h + 16))\" text-anchor=\"middle\">\(fmt(v))</text>\n"
        }
        s += "<text x=\"\(fmt(l + w / 2))\" y=\"\(fmt(t + h + 36))\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>\n"
        s += "<text x=\"14\" y=\"\(fmt(t + h / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(fmt(t + h / 2)))\">\(xmlEscape(yLabel))</text>\n"
        for (i, line) in series.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let n = line.values.count
            let points = line.values.enumerated().map { j, v in
                "\(fmt(l + w * Double(j + 1) / Double(max(n, 1)))),\(fmt(t + h * (1 - min(max(v, 0), 1))))"
            }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points)\"><title>\(xmlEscape(line.name))</title></polyline>\n"
            let ly = t + 10 + Double(i) * 18
            s += "<line x1=\"\(fmt(l + w + 20))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(l + w + 44))\" y2=\"\(fmt(ly))\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
            s += "<text x=\"\(fmt(l + w + 50))\" y=\"\(fmt(ly + 4))\">\(xmlEscape(line.name))</text>\n"
        }
        return s + "</svg>\n"
    }
}
