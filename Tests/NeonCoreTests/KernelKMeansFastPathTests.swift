import Foundation
import XCTest
@testable import NeonCore

/// The factorized GEMM fast path against the explicit Prop. 5 network.
final class KernelKMeansFastPathTests: XCTestCase {
    let tile = KernelKMeansFastPath<Double>.tileRows

    func testDoubleMatchesNetworkAcrossTileBoundaries() {
        var rng = SplitMix(seed: 201)
        let model = randomKernelModel(sizes: [3, 1, 5, 2, 4, 6, 2], features: 7, gamma: 0.05, rng: &rng, offset: 40)
        for n in [1, tile - 1, tile, tile + 1, 2 * tile + 3] {
            let pts = pointsNearSupportVectors(n, model: model, noise: 2, rng: &rng)
            for rule in KernelRule.allCases {
                let out = runKernelFastPath(Double.self, model: model, points: pts, beta: 0.2, rule: rule)
                for (i, x) in pts.enumerated() {
                    let ref = KernelReferenceExplainer.explain(x, model: model, beta: 0.2, rule: rule)
                    XCTAssertEqual(Int(out.assignment[i]), ref.cluster)
                    XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-9 * max(1, ref.logit))
                    XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 1e-6, "row \(i) of \(n), \(rule)")
                }
            }
        }
    }

    func testFloatMatchesNetworkToSinglePrecision() {
        var rng = SplitMix(seed: 202)
        let sizes = (0..<12).map { _ in Int.random(in: 1...8, using: &rng) }
        let model = randomKernelModel(sizes: sizes, features: 16, gamma: 0.02, rng: &rng, offset: 5)
        let pts = pointsNearSupportVectors(300, model: model, noise: 1.5, rng: &rng)
        for rule in KernelRule.allCases {
            let out = runKernelFastPath(Float.self, model: model, points: pts, beta: 0.05, rule: rule)
            var mismatched = 0
            for (i, x) in pts.enumerated() {
                let ref = KernelReferenceExplainer.explain(x, model: model, beta: 0.05, rule: rule)
                if Int(out.assignment[i]) != ref.cluster { mismatched += 1; continue }   // near-ties only
                XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-4 * max(1, ref.logit))
                XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 2e-3, "row \(i), \(rule)")
                XCTAssertEqual(out.relevance[i].reduce(0, +), ref.relevance.reduce(0, +), accuracy: 2e-3 * max(1, ref.logit))
            }
            XCTAssertEqual(mismatched, 0)
        }
    }

    func testConservativeRuleConservesAndThePaperRuleDoesNot() {
        var rng = SplitMix(seed: 203)
        let model = randomKernelModel(sizes: [5, 2, 7, 3], features: 6, gamma: 0.1, rng: &rng)
        let pts = pointsNearSupportVectors(150, model: model, noise: 1.5, rng: &rng)
        let cons = runKernelFastPath(Double.self, model: model, points: pts, beta: 0.3, rule: .conservative)
        let paper = runKernelFastPath(Double.self, model: model, points: pts, beta: 0.3, rule: .paper)
        var gap = 0.0
        for i in pts.indices {
            let f = cons.logit[i]
            XCTAssertEqual(cons.relevance[i].reduce(0, +), f, accuracy: 1e-9 * max(1, f))
            gap = max(gap, abs(paper.relevance[i].reduce(0, +) - f) / f)
        }
        XCTAssertGreaterThan(gap, 1e-3)
        let consF = runKernelFastPath(Float.self, model: model, points: pts, beta: 0.3, rule: .conservative)
        for i in pts.indices where consF.assignment[i] == cons.assignment[i] {
            XCTAssertEqual(consF.relevance[i].reduce(0, +), cons.logit[i], accuracy: 2e-3 * max(1, cons.logit[i]))
        }
    }

    func testFarClustersUnderflowButTheLMEsStayExact() {
        // Every exp(-gamma d_j) underflows (to 0 in float64), for the own cluster as well: a naive
        // log-sum-exp would give -inf - -inf = NaN; each cluster is shifted by its own max instead.
        var rng = SplitMix(seed: 204)
        let model = randomKernelModel(sizes: [3, 4, 2, 5], features: 3, gamma: 1, rng: &rng, spread: 1000, within: 3)
        var pts = pointsNearSupportVectors(40, model: model, noise: 1, rng: &rng).map { p in
            let v = (0..<3).map { _ in rng.normal() }, norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return zip(p, v).map { $0 + 60 * $1 / norm }                  // 60 away from a support vector
        }
        pts += randomPoints(20, features: 3, rng: &rng, scale: 2000)
        for x in pts {
            XCTAssertEqual(model.squaredDistances(x).map { exp(-model.gamma * $0) }.max()!, 0)
        }
        for rule in KernelRule.allCases {
            let out = runKernelFastPath(Double.self, model: model, points: pts, beta: 1e-4, rule: rule)
            for (i, x) in pts.enumerated() {
                let ref = KernelReferenceExplainer.explain(x, model: model, beta: 1e-4, rule: rule)
                XCTAssertEqual(Int(out.assignment[i]), ref.cluster)
                XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-9 * max(1, ref.logit))
                XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 1e-6, "row \(i), \(rule)")
            }
        }
        // float32: distances ~100 (gamma d ~ 1e4, far below float's exp range)
        let near = randomKernelModel(sizes: [3, 4, 2, 5], features: 3, gamma: 1, rng: &rng, spread: 100, within: 1)
        let q = pointsNearSupportVectors(40, model: near, noise: 5, rng: &rng)
        let out = runKernelFastPath(Float.self, model: near, points: q, beta: 1e-3)
        for (i, x) in q.enumerated() {
            let ref = KernelReferenceExplainer.explain(x, model: near, beta: 1e-3)
            XCTAssertEqual(Int(out.assignment[i]), ref.cluster)
            XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-4 * ref.logit)
            XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 2e-3, "row \(i)")
        }
    }

    func testEachTileIsComputedIndependentlyOfTheOthers() {
        // The basis of identical results for any number of ranks: a tile's rows give bit-identical
        // results whether computed alone or within a larger buffer.
        var rng = SplitMix(seed: 205)
        let model = randomKernelModel(sizes: [4, 9, 1, 6, 3], features: 10, gamma: 0.05, rng: &rng)
        let pts = pointsNearSupportVectors(5 * tile + 7, model: model, noise: 2, rng: &rng)
        for rule in KernelRule.allCases {
            let all = runKernelFastPath(Float.self, model: model, points: pts, beta: 0.1, rule: rule)
            let part = runKernelFastPath(Float.self, model: model, points: Array(pts[tile..<(3 * tile)]), beta: 0.1, rule: rule)
            XCTAssertEqual(Array(all.relevance[tile..<(3 * tile)]), part.relevance)
            XCTAssertEqual(Array(all.logit[tile..<(3 * tile)]), part.logit)
            XCTAssertEqual(Array(all.assignment[tile..<(3 * tile)]), part.assignment)
        }
    }

    func testBlocksWithinATileMatchTheNetworkAndStayTileIndependent() {
        // Large models cut each tile into blocks of blockRows rows (scratch budget): same results.
        var rng = SplitMix(seed: 208)
        let model = randomKernelModel(sizes: [4, 2, 5], features: 6, gamma: 0.05, rng: &rng)
        let pts = pointsNearSupportVectors(3 * tile + 11, model: model, noise: 2, rng: &rng)
        for rule in KernelRule.allCases {
            let out = runKernelFastPath(Double.self, model: model, points: pts, beta: 0.2, rule: rule, blockRows: 24)
            for (i, x) in pts.enumerated() {
                let ref = KernelReferenceExplainer.explain(x, model: model, beta: 0.2, rule: rule)
                XCTAssertEqual(Int(out.assignment[i]), ref.cluster)
                XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 1e-6, "row \(i), \(rule)")
            }
            let all = runKernelFastPath(Float.self, model: model, points: pts, beta: 0.2, rule: rule, blockRows: 24)
            let part = runKernelFastPath(Float.self, model: model, points: Array(pts[tile..<(3 * tile)]), beta: 0.2,
                                         rule: rule, blockRows: 24)
            XCTAssertEqual(Array(all.relevance[tile..<(3 * tile)]), part.relevance)
            XCTAssertEqual(Array(all.logit[tile..<(3 * tile)]), part.logit)
        }
        XCTAssertEqual(KernelKMeansFastPath<Float>(model: model).blockRows, tile)
        let big = try! KernelKMeansModel(features: 1, supportVectors: [Double](repeating: 0, count: 40000),
                                         supportCluster: (0..<40000).map { $0 % 2 }, gamma: 1)
        XCTAssertEqual(KernelKMeansFastPath<Double>(model: big).blockRows, (64 << 20) / (40000 * 8))
    }

    func testLogitsPassAgreesWithExplainPass() {
        var rng = SplitMix(seed: 206)
        let model = randomKernelModel(sizes: [2, 5, 3], features: 8, gamma: 0.05, rng: &rng)
        let pts = pointsNearSupportVectors(3 * tile + 1, model: model, noise: 2, rng: &rng)
        let x = pts.flatMap { $0 }
        var a = [Int64](repeating: -1, count: pts.count), f = [Double](repeating: .nan, count: pts.count)
        let engine = KernelKMeansFastPath<Double>(model: model)
        engine.logits(x, rows: pts.count, assignment: &a, logit: &f)
        let out = runKernelFastPath(Double.self, model: model, points: pts, beta: 1)
        XCTAssertEqual(a, out.assignment)
        XCTAssertEqual(f, out.logit)
        XCTAssertEqual(engine.clusters, 3)
        XCTAssertEqual(engine.explainFlopsPerSample, 3 * engine.logitFlopsPerSample)
    }

    func testBoundaryPointGetsZeroRelevance() {
        // Mirror-symmetric clusters 0 and 1: on the mirror plane D_0 = D_1, f_c = 0.
        let model = try! KernelKMeansModel(features: 2, supportVectors: [-1, 0, 1, 0, -2, 1, 2, 1, 0, 9],
                                           supportCluster: [0, 1, 0, 1, 2], gamma: 0.7)
        for rule in KernelRule.allCases {
            let d = runKernelFastPath(Double.self, model: model, points: [[0, 0.3]], beta: 1, rule: rule)
            XCTAssertEqual(d.assignment, [0])
            XCTAssertEqual(d.logit, [0])
            XCTAssertEqual(d.relevance[0], [0, 0])
            let f = runKernelFastPath(Float.self, model: model, points: [[0, 0.3]], beta: 1, rule: rule)
            XCTAssertTrue(f.relevance[0].allSatisfy { $0.isFinite && abs($0) < 1e-5 })
        }
    }

    func testHugeBetaStaysFinite() {
        var rng = SplitMix(seed: 207)
        let model = randomKernelModel(sizes: [3, 3, 2, 4, 1], features: 4, gamma: 0.1, rng: &rng)
        let pts = pointsNearSupportVectors(100, model: model, noise: 2, rng: &rng)
        let out = runKernelFastPath(Float.self, model: model, points: pts, beta: 1e30)
        XCTAssertTrue(out.relevance.joined().allSatisfy { $0.isFinite })
        for (i, x) in pts.enumerated() where out.logit[i] > 1e-2 {
            // min-take-all: all relevance through the nearest competitor
            let ref = KernelReferenceExplainer.explain(x, model: model, beta: 1e30)
            XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 5e-3)
        }
    }
}
