import Foundation
@testable import NeonCore
import XCTest

/// The fast path's per-row C kernels against plain Swift references: the one-sweep top two
/// (Prop. 1: c = the first argmax of s_k = z_k - |m_k|^2, f_c = s_c - max_{k != c} s_k) on rows
/// full of ties, at every K around the vector width, in both precisions; and the vectorised
/// search for the first NaN or infinity.
final class RowKernelTests: XCTestCase {
    /// (c, s_c, max_{k != c} s_k) by two plain sweeps.
    static func reference<T: NeonScalar>(_ z: [T], _ sq: [T]) -> (Int, T, T) {
        let s = zip(z, sq).map { $0 - $1 }
        var c = 0
        for k in s.indices where s[k] > s[c] { c = k }
        var second = -T.infinity
        for k in s.indices where k != c && s[k] > second { second = s[k] }
        return (c, s[c], second)
    }

    /// Rows whose values come from a few levels (many exact ties: the maximum repeated in the
    /// same vector lane, in other lanes, in the tail) or from a continuum.
    static func rows<T: NeonScalar>(_: T.Type, rows: Int, clusters K: Int, levels: Int?, seed: UInt64) -> ([T], [T]) {
        var rng = SplitMix64(seed: seed)
        var z = [T](), sq = [T]()
        for _ in 0..<(rows * K) {
            z.append(levels.map { T(Int(rng.next() % UInt64($0))) } ?? T(rng.normal() * 10))
        }
        for _ in 0..<K { sq.append(levels == nil ? T(rng.normal()) : 0) }
        return (z, sq)
    }

    func check<T: FitScalar>(_: T.Type) {
        for K in [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000] {
            for levels in [nil, 2, 3, 50] as [Int?] {
                let n = 40
                let (z, sq) = Self.rows(T.self, rows: n, clusters: K, levels: levels, seed: UInt64(K * 7 + (levels ?? 0)))
                var asg = [Int64](repeating: -1, count: n), logit = [Double](repeating: .nan, count: n)
                var zz = z
                T.top2(zz, rows: n, clusters: K, sq: sq, assign: &asg, logit: &logit)
                XCTAssertEqual(zz, z, "top2 only reads its scores (K = \(K))")
                var choice = [Int64](repeating: -1, count: n)
                var best = [Double](repeating: .nan, count: n), second = [Double](repeating: .nan, count: n)
                T.top2Scores(&zz, rows: n, clusters: K, sq: sq, choice: &choice, best: &best, second: &second)
                var mz = z, masg = [Int64](repeating: -1, count: n), mlogit = [Double](repeating: .nan, count: n)
                T.minTakesMost(&mz, rows: n, clusters: K, sq: sq, beta: 0.5, assign: &masg, logit: &mlogit)
                for r in 0..<n {
                    let row = Array(z[(r * K)..<((r + 1) * K)])
                    let (c, sc, sm2) = Self.reference(row, sq)
                    let what = "K = \(K), levels \(levels.map(String.init) ?? "none"), row \(r)"
                    XCTAssertEqual(asg[r], Int64(c), what)
                    XCTAssertEqual(choice[r], Int64(c), what)
                    XCTAssertEqual(masg[r], Int64(c), what)
                    let f = Double(sc) - Double(sm2)
                    XCTAssertEqual(logit[r].bitPattern, f.bitPattern, what)
                    XCTAssertEqual(mlogit[r].bitPattern, f.bitPattern, what)
                    XCTAssertEqual(best[r], Double(sc), what)
                    XCTAssertEqual(second[r].bitPattern, Double(sm2).bitPattern, what)
                    for k in 0..<K {      // top2Scores leaves s_k in place, -inf at c
                        XCTAssertEqual(zz[r * K + k], k == c ? -T.infinity : row[k] - sq[k], what)
                    }
                }
            }
        }
    }

    func testTopTwoMatchesTwoSweepsFloat() { check(Float.self) }
    func testTopTwoMatchesTwoSweepsDouble() { check(Double.self) }

    func checkNonFinite<T: NeonScalar>(_: T.Type) {
        for n in [0, 1, 255, 256, 257, 511, 512, 1000, 5000] {
            var a = (0..<n).map { T($0 % 13) - 6 }
            if n > 3 { a[3] = T.greatestFiniteMagnitude; a[2] = -T.greatestFiniteMagnitude }
            XCTAssertNil(T.firstNonFinite(a, count: n), "n = \(n)")
            for bad in [T.nan, T.infinity, -T.infinity] {
                for at in Set([0, 255, 256, 300, 511, n - 1]) where at >= 0 && at < n {
                    var b = a
                    b[at] = bad
                    if at + 7 < n { b[at + 7] = .nan }      // a later one is not reported
                    XCTAssertEqual(T.firstNonFinite(b, count: n), at, "n = \(n), \(bad) at \(at)")
                    XCTAssertNil(T.firstNonFinite(b, count: at), "n = \(at): the bad value is outside")
                }
            }
        }
    }

    func testFirstNonFiniteFloat() { checkNonFinite(Float.self) }
    func testFirstNonFiniteDouble() { checkNonFinite(Double.self) }
}
