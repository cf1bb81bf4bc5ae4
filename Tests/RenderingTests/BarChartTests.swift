import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Rendering

/// SVG bar charts: well-formed XML, one bar a value, lengths proportional to |value| from a
/// shared zero line (negative to its left, in blue; positive to its right, in red), labels escaped.
final class BarChartTests: XCTestCase {
    struct Bar { let x: Double, width: Double, fill: String, title: String }

    /// The elements named `name` anywhere in an SVG document, in document order.
    func elements(_ name: String, in svg: String) throws -> [XMLElement] {
        let doc = try XMLDocument(xmlString: svg, options: [])
        XCTAssertEqual(doc.rootElement()?.name, "svg")
        func walk(_ e: XMLElement) -> [XMLElement] {
            (e.name == name ? [e] : []) + (e.children ?? []).compactMap { $0 as? XMLElement }.flatMap(walk)
        }
        return doc.rootElement().map(walk) ?? []
    }

    /// An attribute's value (looked up in `attributes`: corelibs Foundation's attribute(forName:)
    /// finds nothing on an element in the default SVG namespace).
    func value(_ e: XMLElement, _ attribute: String) -> String? {
        e.attributes?.first { $0.name == attribute }?.stringValue
    }

    func number(_ e: XMLElement, _ attribute: String) -> Double { value(e, attribute).flatMap(Double.init) ?? .nan }

    func bars(_ svg: String) throws -> (bars: [Bar], zeroX: Double) {
        let rects = try elements("rect", in: svg).filter { value($0, "class") == "bar" }
        let bars = rects.map { r in
            Bar(x: number(r, "x"), width: number(r, "width"), fill: value(r, "fill") ?? "",
                title: r.stringValue ?? "")
        }
        let lines = try elements("line", in: svg)
        XCTAssertEqual(lines.count, 1, "one zero line")
        return (bars, lines.first.map { number($0, "x1") } ?? .nan)
    }

    func testBarsAreProportionalToTheValuesAroundTheZeroLine() throws {
        let chart = BarChart(title: "cluster 2", bars: [("a", 3), ("b", -1), ("c", 1.5), ("d", 0)])
        let (bars, zeroX) = try bars(chart.svg())
        XCTAssertEqual(bars.count, 4)
        // Plot width 300 spans 3 + 1 units: 75 pixels a unit, zero 75 pixels into the plot.
        XCTAssertEqual(zeroX, BarChart.labelWidth + 75, accuracy: 0.05)
        XCTAssertEqual(bars.map(\.width), [225, 75, 112.5, 0].map { ($0 * 10).rounded() / 10 })
        XCTAssertEqual(bars[0].x, zeroX, accuracy: 0.05)
        XCTAssertEqual(bars[1].x + bars[1].width, zeroX, accuracy: 0.05, "a negative bar ends at zero")
        XCTAssertEqual(bars[0].fill, DivergingColormap.color(0.8).hex)
        XCTAssertEqual(bars[1].fill, DivergingColormap.color(-0.8).hex)
        XCTAssertEqual(bars.map(\.title), ["a: 3", "b: -1", "c: 1.5", "d: 0"])
        XCTAssertEqual(chart.height, Int(BarChart.top) + 4 * 22 + 10)
    }

    func testLabelsAndTitleAreEscaped() throws {
        let chart = BarChart(title: "R&D <all>", bars: [("x<\"y\">&'z'", 1)])
        let svg = chart.svg()
        XCTAssertFalse(svg.contains("<all>"))
        XCTAssertTrue(svg.contains("R&amp;D &lt;all&gt;"))
        let (bars, _) = try bars(svg)
        XCTAssertEqual(bars.first?.title, "x<\"y\">&'z': 1", "the parser gives back the label as it was")
    }

    func testAllZeroAndEmptyChartsStayWellFormed() throws {
        let (zero, zeroX) = try bars(BarChart(title: "", bars: [("a", 0), ("b", 0)]).svg())
        XCTAssertEqual(zero.map(\.width), [0, 0])
        XCTAssertEqual(zeroX, BarChart.labelWidth, accuracy: 0.05)
        XCTAssertEqual(try bars(BarChart(title: "none", bars: []).svg()).bars.count, 0)
    }

    func testStrongestOrdersByMagnitudeThenIndex() {
        let top = BarChart.strongest([1, -4, 4, 0.5, -2], names: ["a", "b", "c", "d", "e"], count: 3)
        XCTAssertEqual(top.map(\.label), ["b", "c", "e"])
        XCTAssertEqual(top.map(\.value), [-4, 4, -2])
        XCTAssertEqual(BarChart.strongest([1], names: ["a"], count: 5).count, 1)
    }

    func testHistogramBarsAreProportionalToCounts() throws {
        let svg = Histogram(counts: [2, 0, 4], lower: -1, upper: 1).svg(width: 90, height: 44)
        let bins = try elements("rect", in: svg).filter { value($0, "class") == "bin" }
        XCTAssertEqual(bins.count, 2, "empty bins draw nothing")
        let heights = bins.map { number($0, "height") }
        XCTAssertEqual(heights, [16, 32])
        XCTAssertEqual(Histogram.bin(-5, bins: 3, lower: -1, upper: 1), 0)
        XCTAssertEqual(Histogram.bin(0.99, bins: 3, lower: -1, upper: 1), 2)
        XCTAssertEqual(Histogram.bin(1, bins: 3, lower: -1, upper: 1), 2)
        XCTAssertEqual(Histogram.bin(.nan, bins: 3, lower: -1, upper: 1), 0)
    }

    func testLineChartHasOnePolylineASeriesWithinThePlot() throws {
        let chart = LineChart(title: "t", xLabel: "x & y", yLabel: "<y>", series: [("a", [0, 0.5, 1]), ("b", [2, -1])])
        let lines = try elements("polyline", in: chart.svg())
        XCTAssertEqual(lines.count, 2)
        guard lines.count == 2 else { return }
        let b = (value(lines[1], "points") ?? "").split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
        XCTAssertEqual(b.map { $0[1] }, [LineChart.top, LineChart.top + LineChart.plotHeight], "values clamped to [0, 1]")
    }
}
