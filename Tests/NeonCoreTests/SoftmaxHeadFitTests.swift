import Foundation
import NeonCore
import XCTest

/// Training softmax clustering heads (issue 21): analytic gradients against finite differences,
/// recovery of planted clusters (Gaussian blobs; elongated parallel clusters where k-means
/// fails), the objectives improving as each method promises, the collision CE's y-step never
/// increasing the loss, and bit-identical models on 1, 2 and 3 simulated ranks.
final class SoftmaxHeadFitTests: XCTestCase {
    /// Rows standardised per feature (mean 0, population standard deviation 1).
    static func standardized(_ x: [Double], features d: Int) -> [Double] {
        let n = Double(x.count / d)
        var mean = [Double](repeating: 0, count: d), variance = mean
        for (i, v) in x.enumerated() { mean[i % d] += v / n }
        for (i, v) in x.enumerated() { variance[i % d] += (v - mean[i % d]) * (v - mean[i % d]) / n }
        return x.enumerated().map { ($1 - mean[$0 % d]) / variance[$0 % d].squareRoot() }
    }

    /// Elongated parallel clusters ("cigars"): K centres ~ N(0, separation^2) per feature with
    /// their component along u = (1, ..., 1)/sqrt d removed, unit isotropic noise, and spread
    /// `length` (standard deviation) along the common diagonal direction u (which per-feature
    /// standardisation cannot undo). k-means prefers cutting the long axis; the clusters are
    /// linearly separable across it.
    static func cigars(rows: Int, features d: Int, clusters K: Int, separation: Double, length: Double, seed: UInt64)
        -> (x: [Double], labels: [Int]) {
        var rng = SplitMix64(seed: seed)
        let u = 1 / Double(d).squareRoot()
        var centres = (0..<(K * d)).map { _ in separation * rng.normal() }
        for k in 0..<K {
            let along = (0..<d).reduce(0.0) { $0 + centres[k * d + $1] * u }
            for i in 0..<d { centres[k * d + i] -= along * u }
        }
        var x: [Double] = [], labels: [Int] = []
        for _ in 0..<rows {
            let k = Int.random(in: 0..<K, using: &rng)
            let t = length * rng.normal()
            for i in 0..<d { x.append(centres[k * d + i] + t * u + rng.normal()) }
            labels.append(k)
        }
        return (x, labels)
    }

    static func fit(_ x: [Double], features d: Int, settings: SoftmaxHeadFitSettings) -> SoftmaxHeadFitResult {
        let shard = FitTests.shard(x, features: d, as: Double.self)
        return SoftmaxHeadFit.run(shard: shard, settings: settings, collectives: SingleProcess())
    }

    static func assignments(_ head: SoftmaxHead, _ x: [Double], features d: Int) -> [Int] {
        stride(from: 0, to: x.count, by: d).map { head.assign(Array(x[$0..<($0 + d)])) }
    }

    // MARK: gradients

    /// Central differences of the objective against the analytic gradient (W and b), for every
    /// loss, with the norm regulariser on; the collision CE with its pseudo-labels held fixed.
    func testGradientsMatchFiniteDifferences() {
        let (n, d, K) = (300, 5, 4)   // two tiles
        var rng = SplitMix64(seed: 7)
        let x = (0..<(n * d)).map { _ in rng.normal() }
        let pairs = x.map { $0 + 0.5 * rng.normal() }
        let theta = (0..<(K * d + K)).map { _ in rng.normal() }
        let cases: [(SoftmaxLoss, [Double]?)] = [(.mutualInformation, nil), (.collisionCrossEntropy, nil), (.iic, nil), (.iic, pairs)]
        for (loss, paired) in cases {
            let settings = SoftmaxHeadFitSettings(clusters: K, loss: loss, fairness: 1.3, perturbation: 0.3, weightDecay: 0.01)
            let shard = FitTests.shard(x, features: d, as: Double.self)
            let view = paired.map { FitTests.shard($0, features: d, as: Double.self) }
            let objective = SoftmaxHeadObjective(shard: shard, pairs: view, settings: settings, collectives: SingleProcess())
            _ = objective.evaluate(theta, labelSteps: 2)   // sets the pseudo-labels (collision CE)
            let g = objective.evaluate(theta, labelSteps: 0).gradient
            let h = 1e-5
            var err = 0.0, norm = 0.0
            for i in 0..<theta.count {
                var up = theta, down = theta
                up[i] += h
                down[i] -= h
                let fd = (objective.evaluate(up, labelSteps: 0).objective - objective.evaluate(down, labelSteps: 0).objective) / (2 * h)
                err += (fd - g[i]) * (fd - g[i])
                norm += g[i] * g[i]
            }
            let relative = (err / norm).squareRoot()
            print(String(format: "gradient check %@%@: |g - fd| / |g| = %.2e", loss.rawValue, paired == nil ? "" : " (pairs)", relative))
            XCTAssertLessThan(relative, 1e-5, "\(loss)\(paired == nil ? "" : " (pairs)"): |g - fd| / |g| = \(relative)")
            XCTAssertGreaterThan(norm, 1e-6)
        }
    }

    /// ExactTileSums: the same bits whatever the grouping of the terms, and the float64 sum to rounding.
    func testExactTileSumsIgnoreGrouping() {
        var rng = SplitMix64(seed: 3)
        let terms = (0..<200).map { _ in [rng.normal() * 1e3, rng.normal() * 1e-9, rng.normal()] }
        func sum(_ groups: [Range<Int>]) -> [Double] {
            var total = ExactTileSums(width: 3)
            for g in groups.reversed() {
                var part = ExactTileSums(width: 3)
                for t in g { part.add(terms[t]) }
                total.add(part)
            }
            return total.values()
        }
        let a = sum([0..<200]), b = sum([0..<7, 7..<150, 150..<200]), c = sum((0..<200).map { $0..<($0 + 1) })
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertEqual(a.map(\.bitPattern), c.map(\.bitPattern))
        for j in 0..<3 {
            let naive = terms.reduce(0) { $0 + $1[j] }
            // Each term is rounded to a multiple of 2^-60.
            XCTAssertEqual(a[j], naive, accuracy: 1e-12 * terms.reduce(0) { $0 + abs($1[j]) } + Double(terms.count) * 0x1p-60)
        }
    }

    // MARK: planted clusters

    /// Gaussian blobs, d = 64, K = 10, standardised: every loss with its default settings.
    func testBlobsMutualInformation() { blobs(.mutualInformation) }
    func testBlobsCollisionCrossEntropy() { blobs(.collisionCrossEntropy) }
    func testBlobsIIC() { blobs(.iic) }

    func blobs(_ loss: SoftmaxLoss) {
        let (n, d, K) = (1000, 64, 10)
        let data = FitTests.blobs(rows: n, features: d, clusters: K, seed: 11)
        let x = Self.standardized(data.x, features: d)
        let r = Self.fit(x, features: d, settings: SoftmaxHeadFitSettings(clusters: K, loss: loss))
        let labels = Self.assignments(r.model, x, features: d)
        let ari = AdjustedRandIndex.value(labels, data.labels)
        print(String(format: "softmax head %@ on blobs (N %d, d %d, K %d): ARI %.4f, sizes %@, objective %.5f -> %.5f (restart %d)",
                     loss.rawValue, n, d, K, ari, r.clusterSizes.description, r.objectives.first!, r.objectives.last!, r.restart))
        XCTAssertGreaterThanOrEqual(ari, 0.95, "\(loss)")
        XCTAssertEqual(r.clusterSizes.count, K)
        XCTAssertTrue(r.clusterSizes.allSatisfy { $0 > 0 }, "\(loss): empty cluster \(r.clusterSizes)")
        XCTAssertEqual(Set(labels).count, K)
    }

    /// Elongated parallel clusters: k-means cuts across the long axis; a linear softmax head
    /// separates them. The max-margin solution is the global minimum of the norm-regularised
    /// decisiveness-and-fairness loss (lecture: "regularized decisiveness"), found by restarts.
    /// The collision CE and IIC (same settings) are reported and must beat k-means.
    func testElongatedClustersMutualInformation() { elongated(.mutualInformation, atLeast: 0.9) }
    func testElongatedClustersCollisionCrossEntropy() { elongated(.collisionCrossEntropy, atLeast: nil) }
    func testElongatedClustersIIC() { elongated(.iic, atLeast: nil) }

    func elongated(_ loss: SoftmaxLoss, atLeast: Double?) {
        let (n, d, K) = (1000, 16, 5)
        let data = Self.cigars(rows: n, features: d, clusters: K, separation: 5, length: 20, seed: 3)
        let x = Self.standardized(data.x, features: d)
        let shard = FitTests.shard(x, features: d, as: Double.self)
        let km = KMeansFitter(shard: shard, collectives: SingleProcess(), settings: KMeansFitSettings(clusters: K, restarts: 3),
                              meanVariance: 1)
        _ = km.fit()
        let kmeansARI = AdjustedRandIndex.value((0..<n).map { Int(km.assignment[$0]) }, data.labels)
        let settings = SoftmaxHeadFitSettings(clusters: K, loss: loss, iterations: 300, restarts: 6, weightDecay: 0.01)
        let r = SoftmaxHeadFit.run(shard: shard, settings: settings, collectives: SingleProcess())
        let ari = AdjustedRandIndex.value(Self.assignments(r.model, x, features: d), data.labels)
        print(String(format: "elongated clusters (N %d, d %d, K %d): ARI k-means %.4f, softmax head %@ %.4f (restart %d)",
                     n, d, K, kmeansARI, loss.rawValue, ari, r.restart))
        XCTAssertLessThan(kmeansARI, 0.6)
        XCTAssertGreaterThan(ari, kmeansARI + 0.1)
        if let atLeast { XCTAssertGreaterThanOrEqual(ari, atLeast) }
    }

    // MARK: objectives

    /// MI: the final objective is below the initial one; collision CE: the loss decreases over the
    /// alternation and no y-step increases it; IIC: I(P) increases.
    func testObjectivesImproveAsPromised() {
        let (n, d, K) = (600, 8, 4)
        let data = FitTests.blobs(rows: n, features: d, clusters: K, seed: 5)
        let x = Self.standardized(data.x, features: d)
        for loss in SoftmaxLoss.allCases {
            let r = Self.fit(x, features: d, settings: SoftmaxHeadFitSettings(clusters: K, loss: loss, iterations: 60, restarts: 1))
            XCTAssertEqual(r.objectives.count, 61)
            XCTAssertLessThan(r.objectives.last!, r.objectives.first! - 0.1, "\(loss)")
            if loss == .iic {
                XCTAssertGreaterThan(-r.objectives.last!, 0.5, "I(P) at the end")   // I(P) = -objective (gamma = 1)
            }
            if loss == .collisionCrossEntropy {
                // Over the alternation: the objective after every tenth epoch never increases.
                let sampled = stride(from: 0, through: 60, by: 10).map { r.objectives[$0] }
                for (a, b) in zip(sampled, sampled.dropFirst()) { XCTAssertLessThanOrEqual(b, a + 1e-9) }
            }
        }
        // The y-step (EM) alone never increases L(W, y), from y = sigma at a random head.
        let shard = FitTests.shard(x, features: d, as: Double.self)
        let settings = SoftmaxHeadFitSettings(clusters: K, loss: .collisionCrossEntropy, fairness: 2)
        let objective = SoftmaxHeadObjective(shard: shard, pairs: nil, settings: settings, collectives: SingleProcess())
        var rng = SplitMix64(seed: 1)
        let theta = (0..<(K * d + K)).map { _ in rng.normal() }
        var previous = objective.evaluate(theta, labelSteps: 0).objective
        for _ in 0..<10 {
            let next = objective.evaluate(theta, labelSteps: 1).objective
            XCTAssertLessThanOrEqual(next, previous + 1e-12)
            previous = next
        }
    }

    // MARK: ranks

    /// The same model bits, objectives and cluster sizes on 1, 2 and 3 simulated ranks (float32
    /// rows; 4 tiles, so 3 ranks hold 2, 1 and 1 tiles), for every loss and for IIC with pairs.
    func testIdenticalModelsOnOneTwoThreeRanks() {
        let (n, d, K) = (1000, 8, 4)
        let data = FitTests.blobs(rows: n, features: d, clusters: K, seed: 9)
        let x = Self.standardized(data.x, features: d)
        var rng = SplitMix64(seed: 2)
        let pairs = x.map { $0 + 0.2 * rng.normal() }
        let cases: [(SoftmaxLoss, [Double]?)] = [(.mutualInformation, nil), (.collisionCrossEntropy, nil), (.iic, nil), (.iic, pairs)]
        for (loss, paired) in cases {
            let settings = SoftmaxHeadFitSettings(clusters: K, loss: loss, iterations: 15, restarts: 2, weightDecay: 1e-3)
            var reference: SoftmaxHeadFitResult?
            for P in 1...3 {
                let results = SimulatedRanks.run(ranks: P, x: x, pairs: paired, features: d, as: Float.self) { shard, view, comm in
                    SoftmaxHeadFit.run(shard: shard, pairs: view, settings: settings, collectives: comm)
                }
                for r in results {
                    guard let ref = reference else { reference = r; continue }
                    let what = "\(loss)\(paired == nil ? "" : " (pairs)"), \(P) ranks"
                    XCTAssertEqual(r.model.weight.map(\.bitPattern), ref.model.weight.map(\.bitPattern), what)
                    XCTAssertEqual(r.model.bias.map(\.bitPattern), ref.model.bias.map(\.bitPattern), what)
                    XCTAssertEqual(r.objectives.map(\.bitPattern), ref.objectives.map(\.bitPattern), what)
                    XCTAssertEqual(r.clusterSizes, ref.clusterSizes, what)
                }
            }
            XCTAssertEqual(reference!.clusterSizes.reduce(0, +), n)
        }
    }
}
