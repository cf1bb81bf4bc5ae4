import Foundation
import XCTest
@testable import NeonCore

/// Pruned pooling paths (KernelKMeansPrunedPath) against the dense fast path: exact decisions,
/// relevance within the certified bound, the kept fraction against a brute-force count.
final class KernelPruningTests: XCTestCase {
    /// Clustered data: `groups` groups of clusters (groups `spread` apart, clusters within a group
    /// closer), 5 support vectors per cluster (`within` around their centre), samples as Gaussian
    /// blobs around support vectors (2300 rows: two tiles of the pruned path).
    func clustered(seed: UInt64, groups: Int = 4, perGroup: Int = 5, features d: Int = 16, rows: Int = 2300,
                   spread: Double = 10, within: Double = 0.7) -> (model: KernelKMeansModel, points: [[Double]]) {
        var rng = SplitMix(seed: seed)
        let g = (0..<groups).map { _ in (0..<d).map { _ in spread * rng.normal() } }
        var u: [Double] = [], cl: [Int] = []
        for k in 0..<(groups * perGroup) {
            let centre = g[k % groups].map { $0 + 2 * rng.normal() }
            for _ in 0..<5 {
                u += centre.map { $0 + within * rng.normal() }
                cl.append(k)
            }
        }
        let model = try! KernelKMeansModel(features: d, supportVectors: u, supportCluster: cl, gamma: 0.3)
        return (model, pointsNearSupportVectors(rows, model: model, noise: 0.4, rng: &rng))
    }

    struct Run {
        var relevance: [[Double]], assignment: [Int64], logit: [Double], bounds: [Double]
        var stats: KernelPruningStatistics
    }

    func pruned<T: KernelScalar>(_: T.Type, _ model: KernelKMeansModel, _ points: [[Double]], beta: Double,
                                 tolerance: Double, rule: KernelRule = .paper) -> Run {
        let n = points.count, d = model.features
        let x = points.flatMap { $0 }.map { T($0) }
        var r = [T](repeating: .nan, count: n * d), b = [Double](repeating: .nan, count: n)
        var a = [Int64](repeating: -1, count: n), f = [Double](repeating: .nan, count: n)
        let engine = KernelKMeansPrunedPath<T>(model: model, rule: rule, tolerance: tolerance)
        b.withUnsafeMutableBufferPointer { bp in
            engine.explain(x, rows: n, beta: beta, relevance: &r, assignment: &a, logit: &f, bounds: bp.baseAddress!)
        }
        return Run(relevance: (0..<n).map { i in (0..<d).map { Double(r[i * d + $0]) } }, assignment: a, logit: f,
                   bounds: b, stats: engine.statistics())
    }

    /// beta "auto" (Eq. 3) from the dense logits.
    func autoBeta(_ model: KernelKMeansModel, _ points: [[Double]]) -> Double {
        let out = runKernelFastPath(Double.self, model: model, points: points, beta: 1)
        return 1 / (out.logit.reduce(0, +) / Double(points.count))
    }

    func testPrunedIsWithinItsBoundAndDecidesExactly() {
        let (model, pts) = clustered(seed: 301)
        let beta = autoBeta(model, pts)
        for rule in KernelRule.allCases {
            let full = runKernelFastPath(Double.self, model: model, points: pts, beta: beta, rule: rule)
            for eps in [1e-4, 1e-2, 0.3] {
                check(model, pts, full, beta: beta, eps: eps, rule: rule)
            }
        }
    }

    /// Tight clusters in pairs: the triangle bound is nearly exact, every row evaluates c and the
    /// nearest competitor only, and the relevance pass drops (almost) nothing; the error is the
    /// forward skipping (and the renormalisation), which its part of the bound must cover.
    func testForwardSkippingAloneIsWithinItsBound() {
        let (model, pts) = clustered(seed: 306, groups: 6, perGroup: 2, rows: 600, spread: 5, within: 0.02)
        let beta = autoBeta(model, pts)
        for rule in KernelRule.allCases {
            let full = runKernelFastPath(Double.self, model: model, points: pts, beta: beta, rule: rule)
            let p = pruned(Double.self, model, pts, beta: beta, tolerance: 0.1, rule: rule)
            XCTAssertGreaterThan(Double(p.stats.relevancePaths), 0.99 * Double(p.stats.forwardPaths))
            XCTAssertLessThan(p.stats.forwardFraction, 0.2)
            var worst = 0.0
            for i in pts.indices {
                let l1 = zip(p.relevance[i], full.relevance[i]).map { abs($0 - $1) }.reduce(0, +) / full.logit[i]
                XCTAssertLessThanOrEqual(l1, p.bounds[i] * (1 + 1e-9) + 1e-10, "\(rule) row \(i)")
                worst = max(worst, l1)
            }
            XCTAssertGreaterThan(worst, 1e-3)
        }
    }

    func check(_ model: KernelKMeansModel, _ pts: [[Double]],
               _ full: (relevance: [[Double]], assignment: [Int64], logit: [Double]),
               beta: Double, eps: Double, rule: KernelRule) {
        do {
            let p = pruned(Double.self, model, pts, beta: beta, tolerance: eps, rule: rule)
            XCTAssertEqual(p.stats.denseRows, 0)
            XCTAssertLessThan(p.stats.forwardFraction, 0.5, "\(rule): nothing pruned, the test would be vacuous")
            XCTAssertEqual(p.assignment, full.assignment)
            var worst = 0.0, pruned = 0
            for i in pts.indices {
                let f = full.logit[i]
                XCTAssertEqual(p.logit[i], f, accuracy: 1e-10 * max(1, abs(f)))
                let l1 = zip(p.relevance[i], full.relevance[i]).map { abs($0 - $1) }.reduce(0, +)
                XCTAssertLessThanOrEqual(l1 / f, p.bounds[i] * (1 + 1e-9) + 1e-10, "\(rule) row \(i)")
                if l1 > 0 { pruned += 1 }
                worst = max(worst, l1 / f)
                if rule == .conservative { XCTAssertEqual(p.relevance[i].reduce(0, +), f, accuracy: 1e-9 * f) }
            }
            XCTAssertGreaterThan(pruned, pts.count / 2, "\(rule): the relevance changed on too few rows to test the bound")
            XCTAssertLessThanOrEqual(worst, p.stats.maxBound)
            if eps <= 1e-4 { XCTAssertLessThan(p.stats.maxBound, 1e-3, "\(rule)") }
            print(String(format: "%@ eps %g: kept %.3f forward, %.3f relevance; max |dR|_1/f %.3g, bound %.3g",
                         rule.rawValue, eps, p.stats.forwardFraction, p.stats.relevanceFraction, worst, p.stats.maxBound))
        }
    }

    func testTinyToleranceKeepsEverythingAndEqualsTheDensePathExactly() {
        let (model, pts) = clustered(seed: 302)
        let beta = autoBeta(model, pts)
        let p64 = pruned(Double.self, model, pts, beta: beta, tolerance: 1e-300)
        let d64 = runKernelFastPath(Double.self, model: model, points: pts, beta: beta)
        XCTAssertEqual(p64.stats.forwardFraction, 1)
        XCTAssertEqual(p64.stats.relevanceFraction, 1)
        XCTAssertEqual(p64.stats.denseRows, pts.count)
        XCTAssertEqual(p64.relevance, d64.relevance)
        XCTAssertEqual(p64.logit, d64.logit)
        XCTAssertEqual(p64.assignment, d64.assignment)
        XCTAssertEqual(p64.bounds, [Double](repeating: 0, count: pts.count))
        let p32 = pruned(Float.self, model, pts, beta: beta, tolerance: 1e-300, rule: .conservative)
        let d32 = runKernelFastPath(Float.self, model: model, points: pts, beta: beta, rule: .conservative)
        XCTAssertEqual(p32.relevance, d32.relevance)
        XCTAssertEqual(p32.logit, d32.logit)
        XCTAssertEqual(p32.stats.denseRows, pts.count)
    }

    /// The kept fractions against a brute-force count from the definitions (float64, from the
    /// model's own support vectors): forward = every cluster with lo_k <= U + log(1/eps) / beta;
    /// relevance = c, the nearest competitor and the evaluated competitors with e_k >= eps sum e.
    /// And soundness: every competitor whose exact min-take-most share R_k / f_c is >= eps is kept.
    func testKeptFractionsMatchABruteForceCount() {
        let (model, pts) = clustered(seed: 303, groups: 5, perGroup: 4, rows: 600)
        let beta = autoBeta(model, pts)
        for eps in [1e-3, 0.3] { countKept(model, pts, beta: beta, eps: eps) }
    }

    func countKept(_ model: KernelKMeansModel, _ pts: [[Double]], beta: Double, eps: Double) {
        let K = model.clusters
        let p = pruned(Double.self, model, pts, beta: beta, tolerance: eps)
        XCTAssertEqual(p.stats.denseRows, 0)
        let mu = model.members.map { m in (0..<model.features).map { f in m.reduce(0) { $0 + model.supportVectors[$1 * model.features + f] } / Double(m.count) } }
        func dist2(_ a: [Double], _ b: ArraySlice<Double>) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        let radius = (0..<K).map { k in model.members[k].map { dist2(mu[k], model.supportVector($0)).squareRoot() }.max()! }
        let meanSq = (0..<K).map { k in model.members[k].map { dist2(mu[k], model.supportVector($0)) }.reduce(0, +) / Double(model.members[k].count) }
        var forward = 0, relevance = 0, soundnessChecked = 0
        for x in pts {
            let cd = (0..<K).map { dist2(x, mu[$0][...]).squareRoot() }
            let upper = (0..<K).map { cd[$0] * cd[$0] + meanSq[$0] }.sorted()[1]
            let kept = (0..<K).filter { pow(max(0, cd[$0] - radius[$0]), 2) <= upper + log(1 / eps) / beta }
            forward += kept.reduce(0) { $0 + model.members[$1].count }
            let D = model.softMinDistances(x)
            let c = model.assign(x)
            let k2 = (0..<K).filter { $0 != c }.min { D[$0] < D[$1] }!
            let e = { (k: Int) in exp(-beta * (D[k] - D[k2])) }
            let sumF = kept.filter { $0 != c }.reduce(0) { $0 + e($1) }
            relevance += kept.filter { $0 == c || $0 == k2 || e($0) >= eps * sumF }.reduce(0) { $0 + model.members[$1].count }
            let sumAll = (0..<K).filter { $0 != c }.reduce(0) { $0 + e($1) }
            for k in 0..<K where k != c && e(k) / sumAll >= eps {
                XCTAssertTrue(kept.contains(k))
                soundnessChecked += 1
            }
        }
        XCTAssertGreaterThan(soundnessChecked, pts.count)
        XCTAssertEqual(p.stats.forwardPaths, forward, "eps \(eps)")
        XCTAssertEqual(p.stats.relevancePaths, relevance, "eps \(eps)")
        XCTAssertEqual(p.stats.paths, pts.count * model.count)
        XCTAssertLessThan(p.stats.forwardFraction, 0.5)
        if eps > 0.1 { XCTAssertLessThan(p.stats.relevanceFraction, p.stats.forwardFraction) }
    }

    /// The logits (the beta pass) are exact with pruning: the same assignment and f_c.
    func testPrunedLogitsAreExact() {
        let (model, pts) = clustered(seed: 304)
        for type in [Float.self, Double.self] as [any KernelScalar.Type] {
            func run<T: KernelScalar>(_: T.Type) {
                let x = pts.flatMap { $0 }.map { T($0) }
                var a = [Int64](repeating: -1, count: pts.count), f = [Double](repeating: .nan, count: pts.count)
                var a0 = a, f0 = f
                let engine = KernelKMeansPrunedPath<T>(model: model, tolerance: 1e-4)
                engine.logits(x, rows: pts.count, assignment: &a, logit: &f)
                KernelKMeansFastPath<T>(model: model).logits(x, rows: pts.count, assignment: &a0, logit: &f0)
                XCTAssertEqual(a, a0)
                // float32: the GEMMs over gathered rows round differently from the dense one
                for i in pts.indices { XCTAssertEqual(f[i], f0[i], accuracy: (T.self == Float.self ? 1e-4 : 1e-12) * f0[i]) }
                let s = engine.statistics(logits: true)
                XCTAssertEqual(s.rows, pts.count)
                XCTAssertLessThan(s.forwardFraction, 0.25)
                XCTAssertEqual(engine.statistics().rows, 0)
            }
            run(type)
        }
    }

    /// float32: the pruned path against the float32 dense path (within the bound plus float32
    /// noise) and against the float64 pruned path (float32 noise only).
    func testFloatPrunedAgreesWithDensePathAndFloat64() {
        let (model, pts) = clustered(seed: 305)
        let beta = autoBeta(model, pts)
        for rule in KernelRule.allCases {
            let full = runKernelFastPath(Float.self, model: model, points: pts, beta: beta, rule: rule)
            let p = pruned(Float.self, model, pts, beta: beta, tolerance: 0.3, rule: rule)
            let p64 = pruned(Double.self, model, pts, beta: beta, tolerance: 0.3, rule: rule)
            XCTAssertEqual(p.assignment, full.assignment)
            XCTAssertEqual(p.stats.denseRows, 0)
            XCTAssertEqual(p.stats.relevancePaths, p64.stats.relevancePaths)
            for i in pts.indices {
                let f = full.logit[i]
                XCTAssertEqual(p.logit[i], f, accuracy: 1e-4 * f)
                let l1 = zip(p.relevance[i], full.relevance[i]).map { abs($0 - $1) }.reduce(0, +)
                let scale = full.relevance[i].map(abs).reduce(0, +)
                XCTAssertLessThanOrEqual(l1, p.bounds[i] * f + 2e-3 * scale, "\(rule) row \(i)")
                XCTAssertLessThan(relativeError(p.relevance[i], p64.relevance[i]), 2e-3, "\(rule) row \(i)")
            }
        }
    }

    /// Two identical single-support-vector clusters (every sample near them is a tie: f_c = 0, no
    /// relevance, no NaN), two far ones (pruned for those samples); K = 2 keeps everything (dense).
    func testTiesSingleSupportVectorsAndTwoClusters() {
        var rng = SplitMix(seed: 307)
        let d = 6
        let a = (0..<d).map { _ in rng.normal() }, far = (0..<d).map { _ in 50 + rng.normal() }
        let u = a + a + far + far.map { $0 + 1 } + far.map { -$0 }
        let model = try! KernelKMeansModel(features: d, supportVectors: u, supportCluster: [0, 1, 2, 2, 3], gamma: 0.5)
        let pts = (0..<300).map { i in (i % 10 == 0 ? far : a).map { $0 + 0.3 * rng.normal() } }
        let full = runKernelFastPath(Double.self, model: model, points: pts, beta: 0.05)
        let p = pruned(Double.self, model, pts, beta: 0.05, tolerance: 1e-4)
        XCTAssertEqual(p.stats.denseRows, 0)
        XCTAssertLessThan(p.stats.forwardFraction, 0.8)
        XCTAssertEqual(p.assignment, full.assignment)
        for i in pts.indices {
            XCTAssertEqual(p.logit[i], full.logit[i], accuracy: 1e-9 * max(1, abs(full.logit[i])))
            XCTAssertTrue(p.relevance[i].allSatisfy { $0.isFinite })
            if i % 10 != 0 {
                XCTAssertEqual(p.logit[i], 0)
                XCTAssertEqual(p.relevance[i], [Double](repeating: 0, count: d))
                XCTAssertEqual(p.bounds[i], 0)
            } else {
                XCTAssertLessThan(relativeError(p.relevance[i], full.relevance[i]), 1e-9)
            }
        }
        let two = try! KernelKMeansModel(features: d, supportVectors: a + far, supportCluster: [0, 1], gamma: 0.5)
        let q = pruned(Double.self, two, pts, beta: 0.05, tolerance: 0.5)
        XCTAssertEqual(q.stats.forwardFraction, 1)
        XCTAssertEqual(q.relevance, runKernelFastPath(Double.self, model: two, points: pts, beta: 0.05).relevance)
    }
}
