import Foundation
@testable import NeonCore
import XCTest

/// Lloyd with Hamerly's bounds against plain Lloyd (one process): identical fits bit for bit, on
/// separated blobs and on overlapping data, in both precisions; the bounds are valid lower bounds;
/// they skip rows; near ties of the GEMM scores are decided by float64 distances.
final class HamerlyFitTests: XCTestCase {
    /// A mixture of `centres` Gaussians whose centres are much closer than the noise (as the benchmark's data).
    static func overlapping(rows: Int, features d: Int, centres: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let c = (0..<(centres * d)).map { _ in 0.3 * rng.normal() }
        var x = [Double]()
        for _ in 0..<rows {
            let k = Int.random(in: 0..<centres, using: &rng)
            for i in 0..<d { x.append(c[k * d + i] + rng.normal()) }
        }
        return x
    }

    struct Run {
        let result: KMeansFitResult
        let assignment: [Int64]
        let progress: [FitProgress]
    }

    func fit<T: FitScalar>(_ x: [Double], features d: Int, clusters K: Int, _ algorithm: KMeansAlgorithm, as: T.Type,
                           restarts: Int = 2, maxIterations: Int = 60, seed: UInt64 = 5) -> Run {
        let shard = FitTests.shard(x, features: d, as: T.self)
        let settings = KMeansFitSettings(clusters: K, restarts: restarts, maxIterations: maxIterations, tolerance: 0,
                                         seed: seed, algorithm: algorithm)
        let f = KMeansFitter(shard: shard, collectives: SingleProcess(), settings: settings, meanVariance: 1)
        var progress: [FitProgress] = []
        let r = f.fit { progress.append($0) }
        return Run(result: r, assignment: Array(UnsafeBufferPointer(start: f.assignment, count: shard.rows)), progress: progress)
    }

    func assertIdentical(_ a: Run, _ b: Run, _ label: String) {
        XCTAssertEqual(a.result.centroids, b.result.centroids, "centroids, \(label)")
        XCTAssertEqual(a.result.history, b.result.history, "inertia history, \(label)")
        XCTAssertEqual(a.result.inertia, b.result.inertia, label)
        XCTAssertEqual(a.result.iterations, b.result.iterations, label)
        XCTAssertEqual(a.result.restart, b.result.restart, label)
        XCTAssertEqual(a.assignment, b.assignment, "assignment, \(label)")
        XCTAssertEqual(a.progress.map(\.objective), b.progress.map(\.objective), label)
        XCTAssertEqual(a.progress.map(\.reassigned), b.progress.map(\.reassigned), label)
    }

    func assertMonotone(_ r: Run, _ label: String) {
        for (a, b) in zip(r.result.history, r.result.history.dropFirst()) {
            XCTAssertLessThanOrEqual(b, a * (1 + 1e-12), "inertia increased, \(label): \(r.result.history)")
        }
        for restart in Set(r.progress.map(\.restart)) {
            let h = r.progress.filter { $0.restart == restart }.map(\.objective)
            for (a, b) in zip(h, h.dropFirst()) { XCTAssertLessThanOrEqual(b, a * (1 + 1e-12), label) }
        }
    }

    func testHamerlyEqualsLloydBitForBitOnBlobsAndOverlappingData() {
        let blobs = FitTests.blobs(rows: 3000, features: 8, clusters: 6, seed: 41).x
        let hard = Self.overlapping(rows: 3000, features: 16, centres: 30, seed: 42)
        for (name, x, d, K) in [("blobs", blobs, 8, 6), ("blobs, K = 20", blobs, 8, 20), ("overlapping", hard, 16, 25)] {
            let l32 = fit(x, features: d, clusters: K, .lloyd, as: Float.self)
            let h32 = fit(x, features: d, clusters: K, .hamerly, as: Float.self)
            assertIdentical(l32, h32, "\(name), float32")
            let l64 = fit(x, features: d, clusters: K, .lloyd, as: Double.self)
            let h64 = fit(x, features: d, clusters: K, .hamerly, as: Double.self)
            assertIdentical(l64, h64, "\(name), float64")
            for (r, label) in [(l32, "lloyd 32"), (h32, "hamerly 32"), (l64, "lloyd 64"), (h64, "hamerly 64")] {
                assertMonotone(r, "\(name), \(label)")
            }
            // float32 and float64 GEMMs, one decision: the same fit up to the float32 input rounding.
            XCTAssertEqual(h32.result.iterations > 1, true, name)
        }
    }

    /// The overlapping data run to the iteration limit, where the bounds matter most: still identical.
    func testHamerlyEqualsLloydOverManyIterations() {
        let x = Self.overlapping(rows: 4000, features: 32, centres: 60, seed: 43)
        let l = fit(x, features: 32, clusters: 50, .lloyd, as: Float.self, restarts: 1, maxIterations: 80)
        let h = fit(x, features: 32, clusters: 50, .hamerly, as: Float.self, restarts: 1, maxIterations: 80)
        assertIdentical(l, h, "overlapping, K = 50")
        assertMonotone(h, "overlapping, K = 50")
        XCTAssertGreaterThan(h.result.iterations, 20)
    }

    /// The progress reports the work: every row in plain Lloyd and in the first iteration, far
    /// fewer once the blobs' centroids settle.
    func testBoundsSkipRowsOnBlobs() {
        let x = FitTests.blobs(rows: 6000, features: 16, clusters: 8, seed: 44).x
        let l = fit(x, features: 16, clusters: 8, .lloyd, as: Float.self, restarts: 1)
        let h = fit(x, features: 16, clusters: 8, .hamerly, as: Float.self, restarts: 1)
        assertIdentical(l, h, "blobs")
        XCTAssertEqual(Set(l.progress.map(\.recomputedFraction)), [1])
        let fractions = h.progress.map { $0.recomputedFraction! }
        XCTAssertGreaterThanOrEqual(fractions.count, 2, "\(fractions)")
        XCTAssertEqual(fractions[0], 1)
        XCTAssertLessThan(fractions.last!, 0.05, "\(fractions)")
        XCTAssertLessThan(fractions.dropFirst().reduce(0, +) / Double(fractions.count - 1), 0.5, "\(fractions)")
    }

    /// After every pass, each row's lower bound is at most its distance to every other centroid
    /// (float64 reference), and its cluster is the float64 nearest one.
    func testLowerBoundsAreValid() throws {
        let (n, d, K) = (2000, 12, 15)
        let x = Self.overlapping(rows: n, features: d, centres: 20, seed: 45)
        let shard = FitTests.shard(x, features: d, as: Float.self)
        let f = KMeansFitter(shard: shard, collectives: SingleProcess(),
                             settings: KMeansFitSettings(clusters: K, tolerance: 0, seed: 3, algorithm: .hamerly),
                             meanVariance: 1)
        var c = Array(x[0..<(K * d)])
        var moverChecked = 0
        for pass in 0..<8 {
            let p = f.assign(c, previous: pass > 0)
            moverChecked += p.moverChecked
            let bounds = try XCTUnwrap(f.bounds)
            XCTAssertEqual(bounds.reference, c)
            for r in 0..<n {
                let row = (0..<d).map { Double(shard.x[r * d + $0]) }
                let dist = (0..<K).map { k in (0..<d).reduce(0.0) { $0 + (row[$1] - c[k * d + $1]) * (row[$1] - c[k * d + $1]) } }
                let a = Int(f.assignment[r])
                XCTAssertEqual(a, KMeansModel(clusters: K, features: d, centroids: c).assign(row), "pass \(pass) row \(r)")
                let other = (0..<K).filter { $0 != a }.map { dist[$0] }.min()!.squareRoot()
                XCTAssertLessThanOrEqual(bounds.lower[r], other * (1 + 1e-12), "pass \(pass) row \(r)")
                XCTAssertEqual(f.dist2[r], dist[a], accuracy: 1e-12 * dist[a])
            }
            c = (0..<(K * d)).map { p.counts[$0 / d] > 0 ? p.sums[$0] / p.counts[$0 / d] : c[$0] }
        }
        XCTAssertGreaterThan(moverChecked, 0, "the movers' check ran")
    }

    /// Twin centroids 2e-6 apart tie within the float32 GEMM's rounding: those rows are decided
    /// by float64 distances, so the assignment is the float64 nearest centroid whatever the GEMM.
    func testNearTiesAreDecidedByFloat64Distances() {
        let (n, d) = (1500, 24)
        var rng = SplitMix64(seed: 46)
        let x = (0..<(n * d)).map { _ in rng.normal() }
        let base = (0..<(4 * d)).map { _ in 0.5 * rng.normal() }
        var c = base
        for k in 0..<4 { var twin = Array(base[(k * d)..<((k + 1) * d)]); twin[k] += 2e-6; c += twin }
        let model = KMeansModel(clusters: 8, features: d, centroids: c)
        for algorithm in [KMeansAlgorithm.lloyd, .hamerly] {
            let shard = FitTests.shard(x, features: d, as: Float.self)
            let f = KMeansFitter(shard: shard, collectives: SingleProcess(),
                                 settings: KMeansFitSettings(clusters: 8, algorithm: algorithm), meanVariance: 1)
            let p = f.assign(c, previous: false)
            XCTAssertGreaterThan(p.nearTies, n / 2, "most rows are near a twin")
            for r in 0..<n {
                let row = (0..<d).map { Double(shard.x[r * d + $0]) }
                XCTAssertEqual(Int(f.assignment[r]), model.assign(row), "\(algorithm) row \(r)")
            }
            // A second pass with the same centroids: the bounds cannot skip the twins' rows, nothing changes.
            let q = f.assign(c, previous: true)
            XCTAssertEqual(q.reassigned, 0)
            XCTAssertEqual(q.inertia, p.inertia)
        }
    }
}
