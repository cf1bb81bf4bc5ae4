import Foundation
import XCTest
import NeonKernels
@testable import NeonCore

/// Sec. VII: the baseline explainers, the KDE of Appendix G and Algorithm 1.
final class ExplainerTests: XCTestCase {
    /// Central finite differences of f_c, away from competitor switches.
    func finiteDifference(_ model: ClusterDecision, _ x: [Double], _ c: Int, h: Double = 1e-6) -> [Double] {
        (0..<x.count).map { i in
            var a = x, b = x
            a[i] += h
            b[i] -= h
            return (model.logit(a, cluster: c) - model.logit(b, cluster: c)) / (2 * h)
        }
    }

    func testKMeansGradientMatchesFiniteDifferences() {
        var rng = SplitMix(seed: 11)
        let model = KMeansDecision(model: randomModel(clusters: 5, features: 6, rng: &rng))
        var checked = 0
        for x in randomPoints(60, features: 6, rng: &rng) {
            for c in [model.assign(x), 0] {
                // Skip points within 1e-3 of a competitor switch (f_c is not differentiable there).
                let h = (0..<5).filter { $0 != c }.map { NeuralizedKMeans(model: model.model, cluster: c).detection(x)[$0 < c ? $0 : $0 - 1] }.sorted()
                if h.count > 1 && h[1] - h[0] < 1e-3 { continue }
                XCTAssertLessThan(relativeError(model.logitGradient(x, cluster: c), finiteDifference(model, x, c)), 1e-6)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testKernelGradientMatchesFiniteDifferences() {
        var rng = SplitMix(seed: 12)
        let km = randomKernelModel(sizes: [4, 3, 5], features: 4, gamma: 0.3, rng: &rng)
        let model = KernelKMeansDecision(model: km)
        var checked = 0
        for x in pointsNearSupportVectors(60, model: km, noise: 1, rng: &rng) {
            let c = model.assign(x)
            let D = km.softMinDistances(x)
            let h = (0..<3).filter { $0 != c }.map { D[$0] - D[c] }.sorted()
            if h[1] - h[0] < 1e-3 { continue }
            XCTAssertLessThan(relativeError(model.logitGradient(x, cluster: c), finiteDifference(model, x, c)), 1e-5)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// Completeness: sum_i IG_i -> f_c(x) - f_c(0) as the number of steps grows.
    func testIntegratedGradientsCompleteness() {
        var rng = SplitMix(seed: 13)
        let models: [ClusterDecision] = [
            KMeansDecision(model: randomModel(clusters: 4, features: 5, rng: &rng)),
            KernelKMeansDecision(model: randomKernelModel(sizes: [3, 4, 2], features: 5, gamma: 0.2, rng: &rng)),
        ]
        for model in models {
            for x in randomPoints(10, features: 5, rng: &rng) {
                let c = model.assign(x)
                let target = model.logit(x, cluster: c) - model.logit([Double](repeating: 0, count: 5), cluster: c)
                var errors: [Double] = []
                for steps in [10, 4000] {
                    let r = Explainer.relevance(.ig, x: x, cluster: c, model: model, settings: ExplainerSettings(beta: 1, steps: steps), rng: &rng)
                    errors.append(abs(r.reduce(0, +) - target))
                }
                XCTAssertLessThan(errors[1], 2e-2 * max(1, abs(target)), "\(type(of: model))")
                XCTAssertLessThanOrEqual(errors[1], errors[0] + 1e-9)
            }
        }
    }

    /// For K = 2 both NCA and NEON are (x_i - m_i) w_i (Eq. 4 with the single competitor).
    func testNearestCentroidAnalysisEqualsNeonForTwoClusters() {
        var rng = SplitMix(seed: 14)
        for _ in 0..<5 {
            let model = KMeansDecision(model: randomModel(clusters: 2, features: 7, rng: &rng))
            for x in randomPoints(20, features: 7, rng: &rng) {
                let c = model.assign(x)
                let neon = model.neon(x, cluster: c, beta: 0.37)
                let nca = model.nearestCentroidAnalysis(x, cluster: c)!
                XCTAssertLessThan(relativeError(nca, neon), 1e-12)
            }
        }
        // With K = 3 they differ in general (NEON spreads over both competitors).
        let model = KMeansDecision(model: randomModel(clusters: 3, features: 7, rng: &rng))
        let x = randomPoints(1, features: 7, rng: &rng)[0]
        let c = model.assign(x)
        XCTAssertGreaterThan(relativeError(model.nearestCentroidAnalysis(x, cluster: c)!, model.neon(x, cluster: c, beta: 0.01)), 1e-3)
    }

    func testSimpleBaselines() {
        var rng = SplitMix(seed: 15)
        let model = KMeansDecision(model: randomModel(clusters: 4, features: 5, rng: &rng))
        let x = randomPoints(1, features: 5, rng: &rng)[0]
        let c = model.assign(x)
        let s = ExplainerSettings(beta: 1)
        XCTAssertEqual(Explainer.relevance(.x2, x: x, cluster: c, model: model, settings: s, rng: &rng), x.map { $0 * $0 })
        let g = model.logitGradient(x, cluster: c)
        XCTAssertEqual(Explainer.relevance(.sensitivity, x: x, cluster: c, model: model, settings: s, rng: &rng), g.map { $0 * $0 })
        let pda0 = Explainer.relevance(.pda0, x: x, cluster: c, model: model, settings: s, rng: &rng)
        for i in 0..<5 {
            var y = x
            y[i] = 0
            XCTAssertEqual(pda0[i], model.logit(x, cluster: c) - model.logit(y, cluster: c), accuracy: 1e-12)
        }
        // Random relevance comes from the stream: the same stream gives the same relevance.
        var a = SampleStream.make(seed: 5, sample: 3), b = SampleStream.make(seed: 5, sample: 3), o = SampleStream.make(seed: 5, sample: 4)
        let ra = Explainer.relevance(.random, x: x, cluster: c, model: model, settings: s, rng: &a)
        XCTAssertEqual(ra, Explainer.relevance(.random, x: x, cluster: c, model: model, settings: s, rng: &b))
        XCTAssertNotEqual(ra, Explainer.relevance(.random, x: x, cluster: c, model: model, settings: s, rng: &o))
    }

    /// The pipeline adapter gives each row the relevance of its global index's stream.
    func testBaselineEngineUsesGlobalRowStreams() {
        var rng = SplitMix(seed: 16)
        let km = randomModel(clusters: 3, features: 4, rng: &rng)
        let model = KMeansDecision(model: km)
        let pts = randomPoints(5, features: 4, rng: &rng)
        let kde = KernelDensity(reference: pts.flatMap { $0 }, rows: 5, features: 4, sigma: 0.5)
        for method in ExplanationMethod.allCases {
            let engine = BaselineEngine<Double>(method: method, model: model, settings: ExplainerSettings(beta: 0.5, density: kde), seed: 9)
            var r = [Double](repeating: 0, count: 8), a = [Int64](repeating: 0, count: 2), f = [0.0, 0]
            engine.explain(pts[2] + pts[3], rows: 2, beta: 0.5, relevance: &r, assignment: &a, logit: &f, firstRow: 7)
            for (j, row) in [7, 8].enumerated() {
                let x = pts[2 + j]
                let c = km.assign(x)
                var s = EvaluationPlan.explainerStream(seed: 9, sample: row, repeat: 0, method: method)
                let expected = Explainer.relevance(method, x: x, cluster: c, model: model,
                                                   settings: ExplainerSettings(beta: 0.5, density: kde), rng: &s)
                XCTAssertEqual(Array(r[(j * 4)..<(j * 4 + 4)]), expected, "\(method)")
                XCTAssertEqual(a[j], Int64(c))
                XCTAssertEqual(f[j], model.logit(x, cluster: c), accuracy: 1e-12)
            }
        }
    }
}

extension SplitMix64 {
    mutating func uniform01() -> Double { Double.random(in: 0..<1, using: &self) }
}

final class KernelDensityTests: XCTestCase {
    /// Eq. 42's fixed point is the maximiser of the leave-one-out likelihood (Eq. 41): compared
    /// with a brute-force golden-section search on a 1-D sample.
    func testBandwidthFixedPointMaximisesLeaveOneOutLikelihood() {
        var rng = SplitMix(seed: 21)
        let pts = (0..<60).map { _ in rng.normal() * (Bool.random(using: &rng) ? 1 : 0.3) + (Bool.random(using: &rng) ? 2 : -1) }
        let fp = BandwidthFixedPoint(reference: pts, rows: 60, features: 1)
        let result = fp.solve(tolerance: 1e-12, maxIterations: 5000)
        XCTAssertTrue(result.converged)
        var lo = 0.01, hi = 3.0
        let phi = (5.0.squareRoot() - 1) / 2
        for _ in 0..<200 {
            let a = hi - phi * (hi - lo), b = lo + phi * (hi - lo)
            if fp.leaveOneOutLogLikelihood(sigma: a) > fp.leaveOneOutLogLikelihood(sigma: b) { hi = b } else { lo = a }
        }
        XCTAssertEqual(result.sigma, (lo + hi) / 2, accuracy: 1e-5 * result.sigma)
        // Distributed evaluation: blocks split over "ranks" and summed give the same sigma bits.
        let blocks = Array(0..<fp.blockCount)
        XCTAssertEqual(fp.partialSums(blocks: blocks, sigma2: 0.7).reduce(0, +),
                       zip(fp.partialSums(blocks: blocks.filter { $0 % 2 == 0 }, sigma2: 0.7),
                           fp.partialSums(blocks: blocks.filter { $0 % 2 == 1 }, sigma2: 0.7)).map { $0 + $1 }.reduce(0, +))
    }

    func testBandwidthOfMultiDimensionalSampleAgreesWithBruteForce() {
        var rng = SplitMix(seed: 22)
        let n = 150, d = 3
        let pts = (0..<(n * d)).map { _ in rng.normal() }
        let fp = BandwidthFixedPoint(reference: pts, rows: n, features: d)
        let s = fp.solve(tolerance: 1e-12, maxIterations: 5000).sigma
        let l0 = fp.leaveOneOutLogLikelihood(sigma: s)
        XCTAssertGreaterThan(l0, fp.leaveOneOutLogLikelihood(sigma: s * 1.01))
        XCTAssertGreaterThan(l0, fp.leaveOneOutLogLikelihood(sigma: s * 0.99))
    }

    /// The vectorised weights of Eq. 44 against libm's exp, one by one (down to exp(-700)) and
    /// as running sums through KernelDensity.
    func testCumulativeWeightsMatchLibm() {
        var rng = SplitMix(seed: 24)
        var worst = 0.0
        for _ in 0..<2000 {
            let y = -700 * pow(rng.uniform01(), 3)
            var one = 0.0, d0 = -y
            neon_kde_cumulative_weights(&d0, 1, 0, -1, &one)          // exp(-(d0)) = exp(y)
            worst = max(worst, abs(one - exp(y)) / exp(y))
        }
        XCTAssertLessThan(worst, 1e-14)
        var zero = 0.0, far = 709.0
        neon_kde_cumulative_weights(&far, 1, 0, -1, &zero)
        XCTAssertEqual(zero, 0)

        let n = 1001
        let dist = (0..<n).map { _ in pow(10, 4 * rng.uniform01() - 2) }
        let kde = KernelDensity(reference: [Double](repeating: 0, count: n), rows: n, features: 1, sigma: 0.05)
        var cum = dist
        kde.cumulativeWeights(dist, into: &cum)
        let m = dist.min()!
        var acc = 0.0
        for k in 0..<n {
            acc += exp(-(dist[k] - m) / (2 * 0.05 * 0.05))
            XCTAssertEqual(cum[k], acc, accuracy: 1e-13 * acc)
        }
    }

    /// Conditional sampling (Eqs. 43-44) on a 2-D Gaussian mixture: given x_0, the draws of x_1
    /// have the KDE conditional's mean sum alpha_n x_n1 and variance sigma^2 + var_alpha(x_n1).
    func testConditionalSamplerMoments() {
        var rng = SplitMix(seed: 23)
        var ref: [Double] = []
        for _ in 0..<200 {
            let k = Bool.random(using: &rng)
            ref += [rng.normal() + (k ? 2 : -2), 0.5 * rng.normal() + (k ? 3 : -1)]
        }
        let kde = KernelDensity(reference: ref, rows: 200, features: 2, sigma: 0.4)
        for given in [-2.0, 0.0, 1.5] {
            var total = 0.0, mean = 0.0, second = 0.0
            for n in 0..<200 {
                let t: Double = given - ref[2 * n]
                let w: Double = exp(-t * t / (2 * 0.16))
                let y: Double = ref[2 * n + 1]
                total += w
                mean += w * y
                second += w * y * y
            }
            mean /= total
            second /= total
            let variance = 0.16 + second - mean * mean
            let draws = 40000
            var s = 0.0, s2 = 0.0
            for _ in 0..<draws {
                let x = kde.conditionalSample(given: [given, 99], known: [true, false], rng: &rng)
                XCTAssertEqual(x[0], given)
                s += x[1]
                s2 += x[1] * x[1]
            }
            let m = s / Double(draws), v = s2 / Double(draws) - m * m
            XCTAssertEqual(m, mean, accuracy: 4 * (variance / Double(draws)).squareRoot(), "x0 = \(given)")
            XCTAssertEqual(v, variance, accuracy: 0.03 * variance, "x0 = \(given)")
        }
    }
}

final class InsertionCurveTests: XCTestCase {
    func testOrderIsByDecreasingRelevanceTiesByIndex() {
        XCTAssertEqual(InsertionCurve.order([0.1, 3, .nan, 3, -1]), [1, 3, 0, 4, 2])
    }

    /// Only feature 0 decides between two clusters (centroids +-a on feature 0); the other
    /// features are 0 in every reference row, so when feature 0 is unknown the KDE conditional
    /// draws it from either cluster with probability 1/2. The perfect explanation (NEON here)
    /// scores 100; a random order puts feature 0 at position T ~ U{1..d} and scores
    /// E[AUC] = 100 (1 - (d - 1) / (4 d)).
    func testPerfectExplanationBeatsRandomWhichMeetsItsExpectation() {
        let d = 8, a = 5.0
        var centroids = [Double](repeating: 0, count: 2 * d)
        centroids[0] = a
        centroids[d] = -a
        let model = KMeansDecision(model: KMeansModel(clusters: 2, features: d, centroids: centroids))
        var rng = SplitMix(seed: 31)
        var ref: [Double] = []
        for n in 0..<100 {
            var row = [Double](repeating: 0, count: d)
            row[0] = (n % 2 == 0 ? a : -a) + 0.3 * rng.normal()
            ref += row
        }
        let sigma = BandwidthFixedPoint(reference: ref, rows: 100, features: d).solve().sigma
        XCTAssertLessThan(sigma, 0.5)
        let kde = KernelDensity(reference: ref, rows: 100, features: d, sigma: sigma)
        let plan = EvaluationPlan(model: model, methods: [.neon, .random, .nca, .x2], repeats: 20, seed: 4,
                                  settings: ExplainerSettings(beta: 1, density: kde))
        var sums = [Double](repeating: 0, count: 4), sq = sums
        var count = 0
        for n in 0..<100 {
            let r = plan.evaluate(Array(ref[(n * d)..<((n + 1) * d)]), sample: n)
            for m in 0..<4 {
                for v in r.auc[m] { sums[m] += v; sq[m] += v * v }
            }
            count += r.auc[0].count
            XCTAssertEqual(r.curveCounts[0], [Int](repeating: 20, count: d))
        }
        let mean = sums.map { $0 / Double(count) }
        XCTAssertEqual(mean[0], 100)
        XCTAssertEqual(mean[2], 100)
        let expected = 100 * (1 - Double(d - 1) / Double(4 * d))
        let se = ((sq[1] / Double(count) - mean[1] * mean[1]) / Double(count)).squareRoot()
        XCTAssertEqual(mean[1], expected, accuracy: 4 * se)
        XCTAssertLessThan(mean[1], 90)
    }

    /// Zero imputation (deep-network activations): the curve uses x with unknown features 0.
    func testZeroImputationCurve() {
        let model = KMeansDecision(model: KMeansModel(clusters: 2, features: 3, centroids: [1, 1, 1, -1, -1, -1]))
        var rng = SplitMix(seed: 1)
        // z = (3, -0.5, -0.5): order by R = (1, 2, 3) is features 2, 1, 0; x goes (0,0,-.5), (0,-.5,-.5), z.
        let curve = InsertionCurve.curve(sample: [3, -0.5, -0.5], relevance: [1, 2, 3], cluster: 0, model: model,
                                         density: nil, rng: &rng)
        XCTAssertEqual(curve, [0, 0, 1])
        XCTAssertEqual(InsertionCurve.auc(curve), 100.0 / 3, accuracy: 1e-12)
    }
}
