import XCTest
@testable import NeonCore

/// The GEMM fast path against the explicit layer-by-layer reference.
final class KMeansFastPathTests: XCTestCase {
    func run<T: NeonScalar>(_: T.Type, model: KMeansModel, points: [[Double]], beta: Double)
        -> (relevance: [[Double]], assignment: [Int64], logit: [Double]) {
        let n = points.count, d = model.features
        let x = points.flatMap { $0 }.map { T($0) }
        var r = [T](repeating: .nan, count: n * d)
        var a = [Int64](repeating: -1, count: n), f = [Double](repeating: .nan, count: n)
        KMeansFastPath<T>(model: model).explain(x, rows: n, beta: beta, relevance: &r, assignment: &a, logit: &f)
        return ((0..<n).map { i in (0..<d).map { Double(r[i * d + $0]) } }, a, f)
    }

    func testDoubleMatchesReferenceAcrossTileBoundaries() {
        var rng = SplitMix(seed: 11)
        let model = randomModel(clusters: 9, features: 13, rng: &rng, offset: 40)
        for n in [1, 255, 256, 257, 600] {
            let pts = randomPoints(n, features: 13, rng: &rng, scale: 4, offset: 40)
            let out = run(Double.self, model: model, points: pts, beta: 0.2)
            for (i, x) in pts.enumerated() {
                let ref = ReferenceExplainer.explain(x, model: model, beta: 0.2)
                XCTAssertEqual(Int(out.assignment[i]), ref.cluster)
                XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-9 * max(1, ref.logit))
                XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 1e-8, "row \(i) of \(n)")
            }
        }
    }

    /// Explaining from the scores the logits pass kept gives the same bits as explaining from
    /// scratch (float32 and float64, across tile boundaries), and the same logits.
    func testExplainFromKeptScoresIsBitIdentical() {
        func check<T: NeonScalar>(_: T.Type) {
            var rng = SplitMix(seed: 19)
            let model = randomModel(clusters: 37, features: 24, rng: &rng)
            let n = 600, d = 24
            let x = randomPoints(n, features: d, rng: &rng).flatMap { $0 }.map { T($0) }
            let engine = KMeansFastPath<T>(model: model)
            XCTAssertEqual(engine.scoresPerRow, 37)
            var kept = [T](repeating: .nan, count: n * engine.scoresPerRow)
            var a0 = [Int64](repeating: -1, count: n), f0 = [Double](repeating: .nan, count: n)
            engine.logits(x, rows: n, assignment: &a0, logit: &f0, keepingScores: &kept)
            var a1 = a0, f1 = f0
            engine.logits(x, rows: n, assignment: &a1, logit: &f1)
            XCTAssertEqual(a0, a1)
            XCTAssertEqual(f0, f1)
            var r = [T](repeating: .nan, count: n * d), rc = r
            var a = a0, f = f0, ac = a0, fc = f0
            engine.explain(x, rows: n, beta: 0.3, relevance: &r, assignment: &a, logit: &f)
            engine.explain(x, rows: n, beta: 0.3, relevance: &rc, assignment: &ac, logit: &fc, cachedScores: &kept)
            XCTAssertEqual(r.map { Double($0) }, rc.map { Double($0) }, "\(T.self)")
            XCTAssertEqual(a, ac)
            XCTAssertEqual(f, fc)
            XCTAssertFalse(r.contains { !Double($0).isFinite })
        }
        check(Float.self)
        check(Double.self)
    }

    func testFloatMatchesReferenceToSinglePrecision() {
        var rng = SplitMix(seed: 12)
        let model = randomModel(clusters: 50, features: 32, rng: &rng)
        let pts = randomPoints(300, features: 32, rng: &rng)
        let out = run(Float.self, model: model, points: pts, beta: 0.05)
        var mismatched = 0
        for (i, x) in pts.enumerated() {
            let ref = ReferenceExplainer.explain(x, model: model, beta: 0.05)
            if Int(out.assignment[i]) != ref.cluster { mismatched += 1; continue }   // near-ties only
            XCTAssertEqual(out.logit[i], ref.logit, accuracy: 1e-4 * max(1, ref.logit))
            XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 2e-3, "row \(i)")
            XCTAssertEqual(out.relevance[i].reduce(0, +), ref.logit, accuracy: 2e-3 * max(1, ref.logit))
        }
        XCTAssertEqual(mismatched, 0)
    }

    func testLogitsPassAgreesWithExplainPass() {
        var rng = SplitMix(seed: 13)
        let model = randomModel(clusters: 20, features: 8, rng: &rng)
        let pts = randomPoints(700, features: 8, rng: &rng)
        let x = pts.flatMap { $0 }
        var a = [Int64](repeating: -1, count: 700), f = [Double](repeating: .nan, count: 700)
        KMeansFastPath<Double>(model: model).logits(x, rows: 700, assignment: &a, logit: &f)
        let out = run(Double.self, model: model, points: pts, beta: 1)
        XCTAssertEqual(a, out.assignment)
        XCTAssertEqual(f, out.logit)
    }

    func testEachTileIsComputedIndependentlyOfTheOthers() {
        // The basis of identical results for any number of ranks: a tile's rows give bit-identical
        // results whether computed alone or within a larger buffer.
        var rng = SplitMix(seed: 14)
        let model = randomModel(clusters: 30, features: 16, rng: &rng)
        let pts = randomPoints(800, features: 16, rng: &rng)
        let all = run(Float.self, model: model, points: pts, beta: 0.1)
        let tile = KMeansFastPath<Float>.tileRows
        let part = run(Float.self, model: model, points: Array(pts[tile..<(3 * tile)]), beta: 0.1)
        XCTAssertEqual(Array(all.relevance[tile..<(3 * tile)]), part.relevance)
        XCTAssertEqual(Array(all.logit[tile..<(3 * tile)]), part.logit)
    }

    func testBoundaryPointsGiveZeroRelevanceInBothPrecisions() {
        let model = KMeansModel(clusters: 3, features: 2, centroids: [0, 0, 2, 0, 0, 5])
        let d = run(Double.self, model: model, points: [[1, 0]], beta: 1)
        XCTAssertEqual(d.relevance[0], [0, 0])
        XCTAssertEqual(d.logit[0], 0)
        // float32: the shift to the mean centroid rounds, so the tie is only approximate
        let f = run(Float.self, model: model, points: [[1, 0]], beta: 1)
        XCTAssertTrue(f.relevance[0].allSatisfy { $0.isFinite && abs($0) < 1e-5 })
    }

    func testHugeBetaStaysFinite() {
        var rng = SplitMix(seed: 15)
        let model = randomModel(clusters: 10, features: 4, rng: &rng)
        let pts = randomPoints(100, features: 4, rng: &rng)
        let out = run(Float.self, model: model, points: pts, beta: 1e30)
        XCTAssertTrue(out.relevance.joined().allSatisfy { $0.isFinite })
        for (i, x) in pts.enumerated() {
            // min-take-all: all relevance on the nearest competitor's midpoint direction
            let ref = ReferenceExplainer.explain(x, model: model, beta: 1e30)
            XCTAssertLessThan(relativeError(out.relevance[i], ref.relevance), 5e-3)
        }
    }
}
