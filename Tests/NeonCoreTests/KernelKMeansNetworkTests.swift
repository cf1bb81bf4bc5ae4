import Foundation
import XCTest
@testable import NeonCore

/// The paper's identities for neuralized kernel k-means (Sec. III, Eqs. 6-10, Prop. 5, footnote 1,
/// Appendix D), on the explicit network.
final class KernelKMeansNetworkTests: XCTestCase {
    func testNetworkOutputIsTheDecisionOfEq6() {
        // Prop. 5 / Appendix D: f_c = min_{k != c} [D_k - D_c], D = LME^-gamma of squared distances,
        // and f_c > 0 exactly for the assigned cluster. Uneven cluster sizes.
        var rng = SplitMix(seed: 101)
        let model = randomKernelModel(sizes: [1, 3, 5, 2], features: 4, gamma: 0.15, rng: &rng)
        for x in randomPoints(200, features: 4, rng: &rng, scale: 4) {
            let D = model.softMinDistances(x), assigned = model.assign(x)
            for c in 0..<4 {
                let f = NeuralizedKernelKMeans(model: model, cluster: c).logit(x)
                XCTAssertEqual(f > 0, c == assigned, "cluster \(c)")
                let expected = (0..<4).filter { $0 != c }.map { D[$0] - D[c] }.min()!
                XCTAssertEqual(f, expected, accuracy: 1e-9 * max(1, abs(expected)))
            }
        }
    }

    func testEveryLayerIsADifferenceOfDistances() {
        // h_ijk = d_j - d_i, h_jk = d_j - D_c, h_k = D_k - D_c (Eqs. 19-22).
        var rng = SplitMix(seed: 102)
        let model = randomKernelModel(sizes: [2, 4, 3], features: 3, gamma: 0.3, rng: &rng)
        for x in randomPoints(30, features: 3, rng: &rng) {
            let d = model.squaredDistances(x), D = model.softMinDistances(x)
            let net = NeuralizedKernelKMeans(model: model, cluster: 1)
            let a = net.forward(x)
            for (n, p) in net.paths.enumerated() {
                XCTAssertEqual(a.detection[n], d[p.j] - d[p.i], accuracy: 1e-9 * max(1, d[p.j]))
            }
            for (q, k) in net.competitors.enumerated() {
                for (r, j) in net.competitorMembers[q].enumerated() {
                    XCTAssertEqual(a.maxPooled[q][r], d[j] - D[1], accuracy: 1e-9 * max(1, d[j]))
                }
                XCTAssertEqual(a.minPooled[q], D[k] - D[1], accuracy: 1e-9 * max(1, D[k]))
            }
        }
    }

    func testTheOneOverClusterSizeDecides() {
        // 1-D, x = 0, gamma = 1: cluster 0 = one support vector at d = 1; cluster 1 = ten support
        // vectors at d = 1.2. With the 1/|C| of Eq. 7, D_0 = 1 < D_1 = 1.2: x belongs to cluster 0
        // (without it, D_1 would be 1.2 - log 10 < 1).
        let u1 = 1.2.squareRoot()
        let model = try! KernelKMeansModel(features: 1, supportVectors: [u1, u1, -u1, u1, 1, -u1, u1, u1, -u1, u1, u1],
                                           supportCluster: [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1], gamma: 1)
        XCTAssertEqual(model.members[0], [4])
        XCTAssertEqual(model.softMinDistances([0])[1], 1.2, accuracy: 1e-12)
        XCTAssertEqual(model.assign([0]), 0)
        XCTAssertEqual(NeuralizedKernelKMeans(model: model, cluster: 0).logit([0]), 0.2, accuracy: 1e-12)
        XCTAssertEqual(NeuralizedKernelKMeans(model: model, cluster: 1).logit([0]), -0.2, accuracy: 1e-12)
        let out = runKernelFastPath(Double.self, model: model, points: [[0]], beta: 1)
        XCTAssertEqual(out.assignment, [0])
        XCTAssertEqual(out.logit[0], 0.2, accuracy: 1e-12)
    }

    func testOneSupportVectorPerClusterIsKMeansNeon() {
        // |C| = 1: a = b = 1, h_ijk = h_jk = h_k = E_p[h_ijk], so both rules are Prop. 1 + Eqs. 2, 4
        // exactly, for any gamma (support vectors in shuffled order).
        var rng = SplitMix(seed: 103)
        let perm = [3, 0, 4, 1, 2]
        let centroids = randomModel(clusters: 5, features: 6, rng: &rng)
        let sv = perm.flatMap { Array(centroids.centroid($0)) }
        for gamma in [1e-3, 0.7, 40] {
            let model = try! KernelKMeansModel(features: 6, supportVectors: sv, supportCluster: perm, gamma: gamma)
            for x in randomPoints(20, features: 6, rng: &rng) {
                for beta in [0.0, 0.05, 3] {
                    let ref = ReferenceExplainer.explain(x, model: centroids, beta: beta)
                    for rule in KernelRule.allCases {
                        let e = KernelReferenceExplainer.explain(x, model: model, beta: beta, rule: rule)
                        XCTAssertEqual(e.cluster, ref.cluster)
                        XCTAssertEqual(e.logit, ref.logit, accuracy: 1e-9 * max(1, ref.logit))
                        XCTAssertLessThan(relativeError(e.relevance, ref.relevance), 1e-9, "gamma \(gamma) \(rule)")
                    }
                }
                let fast = runKernelFastPath(Double.self, model: model, points: [x], beta: 0.05)
                let ref = ReferenceExplainer.explain(x, model: centroids, beta: 0.05)
                XCTAssertEqual(Int(fast.assignment[0]), ref.cluster)
                XCTAssertLessThan(relativeError(fast.relevance[0], ref.relevance), 1e-9)
            }
        }
    }

    func testFootnoteOneWeightsFactorIntoOwnAndCompetitorSoftmins() {
        // R_ijk = a_i b_j^k R_k with a = softmin_gamma(d_i) over C_c, b^k = softmin_gamma(d_j) over C_k:
        // the factorization the fast path is built on.
        var rng = SplitMix(seed: 104)
        let model = randomKernelModel(sizes: [3, 2, 4], features: 3, gamma: 0.2, rng: &rng)
        for x in randomPoints(20, features: 3, rng: &rng) {
            let c = model.assign(x), d = model.squaredDistances(x)
            let net = NeuralizedKernelKMeans(model: model, cluster: c)
            let L = KernelReferenceExplainer.layers(x, network: net, beta: 0.3, rule: .paper)
            let a = LogMeanExp.weights(net.own.map { d[$0] }, g: -model.gamma)
            for (q, members) in net.competitorMembers.enumerated() {
                let b = LogMeanExp.weights(members.map { d[$0] }, g: -model.gamma)
                for r in members.indices {
                    for (s, n) in net.pathRange(competitor: q, member: r).enumerated() {
                        XCTAssertEqual(L.detection[n], a[s] * b[r] * L.minPooled[q], accuracy: 1e-12 * max(1, L.activations.logit))
                    }
                }
            }
        }
    }

    func testRelevanceSumsOfBothRules() {
        // paper (Eq. 10): sum_f R_f = sum_k R_k E_p[h_ijk] / h_k; conservative: sum_f R_f = f_c.
        // And E_p[h_ijk] = h_k - (KL(b^k) - KL(a)) / gamma (KL to the uniform weights).
        var rng = SplitMix(seed: 105)
        let model = randomKernelModel(sizes: [4, 1, 3, 6], features: 5, gamma: 0.08, rng: &rng)
        var paperGap = 0.0
        for x in pointsNearSupportVectors(40, model: model, noise: 1.5, rng: &rng) {
            let c = model.assign(x), d = model.squaredDistances(x)
            let net = NeuralizedKernelKMeans(model: model, cluster: c)
            let kl: ([Int]) -> Double = { members in
                let w = LogMeanExp.weights(members.map { d[$0] }, g: -model.gamma)
                return w.reduce(0) { $0 + ($1 > 0 ? $1 * log($1 * Double(members.count)) : 0) }
            }
            for beta in [0.0, 0.1, 2] {
                let p = KernelReferenceExplainer.layers(x, network: net, beta: beta, rule: .paper)
                let f = p.activations.logit, tol = 1e-9 * max(1, abs(f))
                let expected = p.minPooled.indices.reduce(0) { $0 + p.minPooled[$1] * p.pathMeans[$1] / p.activations.minPooled[$1] }
                XCTAssertEqual(p.input.reduce(0, +), expected, accuracy: tol)
                XCTAssertEqual(p.reassigned.reduce(0, +), expected, accuracy: tol)
                paperGap = max(paperGap, abs(expected - f) / f)
                for (q, members) in net.competitorMembers.enumerated() {
                    let h = p.activations.minPooled[q]
                    XCTAssertEqual(p.pathMeans[q], h - (kl(members) - kl(net.own)) / model.gamma, accuracy: 1e-9 * max(1, h))
                }
                let cons = KernelReferenceExplainer.layers(x, network: net, beta: beta, rule: .conservative)
                XCTAssertEqual(cons.input.reduce(0, +), f, accuracy: tol)
                XCTAssertEqual(cons.reassigned.reduce(0, +), f, accuracy: tol)
            }
        }
        XCTAssertGreaterThan(paperGap, 1e-3)   // the two rules do differ on this model
    }

    func testTranslationInvariance() {
        var rng = SplitMix(seed: 106)
        let model = randomKernelModel(sizes: [2, 3, 2], features: 4, gamma: 0.1, rng: &rng)
        let t = (0..<4).map { _ in 50 * rng.normal() }
        let moved = try! KernelKMeansModel(features: 4,
                                           supportVectors: model.supportVectors.enumerated().map { $1 + t[$0 % 4] },
                                           supportCluster: model.supportCluster, gamma: model.gamma)
        for x in randomPoints(20, features: 4, rng: &rng) {
            for rule in KernelRule.allCases {
                let a = KernelReferenceExplainer.explain(x, model: model, beta: 0.2, rule: rule)
                let b = KernelReferenceExplainer.explain(zip(x, t).map { $0 + $1 }, model: moved, beta: 0.2, rule: rule)
                XCTAssertEqual(a.cluster, b.cluster)
                XCTAssertLessThan(relativeError(b.relevance, a.relevance), 1e-8)
            }
        }
    }

    func testDuplicateSupportVectorsGiveNoNaN() {
        // Duplicates within a cluster and across clusters (h_ijk = 0, w_ij = 0 for every x), a point
        // on a support vector, and a point on a decision boundary.
        let model = try! KernelKMeansModel(features: 2, supportVectors: [0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 3],
                                           supportCluster: [0, 0, 1, 1, 0, 2], gamma: 0.5)
        for x in [[0.0, 0], [2, 0], [1, 0], [0.3, -0.2], [5, 5]] {
            for rule in KernelRule.allCases {
                for c in 0..<3 {
                    let net = NeuralizedKernelKMeans(model: model, cluster: c)
                    let L = KernelReferenceExplainer.layers(x, network: net, beta: 1, rule: rule)
                    XCTAssertTrue(L.input.allSatisfy { $0.isFinite }, "x \(x) c \(c) \(rule)")
                    XCTAssertTrue(L.reassigned.allSatisfy { $0.isFinite })
                }
            }
            for rule in KernelRule.allCases {
                let f = runKernelFastPath(Float.self, model: model, points: [x], beta: 1, rule: rule)
                let d = runKernelFastPath(Double.self, model: model, points: [x], beta: 1, rule: rule)
                XCTAssertTrue(f.relevance[0].allSatisfy { $0.isFinite } && f.logit[0].isFinite)
                XCTAssertTrue(d.relevance[0].allSatisfy { $0.isFinite } && d.logit[0].isFinite)
            }
        }
    }

    func testModelValidation() {
        let sv = [0.0, 1, 2, 3, 4, 5]
        func error(_ f: Int, _ u: [Double], _ cl: [Int], _ g: Double) -> KernelKMeansModel.Invalid? {
            do { _ = try KernelKMeansModel(features: f, supportVectors: u, supportCluster: cl, gamma: g); return nil }
            catch { return error as? KernelKMeansModel.Invalid }
        }
        XCTAssertNil(error(2, sv, [1, 0, 1], 1))
        XCTAssertEqual(error(2, sv, [0, 1], 1), .clusterCount(supportVectors: 3, supportCluster: 2))
        XCTAssertEqual(error(2, sv, [0, -1, 1], 1), .clusterOutOfRange(index: 1, value: -1))
        XCTAssertEqual(error(2, sv, [0, 2, 2], 1), .emptyCluster(1))
        XCTAssertEqual(error(2, sv, [0, 0, 0], 1), .tooFewClusters(1))
        XCTAssertEqual(error(2, sv, [0, 1, 1], 0), .gamma(0))
        XCTAssertEqual(error(2, sv, [0, 1, 1], -.infinity), .gamma(-.infinity))
        XCTAssertEqual(error(4, sv, [0, 1], 1), .shape(supportVectors: 6, features: 4))
        XCTAssertEqual(error(2, [0, 1, .nan, 3], [0, 1], 1), .nonFinite(index: 2))
        XCTAssertEqual(try! KernelKMeansModel(features: 2, supportVectors: sv, supportCluster: [1, 0, 1], gamma: 1).members,
                       [[1], [0, 2]])
    }
}
