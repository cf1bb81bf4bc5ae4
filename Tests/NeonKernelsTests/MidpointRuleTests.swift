import Foundation
import NeonCore
import NeonKernels
import XCTest

/// The midpoint rule's factored term of NeonRules.h (Eq. 4) against MidpointRule.swift.
final class MidpointRuleTests: XCTestCase {
    /// R_i = Q_{d+i} - 2 x_i Q_i with Q = A' [M | M^2] equals the explicit rule (and conserves f_c).
    func testFactoredTermEqualsTheReference() {
        var rng = SplitMix64(seed: 8)
        let K = 6, d = 9
        let mu = (0..<(K * d)).map { _ in 2 * rng.normal() }
        let model = KMeansModel(clusters: K, features: d, centroids: mu)
        for beta in [0, 0.5, 5.0] {
            for _ in 0..<40 {
                let x = (0..<d).map { _ in 3 * rng.normal() }
                let c = model.assign(x)
                let net = NeuralizedKMeans(model: model, cluster: c)
                let h = net.detection(x)
                let rk = MinTakesMost(beta: beta).relevance(detection: h)
                let ref = MidpointRule.relevance(input: x, network: net, detection: h, layerRelevance: rk)
                var a = [Double](repeating: 0, count: K)
                for (j, k) in net.competitors.enumerated() { a[k] = rk[j] / h[j] }
                a[c] = -a.reduce(0, +)
                let q1 = (0..<d).map { i in (0..<K).reduce(0.0) { $0 + a[$1] * mu[$1 * d + i] } }
                let q2 = (0..<d).map { i in (0..<K).reduce(0.0) { $0 + a[$1] * mu[$1 * d + i] * mu[$1 * d + i] } }
                let r = (0..<d).map { neon_midpoint_term_f64(q2[$0], x[$0], q1[$0]) }
                let scale = max(1, ref.map(abs).max()!)
                for i in 0..<d { XCTAssertEqual(r[i], ref[i], accuracy: 1e-11 * scale) }
                XCTAssertEqual(r.reduce(0, +), h.min()!, accuracy: 1e-10 * scale)
                // the float term
                for i in 0..<d {
                    let f = neon_midpoint_term_f32(Float(q2[i]), Float(x[i]), Float(q1[i]))
                    XCTAssertEqual(Double(f), r[i], accuracy: 1e-5 * scale)
                }
                // the row kernel of the fast path (it may fuse the multiply-add where Swift's call does not)
                var finish = [Double](repeating: .nan, count: d)
                neon_midpoint_finish_f64(&finish, x, q1 + q2, 1, d)
                for i in 0..<d { XCTAssertEqual(finish[i], r[i], accuracy: 1e-14 * scale) }
            }
        }
    }
}
