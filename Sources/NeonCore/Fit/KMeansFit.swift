import Foundation
import NeonKernels

/// Settings of a k-means fit (the `fit` section of a fit job).
public struct KMeansFitSettings: Sendable {
    public var clusters: Int
    /// Restarts with different k-means++ seeds; the lowest final inertia wins.
    public var restarts: Int = 1
    public var maxIterations: Int = 300
    /// Convergence: sum_k |mu_k' - mu_k|^2 <= tol * mean per-feature variance (as scikit-learn).
    public var tolerance: Double = 1e-4
    public var seed: UInt64 = 0
    /// Rows of the uniform sample k-means++ runs on (capped at N).
    public var initSample: Int

    public init(clusters: Int, restarts: Int = 1, maxIterations: Int = 300, tolerance: Double = 1e-4,
                seed: UInt64 = 0, initSample: Int? = nil) {
        self.clusters = clusters
        self.restarts = restarts
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.seed = seed
        self.initSample = initSample ?? Self.defaultInitSample(clusters: clusters)
    }

    public static func defaultInitSample(clusters: Int) -> Int { max(10_000, 10 * clusters) }
}

public struct KMeansFitResult: Sendable {
    /// K x d, in the fit space.
    public let centroids: [Double]
    /// sum_n |x_n - mu_c(n)|^2 of the final assignment with the final centroids (fit space).
    public let inertia: Double
    public let iterations: Int
    public let restart: Int
    /// Inertia at each iteration of the winning restart (then the final one).
    public let history: [Double]
    public let converged: Bool
}

/// Distributed Lloyd k-means on sharded rows. Each iteration: every rank assigns its rows with
/// one GEMM per tile of 256 rows (the k-means decision, Eq. 1), adds its rows
/// into float64 per-cluster sums and counts, one allreduce, the new centroids are the means.
/// Initialisation: k-means++ on a uniform sample of rows gathered to rank 0 (the sample depends
/// only on the seed and global row indices). Empty clusters are re-seeded with the rows farthest
/// from their centroid (ties: the lower global row), the same rows for any number of ranks.
public final class KMeansFitter<T: NeonScalar> {
    let shard: FitShard<T>
    let comm: FitCollectives
    let settings: KMeansFitSettings
    let meanVariance: Double
    let K: Int, d: Int
    /// Per row: the current cluster and |x - mu_c|^2.
    public let assignment: UnsafeMutablePointer<Int64>
    let dist2: UnsafeMutablePointer<Double>

    public init(shard: FitShard<T>, collectives: FitCollectives, settings: KMeansFitSettings, meanVariance: Double) {
        self.shard = shard
        comm = collectives
        self.settings = settings
        self.meanVariance = meanVariance
        K = settings.clusters
        d = shard.features
        assignment = .allocate(capacity: max(1, shard.rows))
        dist2 = .allocate(capacity: max(1, shard.rows))
    }

    deinit {
        assignment.deallocate()
        dist2.deallocate()
    }

    /// The uniform sample k-means++ seeds from (rank 0; [] elsewhere) and its global row indices.
    public func sample() -> (rows: [Double], indices: [Int]) {
        let idx = RandomSample.indices(total: shard.totalRows, count: min(settings.initSample, shard.totalRows),
                                       seed: settings.seed)
        return (shard.gatherRows(idx, comm), idx)
    }

    public func fit(progress: (FitProgress) -> Void = { _ in }) -> KMeansFitResult {
        let sampleRows = sample().rows
        var best: KMeansFitResult?
        for r in 0..<max(1, settings.restarts) {
            var centroids = comm.isRoot
                ? KMeansPlusPlus.seed(sample: sampleRows, features: d, clusters: K, seed: mixSeed(settings.seed, r, 1))
                : [Double](repeating: 0, count: K * d)
            comm.broadcastFromRoot(&centroids)
            let result = lloyd(from: centroids, restart: r, progress: progress)
            if best == nil || result.inertia < best!.inertia { best = result }
        }
        // Leave the winner's assignment in `assignment`.
        _ = assign(best!.centroids, previous: false)
        return best!
    }

    /// Lloyd iterations from `initial` centroids.
    public func lloyd(from initial: [Double], restart: Int = 0, progress: (FitProgress) -> Void = { _ in }) -> KMeansFitResult {
        var centroids = initial
        var history: [Double] = []
        var converged = false
        var iterations = 0
        for it in 1...max(1, settings.maxIterations) {
            iterations = it
            let p = assign(centroids, previous: it > 1)
            history.append(p.inertia)
            var next = centroids
            var empty: [Int] = []
            for k in 0..<K {
                if p.counts[k] > 0 {
                    for i in 0..<d { next[k * d + i] = p.sums[k * d + i] / p.counts[k] }
                } else {
                    empty.append(k)
                }
            }
            if !empty.isEmpty {
                let points = farthestRows(empty.count)
                for (j, k) in empty.enumerated() {
                    for i in 0..<d { next[k * d + i] = points[j * d + i] }
                }
            }
            var shift = 0.0
            for i in 0..<(K * d) { let v = next[i] - centroids[i]; shift += v * v }
            progress(FitProgress(restart: restart, iteration: it, objective: p.inertia, change: shift,
                                 reassigned: p.reassigned))
            centroids = next
            if it > 1 && p.reassigned == 0 && empty.isEmpty { converged = true; break }   // strict convergence
            if shift <= settings.tolerance * meanVariance { converged = true; break }
        }
        let final = assign(centroids, previous: false)
        history.append(final.inertia)
        return KMeansFitResult(centroids: centroids, inertia: final.inertia, iterations: iterations,
                               restart: restart, history: history, converged: converged)
    }

    /// One assignment pass over the shard (collective): the nearest centroids, then global
    /// per-cluster sums, counts, the inertia and (with `previous`) the number of rows that changed cluster.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func assign(_ centroids: [Double], previous: Bool) -> (sums: [Double], counts: [Double], inertia: Double, reassigned: Int) {
        let rows = shard.rows
        let old = previous ? Array(UnsafeBufferPointer(start: assignment, count: rows)) : []
        // The rows are centred (fit space), so the GEMM needs no shift: per tile
        // Z = 2 X M^T, s_k = Z_k - |m_k|^2 = |x|^2 - |x - m_k|^2, c = argmax s_k (Eq. 1), then
        // the tile's rows are added into the chunk's sums while they are in cache.
        let x = shard.x, a = assignment, dist = dist2, d = d, K = K
        let table = centroids.map { T($0) }
        let sq = (0..<K).map { k in T((0..<d).reduce(0.0) { $0 + centroids[k * d + $1] * centroids[k * d + $1] }) }
        let width = K * d + K + 2
        let tile = FitShard<T>.tileRows
        let lloyd = T.self as! LloydScalar.Type
        var partial = centroids.withUnsafeBufferPointer { cb in
            table.withUnsafeBufferPointer { tb in
                sq.withUnsafeBufferPointer { qb in
                    old.withUnsafeBufferPointer { ob in
                        shard.sumChunks(width: width) { range, acc in
                            let z = UnsafeMutablePointer<T>.allocate(capacity: tile * K)
                            let logit = UnsafeMutablePointer<Double>.allocate(capacity: tile)
                            defer { z.deallocate(); logit.deallocate() }
                            var r0 = range.lowerBound
                            while r0 < range.upperBound {
                                let n = min(tile, range.upperBound - r0)
                                T.gemm(m: n, n: K, k: d, alpha: 2, a: x + r0 * d, lda: d, b: tb.baseAddress!, ldb: d,
                                       transposeB: true, beta: 0, c: z, ldc: K)
                                T.top2(z, rows: n, clusters: K, sq: qb.baseAddress!, assign: a + r0, logit: logit)
                                lloyd.lloydAccumulate(UnsafeRawPointer(x + r0 * d), rows: n, features: d, assign: a + r0,
                                                      centroids: cb.baseAddress!, sums: acc, counts: acc + K * d,
                                                      dist2: dist + r0, old: previous ? ob.baseAddress! + r0 : nil,
                                                      acc: acc + K * d + K)
                                r0 += n
                            }
                        }
                    }
                }
            }
        }
        comm.sum(&partial)
        return (Array(partial[0..<(K * d)]), Array(partial[(K * d)..<(K * d + K)]), partial[K * d + K],
                Int(partial[K * d + K + 1]))
    }

    /// The `count` rows farthest from their assigned centroid (distance descending, then global
    /// row ascending), on every rank.
    func farthestRows(_ count: Int) -> [Double] {
        var local: [(Double, Int)] = []
        for n in 0..<shard.rows { local.append((dist2[n], shard.firstRow + n)) }
        let order: ((Double, Int), (Double, Int)) -> Bool = { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        local.sort(by: order)
        let mine = local.prefix(count).flatMap { [$0.0, Double($0.1)] }
        let all = comm.gatherToRoot(mine)
        var chosen = [Double](repeating: -1, count: count)
        if comm.isRoot {
            var pairs = stride(from: 0, to: all.count, by: 2).map { (all[$0], Int(all[$0 + 1])) }
            pairs.sort(by: order)
            for (j, p) in pairs.prefix(count).enumerated() { chosen[j] = Double(p.1) }
        }
        comm.broadcastFromRoot(&chosen)
        return shard.broadcastRows(chosen.map { Int($0) }, comm)
    }
}

/// The Lloyd accumulation loop (NeonKernels, vectorised) for each precision (x: rows x features of Self).
public protocol LloydScalar {
    static func lloydAccumulate(_ x: UnsafeRawPointer, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                                centroids: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                                counts: UnsafeMutablePointer<Double>, dist2: UnsafeMutablePointer<Double>,
                                old: UnsafePointer<Int64>?, acc: UnsafeMutablePointer<Double>)
}

extension Float: LloydScalar {
    public static func lloydAccumulate(_ x: UnsafeRawPointer, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                                       centroids: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                                       counts: UnsafeMutablePointer<Double>, dist2: UnsafeMutablePointer<Double>,
                                       old: UnsafePointer<Int64>?, acc: UnsafeMutablePointer<Double>) {
        neon_lloyd_accumulate_f32(x.assumingMemoryBound(to: Float.self), rows, features, assign, centroids, sums, counts, dist2, old, acc)
    }
}

extension Double: LloydScalar {
    public static func lloydAccumulate(_ x: UnsafeRawPointer, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                                       centroids: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                                       counts: UnsafeMutablePointer<Double>, dist2: UnsafeMutablePointer<Double>,
                                       old: UnsafePointer<Int64>?, acc: UnsafeMutablePointer<Double>) {
        neon_lloyd_accumulate_f64(x.assumingMemoryBound(to: Double.self), rows, features, assign, centroids, sums, counts, dist2, old, acc)
    }
}
