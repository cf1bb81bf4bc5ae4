import Foundation
import NeonCore
import XCTest

/// Model fitting in one process (the collectives are identities): recovery of planted blobs,
/// monotone objectives (Lloyd inertia; Eq. 36 for kernel k-means with noise off), the fast-path
/// Lloyd step against a plain reference, empty-cluster re-seeding and the adjusted Rand index.
final class FitTests: XCTestCase {
    /// Well-separated blobs: K centres 12 apart on average, unit noise; labels by row.
    static func blobs(rows: Int, features d: Int, clusters K: Int, seed: UInt64, spread: Double = 1)
        -> (x: [Double], labels: [Int]) {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(K * d)).map { _ in 12 * rng.normal() }
        var x = [Double](), labels = [Int]()
        for _ in 0..<rows {
            let k = Int.random(in: 0..<K, using: &rng)
            labels.append(k)
            for i in 0..<d { x.append(centres[k * d + i] + spread * rng.normal()) }
        }
        return (x, labels)
    }

    static func shard<T: NeonScalar>(_ x: [Double], features d: Int, as: T.Type) -> FitShard<T> {
        let s = FitShard<T>(rows: x.count / d, features: d, firstRow: 0, totalRows: x.count / d)
        for i in 0..<x.count { s.x[i] = T(x[i]) }
        return s
    }

    func labels(_ p: UnsafeMutablePointer<Int64>, _ n: Int) -> [Int] { (0..<n).map { Int(p[$0]) } }

    func testAdjustedRandIndexKnownValues() {
        XCTAssertEqual(AdjustedRandIndex.value([0, 0, 1, 1], [1, 1, 0, 0]), 1)
        // scikit-learn's documented example: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.57...
        XCTAssertEqual(AdjustedRandIndex.value([0, 0, 1, 1], [0, 0, 1, 2]), 4.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(AdjustedRandIndex.value([0, 0, 0, 0], [0, 1, 2, 3]), 0, accuracy: 1e-12)
        XCTAssertLessThan(AdjustedRandIndex.value([0, 1, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1]), 0.1)
    }

    func testKMeansRecoversPlantedBlobsAndInertiaNeverIncreases() {
        let (n, d, K) = (3000, 8, 6)
        let data = Self.blobs(rows: n, features: d, clusters: K, seed: 11)
        for float32 in [false, true] {
            let fitter: (FitShard<Double>?, FitShard<Float>?) = float32
                ? (nil, Self.shard(data.x, features: d, as: Float.self))
                : (Self.shard(data.x, features: d, as: Double.self), nil)
            var inertias: [Double] = []
            let settings = KMeansFitSettings(clusters: K, restarts: 3, maxIterations: 100, tolerance: 0, seed: 4)
            let result: KMeansFitResult
            let found: [Int]
            if let s = fitter.0 {
                let f = KMeansFitter(shard: s, collectives: SingleProcess(), settings: settings, meanVariance: 1)
                result = f.fit { if $0.restart == 0 { inertias.append($0.objective) } }
                found = labels(f.assignment, n)
            } else {
                let f = KMeansFitter(shard: fitter.1!, collectives: SingleProcess(), settings: settings, meanVariance: 1)
                result = f.fit { if $0.restart == 0 { inertias.append($0.objective) } }
                found = labels(f.assignment, n)
            }
            XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(found, data.labels), 0.99, "float32 \(float32)")
            XCTAssertGreaterThan(inertias.count, 1)
            for (a, b) in zip(result.history, result.history.dropFirst()) {
                XCTAssertLessThanOrEqual(b, a * (1 + 1e-12), "inertia increased: \(result.history)")
            }
            for (a, b) in zip(inertias, inertias.dropFirst()) { XCTAssertLessThanOrEqual(b, a * (1 + 1e-12)) }
            // inertia ~ N d (unit noise)
            XCTAssertEqual(result.inertia / Double(n * d), 1, accuracy: 0.1)
        }
    }

    /// The fast-path Lloyd step (GEMM assignment, chunked float64 sums) against a plain one.
    func testLloydStepMatchesPlainReference() {
        let (n, d, K) = (1100, 5, 7)
        var rng = SplitMix64(seed: 3)
        let x = (0..<(n * d)).map { _ in 3 * rng.normal() }
        let shard = Self.shard(x, features: d, as: Double.self)
        let f = KMeansFitter(shard: shard, collectives: SingleProcess(),
                             settings: KMeansFitSettings(clusters: K), meanVariance: 1)
        let c = (0..<(K * d)).map { _ in 2 * rng.normal() }
        let got = f.assign(c, previous: false)
        let model = KMeansModel(clusters: K, features: d, centroids: c)
        var sums = [Double](repeating: 0, count: K * d), counts = [Double](repeating: 0, count: K), inertia = 0.0
        for r in 0..<n {
            let row = Array(x[(r * d)..<((r + 1) * d)])
            let k = model.assign(row)
            XCTAssertEqual(Int(f.assignment[r]), k, "row \(r)")
            counts[k] += 1
            for i in 0..<d { sums[k * d + i] += row[i] }
            inertia += model.squaredDistances(row)[k]
        }
        XCTAssertEqual(got.counts, counts)
        XCTAssertLessThan(relativeError(got.sums, sums), 1e-12)
        XCTAssertEqual(got.inertia, inertia, accuracy: 1e-9 * inertia)
    }

    /// A centroid far from every row gets no rows: it is moved onto the row farthest from its centroid.
    func testEmptyClusterIsReseededWithTheFarthestRow() {
        let d = 2
        var x: [Double] = []
        for i in 0..<50 { x += [Double(i % 5) * 0.01, 0] }
        x += [10, 10]          // row 50: the outlier
        for i in 0..<50 { x += [5 + Double(i % 5) * 0.01, 0] }
        let shard = Self.shard(x, features: d, as: Double.self)
        let f = KMeansFitter(shard: shard, collectives: SingleProcess(),
                             settings: KMeansFitSettings(clusters: 3, maxIterations: 1, tolerance: 0), meanVariance: 1)
        let r = f.lloyd(from: [0, 0, 5, 0, 1000, 1000])
        XCTAssertEqual(Array(r.centroids[4..<6]), [10, 10])
        XCTAssertEqual(Int(f.assignment[50]), 2)
    }

    func testKernelKMeansObjectiveNeverIncreasesAndRecoversBlobs() {
        let (n, d, K) = (1200, 4, 4)
        let data = Self.blobs(rows: n, features: d, clusters: K, seed: 21)
        let shard = Self.shard(data.x, features: d, as: Double.self)
        let km = KMeansFitter(shard: shard, collectives: SingleProcess(),
                              settings: KMeansFitSettings(clusters: K, restarts: 2, seed: 1), meanVariance: 1)
        _ = km.fit()
        let sample = km.sample()
        let sampleClusters = sample.indices.map { Int(km.assignment[$0]) }
        let settings = KernelKMeansFitSettings(clusters: K, perCluster: 3, restarts: 2, iterations: 15, seed: 2, noise: 0)
        let kf = KernelKMeansFitter(shard: shard, collectives: SingleProcess(), settings: settings, rmsStd: 1)
        var perRestart: [[Double]] = [[], []]
        let result = kf.fit(initial: km.assignment, sampleRows: sample.rows, sampleClusters: sampleClusters) {
            perRestart[$0.restart].append($0.objective)
        }
        for h in perRestart + [result.history] {
            XCTAssertEqual(h.count >= 15, true)
            for (a, b) in zip(h, h.dropFirst()) {
                XCTAssertLessThanOrEqual(b, a + 1e-9 * abs(a), "Eq. 36 increased: \(h)")
            }
        }
        XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(labels(kf.assignment, n), data.labels), 0.99)
        XCTAssertEqual(result.supportCluster, (0..<(K * 3)).map { $0 / 3 })
        // Eq. 38 at convergence: gamma ~ 1 / (2 sigma^2) = 0.5 for unit-variance blobs
        XCTAssertEqual(result.gamma, 0.5, accuracy: 0.1)
        // The model written is a valid kernel k-means model whose decision (Eq. 6) is the E-step's.
        let model = try! KernelKMeansModel(features: d, supportVectors: result.supportVectors,
                                           supportCluster: result.supportCluster, gamma: result.gamma)
        for r in stride(from: 0, to: n, by: 53) {
            XCTAssertEqual(model.assign(Array(data.x[(r * d)..<((r + 1) * d)])), Int(kf.assignment[r]))
        }
    }

    /// Eq. 36 computed by the E-step equals a direct evaluation with LogMeanExp.
    func testKernelObjectiveIsEquation36() throws {
        let (n, d, K, m) = (300, 3, 3, 2)
        var rng = SplitMix64(seed: 8)
        let x = (0..<(n * d)).map { _ in 2 * rng.normal() }
        let u = (0..<(K * m * d)).map { _ in 2 * rng.normal() }
        let gamma = 0.37
        let shard = Self.shard(x, features: d, as: Double.self)
        let kf = KernelKMeansFitter(shard: shard, collectives: SingleProcess(),
                                    settings: KernelKMeansFitSettings(clusters: K, perCluster: m), rmsStd: 1)
        let e = kf.eStep(u: u, gamma: gamma, forced: nil, previous: false)
        let model = try KernelKMeansModel(features: d, supportVectors: u, supportCluster: (0..<(K * m)).map { $0 / m },
                                          gamma: gamma)
        var L = -Double(n * d) / 2 * log(gamma)
        for r in 0..<n {
            let row = Array(x[(r * d)..<((r + 1) * d)])
            let c = model.assign(row)
            XCTAssertEqual(Int(kf.assignment[r]), c)
            L += gamma * model.softMinDistances(row)[c]
        }
        XCTAssertEqual(e.objective, L, accuracy: 1e-9 * abs(L))
        XCTAssertEqual(e.weights.reduce(0, +), Double(n), accuracy: 1e-9)
    }

    func testStandardizationOfAShard() {
        var rng = SplitMix64(seed: 5)
        let d = 3
        let x = (0..<(500 * d)).map { i in Double(i % d + 1) * 4 * rng.normal() + Double(i % d) * 10 }
        let shard = Self.shard(x, features: d, as: Double.self)
        let mom = shard.moments(SingleProcess())
        let st = Standardization(mean: mom.mean, variance: mom.variance)
        shard.transform(origin: st.mean, scale: st.std)
        let after = shard.moments(SingleProcess())
        for i in 0..<d {
            XCTAssertEqual(after.mean[i], 0, accuracy: 1e-12)
            XCTAssertEqual(after.variance[i], 1, accuracy: 1e-12)
        }
        // The explain-side transform gives the same values.
        var copy = x
        copy.withUnsafeMutableBufferPointer { st.apply($0.baseAddress!, rows: 500) }
        for i in 0..<x.count { XCTAssertEqual(copy[i], shard.x[i]) }
    }

    func testRandomSampleDependsOnlyOnTheSeed() {
        let a = RandomSample.indices(total: 1000, count: 100, seed: 3)
        XCTAssertEqual(a, RandomSample.indices(total: 1000, count: 100, seed: 3))
        XCTAssertEqual(Set(a).count, 100)
        XCTAssertEqual(a, a.sorted())
        XCTAssertNotEqual(a, RandomSample.indices(total: 1000, count: 100, seed: 4))
    }
}
