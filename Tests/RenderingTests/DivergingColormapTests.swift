import XCTest
@testable import Rendering

/// The diverging colour map: its ends and centre, clamping, and the same behaviour on both sides
/// of zero (blue below, red above, darker with |v|).
final class DivergingColormapTests: XCTestCase {
    func testEndsCentreAndClamping() {
        XCTAssertEqual(DivergingColormap.color(-1), RGB(0x05, 0x30, 0x61))
        XCTAssertEqual(DivergingColormap.color(0), RGB(0xf7, 0xf7, 0xf7))
        XCTAssertEqual(DivergingColormap.color(1), RGB(0x67, 0x00, 0x1f))
        XCTAssertEqual(DivergingColormap.negative, DivergingColormap.color(-1))
        XCTAssertEqual(DivergingColormap.centre, DivergingColormap.color(0))
        XCTAssertEqual(DivergingColormap.positive, DivergingColormap.color(1))
        XCTAssertEqual(DivergingColormap.color(-7), DivergingColormap.negative)
        XCTAssertEqual(DivergingColormap.color(.infinity), DivergingColormap.positive)
        XCTAssertEqual(DivergingColormap.color(.nan), DivergingColormap.centre)
    }

    func testStopsAreHitExactlyAndHalfwayIsTheMean() {
        for (k, stop) in DivergingColormap.stops.enumerated() {
            XCTAssertEqual(DivergingColormap.color(Double(k) / 5 - 1), stop, "stop \(k)")
        }
        let a = DivergingColormap.stops[5], b = DivergingColormap.stops[6]
        let mid = DivergingColormap.color(0.1)
        XCTAssertEqual(Int(mid.r), (Int(a.r) + Int(b.r) + 1) / 2)
        XCTAssertEqual(Int(mid.b), (Int(a.b) + Int(b.b) + 1) / 2)
    }

    func testBothSignsDarkenWithMagnitudeAndKeepTheirHue() {
        func darkness(_ c: RGB) -> Int { 3 * 255 - Int(c.r) - Int(c.g) - Int(c.b) }
        var previous = (positive: -1, negative: -1)
        for k in 0...40 {
            let v = Double(k) / 40
            let (p, n) = (DivergingColormap.color(v), DivergingColormap.color(-v))
            XCTAssertGreaterThanOrEqual(darkness(p), previous.positive, "v = \(v)")
            XCTAssertGreaterThanOrEqual(darkness(n), previous.negative, "v = -\(v)")
            previous = (darkness(p), darkness(n))
            if v >= 0.1 {
                XCTAssertGreaterThan(p.r, p.b, "red above zero at \(v)")
                XCTAssertGreaterThan(n.b, n.r, "blue below zero at -\(v)")
            }
        }
        XCTAssertGreaterThan(darkness(DivergingColormap.positive), 400)
        XCTAssertGreaterThan(darkness(DivergingColormap.negative), 400)
    }
}
