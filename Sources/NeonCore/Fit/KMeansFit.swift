import Foundation
import NeonKernels
import NeonSettings

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
    /// Plain Lloyd or Lloyd with Hamerly's bounds (same results, less work).
    public var algorithm: KMeansAlgorithm

    public init(clusters: Int, restarts: Int = 1, maxIterations: Int = 300, tolerance: Double = 1e-4,
                seed: UInt64 = 0, initSample: Int? = nil, algorithm: KMeansAlgorithm = .hamerly) {
        self.clusters = clusters
        self.algorithm = algorithm
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

/// What one assignment pass found (global: summed over ranks).
public struct AssignmentPass: Sendable {
    /// K x d float64 sums of the rows of each cluster, and the K counts.
    public let sums: [Double]
    public let counts: [Double]
    /// sum_n |x_n - mu_c(n)|^2 with the pass's centroids (float64 distances).
    public let inertia: Double
    /// Rows whose cluster changed (when the pass had a previous assignment).
    public let reassigned: Int
    /// Rows compared with every centroid (GEMM); the others kept their cluster by the bounds.
    public let recomputed: Int
    /// Rows decided by float64 distances because their GEMM scores were a near tie.
    public let nearTies: Int
    /// Rows compared with the `movers` fastest-moving centroids only (HamerlyBounds.Moves).
    public let moverChecked: Int
    public let movers: Int
}

/// Distributed Lloyd k-means on sharded rows. Each iteration: every rank assigns its rows with
/// one GEMM per tile of 256 rows (the k-means decision, Eq. 1, made exact in float64 for near
/// ties: NeonFit.h), adds its rows into float64 per-cluster sums and counts, one allreduce, the
/// new centroids are the means. With `KMeansAlgorithm.hamerly`, rows that Hamerly's bounds
/// show to keep their cluster skip the GEMM; the rest of each tile is gathered into one GEMM.
/// The sums are added in row order either way, so both algorithms give identical results.
/// Initialisation: k-means++ on a uniform sample of rows gathered to rank 0 (the sample depends
/// only on the seed and global row indices). Empty clusters are re-seeded with the rows farthest
/// from their centroid (ties: the lower global row), the same rows for any number of ranks.
public final class KMeansFitter<T: FitScalar> {
    let shard: FitShard<T>
    let comm: FitCollectives
    let settings: KMeansFitSettings
    let meanVariance: Double
    let K: Int, d: Int
    /// Per row: the current cluster and |x - mu_c|^2.
    public let assignment: UnsafeMutablePointer<Int64>
    let dist2: UnsafeMutablePointer<Double>
    /// Per row: |x|^2 (the GEMM scores' error bound needs it).
    let xnorm2: UnsafeMutablePointer<Double>
    let bounds: HamerlyBounds?

    public init(shard: FitShard<T>, collectives: FitCollectives, settings: KMeansFitSettings, meanVariance: Double) {
        self.shard = shard
        comm = collectives
        self.settings = settings
        self.meanVariance = meanVariance
        K = settings.clusters
        d = shard.features
        assignment = .allocate(capacity: max(1, shard.rows))
        assignment.initialize(repeating: 0, count: max(1, shard.rows))
        dist2 = .allocate(capacity: max(1, shard.rows))
        xnorm2 = .allocate(capacity: max(1, shard.rows))
        bounds = settings.algorithm == .hamerly
            ? HamerlyBounds(rows: shard.rows, features: d, clusters: K, totalRows: shard.totalRows) : nil
        let x = shard.x, out = xnorm2, features = shard.features
        _ = shard.perChunk { _, range in
            T.fitNorms(x + range.lowerBound * features, rows: range.count, features: features, into: out + range.lowerBound)
        }
    }

    deinit {
        assignment.deallocate()
        dist2.deallocate()
        xnorm2.deallocate()
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
        bounds?.reset()     // the first iteration compares every row with every centroid
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
                                 reassigned: p.reassigned,
                                 recomputedFraction: Double(p.recomputed) / Double(max(1, shard.totalRows)),
                                 moverCheckedFraction: Double(p.moverChecked) / Double(max(1, shard.totalRows)),
                                 movers: p.movers))
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
    /// per-cluster sums, counts, the inertia and (with `previous`) the number of rows that changed
    /// cluster. With Hamerly's bounds set, only the rows that fail the bound test are compared
    /// with every centroid.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func assign(_ centroids: [Double], previous: Bool) -> AssignmentPass {
        let rows = shard.rows
        let pins = PinnedArrays()
        let old = previous ? pins.copy(assignment, count: rows) : nil
        // The rows are centred (fit space), so the GEMM needs no shift: per tile
        // Z = 2 X M^T, s_k = Z_k - |m_k|^2 = |x|^2 - |x - m_k|^2, c = argmax s_k (Eq. 1), then
        // the tile's rows are added into the chunk's sums while they are in cache.
        let x = shard.x, a = assignment, dist = dist2, xn = xnorm2, d = d, K = K
        let table = centroids.map { T($0) }
        let norms = (0..<K).map { k in (0..<d).reduce(0.0) { $0 + centroids[k * d + $1] * centroids[k * d + $1] } }
        let sq = norms.map { T($0) }
        // |s_k - s*_k| <= eta (|x| + max_k |m_k|)^2: the GEMM (d roundings of T), the rounding of
        // the centroids and |m_k|^2 to T and of s_k; twice that, plus the float64 distances' share.
        let eta = 2 * Double(d + 8) * (Double(T.ulpOfOne) / 2 + Double.ulpOfOne / 2)
        let maxNorm = norms.max()!.squareRoot() * (1 + 0x1p-40)
        let moves = bounds?.moves(to: centroids, rows: rows, assignment: assignment, dist2: dist2)
        let lower = bounds?.lower
        let rho = HamerlyBounds.margin(features: d)
        let drop = moves?.drop ?? [], halfGap = moves?.halfGap ?? []
        let movers = (moves?.movers ?? []).map { Int64($0) }
        let J = movers.count
        let dropRest = J > 0 ? moves!.dropRest : []
        let moverTable = movers.flatMap { k in table[(Int(k) * d)..<(Int(k) * d + d)] }
        let moverSq = movers.map { sq[Int($0)] }
        let width = K * d + K + 5
        let pass = LloydTiles(x: x, d: d, K: K, table: pins.pin(table)!, sq: pins.pin(sq)!, centroids: pins.pin(centroids)!,
                              xnorm2: xn, assign: a, dist2: dist, lower: lower, old: old,
                              drop: pins.pin(drop), dropRest: pins.pin(dropRest), halfGap: pins.pin(halfGap), J: J,
                              movers: pins.pin(movers), moverTable: pins.pin(moverTable), moverSq: pins.pin(moverSq),
                              eta: eta, maxNorm: maxNorm, rho: rho)
        var partial = withExtendedLifetime(pins) {
            shard.sumChunks(width: width) { range, acc in pass.run(range, acc) }
        }
        comm.sum(&partial)
        bounds?.settle(on: centroids)
        let tail = K * d + K
        return AssignmentPass(sums: Array(partial[0..<(K * d)]), counts: Array(partial[(K * d)..<tail]),
                              inertia: partial[tail], reassigned: Int(partial[tail + 1]),
                              recomputed: Int(partial[tail + 2]), nearTies: Int(partial[tail + 3]),
                              moverChecked: Int(partial[tail + 4]), movers: J)
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
