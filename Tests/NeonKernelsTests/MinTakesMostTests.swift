import Foundation
import NeonCore
import NeonKernels
import XCTest

/// The min-take-most weights of NeonRules.h (Eq. 2) against MinTakesMost.swift.
final class MinTakesMostTests: XCTestCase {
    /// R_k from the C weights, normalised as the reference does: e_k / sum e * f_c.
    func relevance(_ h: [Double], beta: Double) -> [Double] {
        let f = h.min()!
        let e = h.map { neon_mtm_weight_f64(beta, f - $0) }
        let s = e.reduce(0, +)
        return e.map { $0 / s * f }
    }

    func detections(_ rng: inout SplitMix64, count: Int) -> [Double] {
        (0..<count).map { _ in 0.1 + 4 * Double.random(in: 0...1, using: &rng) }
    }

    /// Bit for bit the Swift reference; the weights sum to 1 (R sums to f_c) for every beta.
    func testWeightsEqualTheSwiftReferenceAndSumToOne() {
        var rng = SplitMix64(seed: 4)
        for beta in [0, 0.3, 2, 40, 1e4] {
            for _ in 0..<50 {
                let h = detections(&rng, count: Int.random(in: 1...12, using: &rng))
                let f = h.min()!
                let r = relevance(h, beta: beta)
                XCTAssertEqual(r, MinTakesMost(beta: beta).relevance(detection: h), "beta \(beta)")
                XCTAssertEqual(r.reduce(0, +) / f, 1, accuracy: 1e-14, "beta \(beta)")
                XCTAssert(r.allSatisfy { $0 >= 0 && $0 <= f * (1 + 1e-15) })
            }
        }
    }

    /// beta = 0 is uniform (Prop. 2); as beta grows the weight of the smallest h_k tends to 1
    /// (min-take-all), monotonically.
    func testUniformAtZeroAndHardMinAsBetaGrows() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<20 {
            let h = detections(&rng, count: 6)
            let f = h.min()!, at = h.firstIndex(of: f)!
            for r in relevance(h, beta: 0) { XCTAssertEqual(r, f / 6, accuracy: 1e-15) }
            var last = 0.0
            for beta in [0.1, 1, 10, 100, 1000, 1e5] {
                let share = relevance(h, beta: beta)[at] / f
                XCTAssertGreaterThanOrEqual(share, last)
                last = share
            }
            let gap = h.filter { $0 != f }.map { $0 - f }.min()!
            XCTAssertEqual(relevance(h, beta: 50 / gap)[at], f, accuracy: 1e-12 * f)
        }
    }

    /// The float weight agrees with the double one to float precision; both are <= 1 and the
    /// runner-up's (d = 0) is exactly 1.
    func testFloatWeight() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<2000 {
            let beta = 3 * Double.random(in: 0...1, using: &rng), d = -28 * Double.random(in: 0...1, using: &rng)  // beta d > -87
            let e32 = Double(neon_mtm_weight_f32(Float(beta), Float(d))), e64 = neon_mtm_weight_f64(beta, d)
            XCTAssertLessThanOrEqual(e64, 1)
            // the float argument beta d is rounded to float first: compare with exp of that argument
            let ref = neon_mtm_weight_f64(1, Double(Float(beta) * Float(d)))
            XCTAssertEqual(e32, ref, accuracy: 3e-7 * ref)
            XCTAssertEqual(e32, e64, accuracy: 1e-4 * e64)
        }
        XCTAssertEqual(neon_mtm_weight_f32(2, 0), 1)
        XCTAssertEqual(neon_mtm_weight_f64(2, 0), 1)
    }

    /// The k-means kernel (kernels.c) on one row: A'_k h_k = R_k of the reference, A'_c = -sum A'_k.
    func testKMeansKernelRedistributesByEq2() {
        var rng = SplitMix64(seed: 7)
        let K = 7, d = 5
        let mu = (0..<(K * d)).map { _ in 3 * rng.normal() }
        let model = KMeansModel(clusters: K, features: d, centroids: mu)
        for _ in 0..<30 {
            let x = (0..<d).map { _ in 3 * rng.normal() }
            var z = (0..<K).map { k in 2 * (0..<d).reduce(0.0) { $0 + x[$1] * mu[k * d + $1] } }
            let sq = (0..<K).map { k in (0..<d).reduce(0.0) { $0 + mu[k * d + $1] * mu[k * d + $1] } }
            var assign: Int64 = -1, logit = 0.0
            neon_mtm_f64(&z, 1, K, sq, 0.8, &assign, &logit)
            let c = model.assign(x)
            XCTAssertEqual(Int(assign), c)
            let net = NeuralizedKMeans(model: model, cluster: c)
            let h = net.detection(x)
            let ref = MinTakesMost(beta: 0.8).relevance(detection: h)
            XCTAssertEqual(logit, h.min()!, accuracy: 1e-10 * max(1, abs(logit)))
            for (j, k) in net.competitors.enumerated() {
                XCTAssertEqual(z[k] * h[j], ref[j], accuracy: 1e-10 * max(1, logit))
            }
            XCTAssertEqual(z[c], -net.competitors.reduce(0) { $0 + z[$1] }, accuracy: 1e-12 * max(1, abs(z[c])))
        }
    }
}
