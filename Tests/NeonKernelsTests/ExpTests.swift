import Foundation
import NeonCore
import NeonKernels
import XCTest

/// The vectorised exps of NeonRules.h against Foundation's exp, within their documented errors,
/// over [-750, 0] with the underflow edges (-87 for float, -708 and -745 for double).
final class ExpTests: XCTestCase {
    /// Arguments: a grid over [lo, 0], random points, and the values around each edge.
    func arguments(lo: Double, edges: [Double], seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var y = (0...4000).map { lo * Double($0) / 4000 }
        y += (0..<4000).map { _ in lo * Double.random(in: 0...1, using: &rng) }
        for e in edges { y += [e.nextUp.nextUp, e.nextUp, e, e.nextDown, e + 1e-3, e - 1e-3] }
        y += [0, -0.0, -1e-30, -Double.leastNonzeroMagnitude, -0.5 * log(2), 0.5 * log(2) - 1]
        return y
    }

    /// float: relative error <= 3e-7 (documented ~2e-7) above -87, exactly 0 at and below it and
    /// for -inf and NaN; the 8-lane array form agrees with the scalar form to that error.
    func testFloatExp() {
        let y = arguments(lo: -100, edges: [-87], seed: 1).map { Float($0) } + [-.infinity, .nan]
        var vec = [Float](repeating: .nan, count: y.count)
        neon_exp_nonpos_f32_array(y, y.count, &vec)
        var worst = 0.0
        for (i, v) in y.enumerated() {
            let scalar = neon_exp_nonpos_f32(v)
            if !(v > -87) {
                XCTAssertEqual(scalar, 0, "y = \(v)")
                XCTAssertEqual(vec[i], 0, "y = \(v)")
                continue
            }
            let ref = exp(Double(v))
            for got in [scalar, vec[i]] {
                let rel = abs(Double(got) - ref) / ref
                worst = max(worst, rel)
                XCTAssertLessThan(rel, 3e-7, "y = \(v)")
            }
        }
        XCTAssertGreaterThan(worst, 0, "the polynomial is an approximation, not libm")
    }

    /// double (degree 12): relative error <= 1e-15 above -708, exactly 0 at and below it.
    func testDoubleExp() {
        let y = arguments(lo: -750, edges: [-708, -745], seed: 2)
        var out = [Double](repeating: .nan, count: y.count)
        neon_exp_nonpos_f64_array(y, y.count, &out)
        for (i, v) in y.enumerated() {
            // the array form may fuse multiply-adds (its AVX2 clone) where the scalar form does not
            for got in [neon_exp_nonpos_f64(v), out[i]] {
                if !(v > -708) {
                    XCTAssertEqual(got, 0, "y = \(v)")
                } else {
                    XCTAssertLessThan(abs(got - exp(v)) / exp(v), 1e-15, "y = \(v)")
                }
            }
        }
    }

    /// The libm form: libm's exp above -745, exactly 0 at and below it (where exp is subnormal or 0).
    func testLibmExpCutoff() {
        for v in arguments(lo: -750, edges: [-745], seed: 3) {
            XCTAssertEqual(neon_exp_nonpos_libm(v), v > -745 ? exp(v) : 0, "y = \(v)")
        }
    }
}
