/// The index.html of a render folder: the summary and the clusters as tables (with a small f_c
/// histogram per cluster), then one gallery per cluster (its mean figure and the drawn samples
/// assigned to it), then the full inspect text, folded. Images are files in the same folder,
/// referenced by file name.
public struct HTMLPage {
    public struct Figure {
        public let file: String
        public let caption: String
        public init(file: String, caption: String) { self.file = file; self.caption = caption }
    }

    /// A table cell: text, or an image file beside index.html.
    public enum Cell {
        case text(String)
        case image(file: String, alt: String)
    }

    public struct Table {
        public let headers: [String]
        public var rows: [[Cell]]
        public init(headers: [String], rows: [[Cell]] = []) { self.headers = headers; self.rows = rows }
    }

    public let title: String
    public let summary: String
    public var tables: [(heading: String, note: String, table: Table)] = []
    public var sections: [(heading: String, note: String, figures: [Figure])] = []

    public init(title: String, summary: String) {
        self.title = title
        self.summary = summary
    }

    public var html: String {
        var s = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
            table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 13px; }
            th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: middle; }
            th { background: #f0f0f0; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; font-size: 12px; }
            section.gallery { border-top: 1px solid #ccc; margin-top: 1em; }
            figure { display: inline-block; margin: 0.4em 1em 1em 0; vertical-align: top; }
            figcaption { font-size: 12px; max-width: 640px; }
            img { image-rendering: pixelated; }
            figure img { border: 1px solid #ccc; }
            </style></head><body>
            <h1>\(xmlEscape(title))</h1>

            """
        for t in tables {
            s += "<h2>\(xmlEscape(t.heading))</h2>\n"
            if !t.note.isEmpty { s += "<p>\(xmlEscape(t.note))</p>\n" }
            s += "<table>\n"
            if t.table.headers.contains(where: { !$0.isEmpty }) {
                s += "<tr>" + t.table.headers.map { "<th>\(xmlEscape($0))</th>" }.joined() + "</tr>\n"
            }
            for row in t.table.rows {
                s += "<tr>" + row.map(Self.cell).joined() + "</tr>\n"
            }
            s += "</table>\n"
        }
        for section in sections {
            s += "<section class=\"gallery\"><h2>\(xmlEscape(section.heading))</h2>\n"
            if !section.note.isEmpty { s += "<p>\(xmlEscape(section.note))</p>\n" }
            for f in section.figures {
                s += "<figure><img src=\"\(xmlEscape(f.file))\" alt=\"\(xmlEscape(f.caption))\"><figcaption>\(xmlEscape(f.caption))</figcaption></figure>\n"
            }
            s += "</section>\n"
        }
        s += "<details><summary>Full summary (as printed by neon-batch inspect)</summary>\n<pre>\(xmlEscape(summary))</pre></details>\n"
        return s + "</body></html>\n"
    }

    private static func cell(_ c: Cell) -> String {
        switch c {
        case .text(let t):
            let numeric = Double(t) != nil
            return "<td\(numeric ? " class=\"num\"" : "")>\(xmlEscape(t))</td>"
        case .image(let file, let alt):
            return "<td><img src=\"\(xmlEscape(file))\" alt=\"\(xmlEscape(alt))\"></td>"
        }
    }
}

/// A small SVG histogram (e.g. of f_c over a cluster's members) over a fixed range, so that
/// histograms of different clusters compare.
public struct Histogram {
    public let counts: [Int]
    public let lower: Double, upper: Double

    public init(counts: [Int], lower: Double, upper: Double) {
        self.counts = counts
        self.lower = lower
        self.upper = upper
    }

    /// The bin of value v among `bins` equal bins over [lower, upper] (clamped).
    public static func bin(_ v: Double, bins: Int, lower: Double, upper: Double) -> Int {
        guard upper > lower, v.isFinite else { return 0 }
        return min(bins - 1, max(0, Int((v - lower) / (upper - lower) * Double(bins))))
    }

    public func svg(width: Int = 180, height: Int = 44) -> String {
        let top = max(counts.max() ?? 0, 1)
        let plotHeight = Double(height - 12)
        let barWidth = Double(width) / Double(max(counts.count, 1))
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
        s += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        for (i, c) in counts.enumerated() where c > 0 {
            let h = plotHeight * Double(c) / Double(top)
            s += String(format: "<rect class=\"bin\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#b2182b\"/>\n",
                        Double(i) * barWidth, plotHeight - h, max(barWidth - 1, 0.5), h)
        }
        s += "<line x1=\"0\" y1=\"\(Int(plotHeight))\" x2=\"\(width)\" y2=\"\(Int(plotHeight))\" stroke=\"#555\"/>\n"
        s += "<text x=\"0\" y=\"\(height - 1)\" font-size=\"10\" font-family=\"sans-serif\">\(xmlEscape(shortNumber(lower)))</text>\n"
        s += "<text x=\"\(width)\" y=\"\(height - 1)\" font-size=\"10\" font-family=\"sans-serif\" text-anchor=\"end\">\(xmlEscape(shortNumber(upper)))</text>\n"
        return s + "</svg>\n"
    }
}
