import XCTest
@testable import NeonCore

/// The paper's identities for neuralized k-means (Sec. II, Props. 1-3, Eqs. 2-4).
final class NeuralizedKMeansTests: XCTestCase {
    func testLogitIsPositiveExactlyForTheAssignedCluster() {
        var rng = SplitMix(seed: 1)
        let model = randomModel(clusters: 6, features: 4, rng: &rng)
        for x in randomPoints(300, features: 4, rng: &rng) {
            let assigned = model.assign(x)
            let dist = model.squaredDistances(x)
            for c in 0..<6 {
                let f = NeuralizedKMeans(model: model, cluster: c).logit(x)
                XCTAssertEqual(f > 0, c == assigned, "cluster \(c)")
                // Prop. 1: f_c = min_{k != c} |x - mu_k|^2 - |x - mu_c|^2
                let expected = (0..<6).filter { $0 != c }.map { dist[$0] }.min()! - dist[c]
                XCTAssertEqual(f, expected, accuracy: 1e-9 * max(1, abs(expected)))
            }
        }
    }

    func testConservationForAnyBetaAndAnyTarget() {
        var rng = SplitMix(seed: 2)
        let model = randomModel(clusters: 7, features: 5, rng: &rng)
        for x in randomPoints(50, features: 5, rng: &rng) {
            for beta in [0.0, 0.01, 0.7, 5, 300] {
                for c in [nil, 0, 3] as [Int?] {
                    let e = ReferenceExplainer.explain(x, model: model, beta: beta, cluster: c)
                    let total = e.relevance.reduce(0, +)
                    XCTAssertEqual(total, e.logit, accuracy: 1e-9 * max(1, abs(e.logit)), "beta \(beta)")
                }
            }
        }
    }

    func testMinTakesMostWithBetaZeroIsUniformAndShapley() {
        // Prop. 2: beta = 0 gives R_k = f_c / (K-1), the Shapley value of min(h) at reference h = 0.
        var rng = SplitMix(seed: 3)
        let model = randomModel(clusters: 6, features: 3, rng: &rng)
        for x in randomPoints(20, features: 3, rng: &rng) {
            let net = NeuralizedKMeans(model: model, cluster: model.assign(x))
            let h = net.detection(x)
            let r = MinTakesMost(beta: 0).relevance(detection: h)
            let f = h.min()!
            for rk in r { XCTAssertEqual(rk, f / 5, accuracy: 1e-12 * max(1, f)) }
            let phi = shapley(players: h.count) { inS in
                zip(h, inS).map { $1 ? $0 : 0 }.min()!
            }
            XCTAssertLessThan(relativeError(r, phi), 1e-12)
        }
    }

    func testTwoClustersGiveTheLinearShapleyValueAtTheMidpoint() {
        // Prop. 3: K = 2, f_c = w.x + b and R_i = (x_i - m_i) w_i, the Shapley value at x~ = m.
        var rng = SplitMix(seed: 4)
        let model = randomModel(clusters: 2, features: 6, rng: &rng)
        for x in randomPoints(20, features: 6, rng: &rng) {
            for beta in [0.0, 1, 50] {
                let e = ReferenceExplainer.explain(x, model: model, beta: beta)
                let net = NeuralizedKMeans(model: model, cluster: e.cluster)
                let w = net.weights[0], m = net.midpoints[0]
                for i in 0..<6 { XCTAssertEqual(e.relevance[i], (x[i] - m[i]) * w[i], accuracy: 1e-9) }
                let phi = shapley(players: 6) { inS in
                    let z = (0..<6).map { inS[$0] ? x[$0] : m[$0] }
                    return net.logit(z)
                }
                XCTAssertLessThan(relativeError(e.relevance, phi), 1e-9)
            }
        }
    }

    func testTranslationInvariance() {
        var rng = SplitMix(seed: 5)
        let model = randomModel(clusters: 5, features: 4, rng: &rng)
        let t = (0..<4).map { _ in 100 * rng.normal() }
        let moved = KMeansModel(clusters: 5, features: 4,
                                centroids: model.centroids.enumerated().map { $1 + t[$0 % 4] })
        for x in randomPoints(30, features: 4, rng: &rng) {
            let a = ReferenceExplainer.explain(x, model: model, beta: 0.3)
            let b = ReferenceExplainer.explain(zip(x, t).map { $0 + $1 }, model: moved, beta: 0.3)
            XCTAssertEqual(a.cluster, b.cluster)
            XCTAssertLessThan(relativeError(b.relevance, a.relevance), 1e-9)
        }
    }

    func testPointOnADecisionBoundaryGetsZeroRelevanceNotNaN() {
        let model = KMeansModel(clusters: 3, features: 2, centroids: [0, 0, 2, 0, 0, 5])
        let x = [1.0, 0.0]                                   // equidistant from mu_0 and mu_1
        let e = ReferenceExplainer.explain(x, model: model, beta: 1)
        XCTAssertEqual(e.cluster, 0)                         // ties: lowest index
        XCTAssertEqual(e.logit, 0)
        XCTAssertEqual(e.relevance, [0, 0])
    }

    func testHeuristicStiffnessIsOneOverTheMeanLogit() {
        XCTAssertEqual(MinTakesMost.heuristicStiffness(logitSum: 10, count: 4), 0.4)
        XCTAssertNil(MinTakesMost.heuristicStiffness(logitSum: 0, count: 4))
        XCTAssertNil(MinTakesMost.heuristicStiffness(logitSum: 1, count: 0))
    }
}
