import Foundation

/// Settings of the kernel k-means training of the supplement's Appendix F.
public struct KernelKMeansFitSettings: Sendable {
    public var clusters: Int
    /// Support vectors (mixture components) per cluster, the same for every cluster (Eq. 34).
    public var perCluster: Int = 10
    /// Restarts of the whole procedure; the lowest objective (Eq. 36) wins (the paper: 10).
    public var restarts: Int = 10
    /// EM iterations per restart (the paper: 100, no other stopping rule).
    public var iterations: Int = 100
    public var seed: UInt64 = 0
    /// Standard deviation of the Gaussian noise added to every support vector before each
    /// E-step, relative to the data's root-mean-square feature standard deviation (0: none).
    public var noise: Double = 1e-6
    /// Added to the right-hand side of the gamma update before inverting it (Eq. 38; the paper: 1e-9).
    public var epsilon: Double = 1e-9

    public init(clusters: Int, perCluster: Int = 10, restarts: Int = 10, iterations: Int = 100, seed: UInt64 = 0,
                noise: Double = 1e-6) {
        self.clusters = clusters
        self.perCluster = perCluster
        self.restarts = restarts
        self.iterations = iterations
        self.seed = seed
        self.noise = noise
    }
}

public struct KernelKMeansFitResult: Sendable {
    /// M x d support vectors (fit space), cluster k owning rows k*m ..< (k+1)*m.
    public let supportVectors: [Double]
    public let supportCluster: [Int]
    public let gamma: Double
    /// Eq. 36 of the final model with its own (E-step) assignment.
    public let objective: Double
    public let restart: Int
    /// Eq. 36 at each iteration's E-step of the winning restart, then the final value.
    public let history: [Double]
}

/// Kernel k-means training (supplement Appendix F) on sharded rows. Each cluster k is an
/// equal-weight mixture of m tied isotropic Gaussians (Eq. 34); the objective is
///   L = sum_n gamma LME^-gamma_{j in C_c(n)} |x_n - u_j|^2 - (N d / 2) log gamma      (Eq. 36).
/// EM-style alternation: E-step = hard assignment to the cluster of largest likelihood (the
/// smallest soft-min distance, Eq. 6) and the in-cluster soft-max weights K_nj; M-step =
/// u_j <- sum_n K_nj x_n / sum_n K_nj (Eq. 37) and gamma <- (2/(N d) sum K_nj |x_n - u_j|^2 + eps)^-1
/// (Eq. 38, with the new u_j). Per tile, the distances are one GEMM (X U^T) and the weighted sums
/// another (K^T X); each rank's float64 partial sums are reduced with one allreduce per iteration.
public final class KernelKMeansFitter<T: NeonScalar> {
    let shard: FitShard<T>
    let comm: FitCollectives
    let settings: KernelKMeansFitSettings
    let noiseScale: Double
    let K: Int, m: Int, M: Int, d: Int
    /// |x_n|^2 per row (float64).
    let sqNorm: UnsafeMutablePointer<Double>
    /// The current cluster of each row.
    public let assignment: UnsafeMutablePointer<Int64>

    /// rmsStd: the root-mean-square per-feature standard deviation of the data (noise scale).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public init(shard: FitShard<T>, collectives: FitCollectives, settings: KernelKMeansFitSettings, rmsStd: Double) {
        self.shard = shard
        comm = collectives
        self.settings = settings
        noiseScale = settings.noise * rmsStd
        K = settings.clusters
        m = settings.perCluster
        M = K * m
        d = shard.features
        sqNorm = .allocate(capacity: max(1, shard.rows))
        assignment = .allocate(capacity: max(1, shard.rows))
        for n in 0..<shard.rows {
            var s = 0.0
            for i in 0..<d { let v = Double(shard.x[n * d + i]); s += v * v }
            sqNorm[n] = s
        }
    }

    deinit {
        sqNorm.deallocate()
        assignment.deallocate()
    }

    public var supportCluster: [Int] { (0..<M).map { $0 / m } }

    /// Trains from an initial assignment of every row (`initial`: this rank's rows, clusters
    /// 0..<K, e.g. from k-means or given labels) and a sample of rows with their initial clusters
    /// on rank 0. Each restart draws the support vectors of cluster k from the sample rows of
    /// cluster k (repeating them when there are fewer than m; the cluster mean when there are
    /// none); gamma starts from Eq. 38 with one Gaussian per cluster at its mean. The first E-step
    /// keeps the initial assignment.
    public func fit(initial: UnsafePointer<Int64>, sampleRows: [Double], sampleClusters: [Int],
                    progress: (FitProgress) -> Void = { _ in }) -> KernelKMeansFitResult {
        let (means, spread) = clusterMeans(initial)
        let N = Double(shard.totalRows), Nd = N * Double(d)
        let gamma0 = spread > 0 ? 1 / (2 * spread / Nd + settings.epsilon) : 1
        var best: KernelKMeansFitResult?
        for r in 0..<max(1, settings.restarts) {
            var u = [Double](repeating: 0, count: M * d)
            if comm.isRoot {
                var rng = SplitMix64(seed: mixSeed(settings.seed, r, 2))
                for k in 0..<K {
                    var members = sampleClusters.indices.filter { sampleClusters[$0] == k }
                    members.shuffle(using: &rng)
                    for i in 0..<m {
                        let j = k * m + i
                        for f in 0..<d {
                            u[j * d + f] = members.isEmpty ? means[k * d + f]
                                : sampleRows[members[i % members.count] * d + f]
                        }
                    }
                }
            }
            comm.broadcastFromRoot(&u)
            let result = train(u: u, gamma: gamma0, initial: initial, restart: r, progress: progress)
            if best == nil || result.objective < best!.objective { best = result }
        }
        _ = eStep(u: best!.supportVectors, gamma: best!.gamma, forced: nil, previous: false)
        return best!
    }

    /// EM iterations from support vectors u and gamma.
    public func train(u initialU: [Double], gamma initialGamma: Double, initial: UnsafePointer<Int64>?,
                      restart: Int = 0, progress: (FitProgress) -> Void = { _ in }) -> KernelKMeansFitResult {
        var u = initialU, gamma = initialGamma
        var history: [Double] = []
        let Nd = Double(shard.totalRows) * Double(d)
        var lastL = Double.nan
        for t in 0..<max(1, settings.iterations) {
            if noiseScale > 0 {
                var rng = SplitMix64(seed: mixSeed(settings.seed, restart, 1000 + t))
                for i in 0..<u.count { u[i] += noiseScale * rng.normal() }
            }
            let e = eStep(u: u, gamma: gamma, forced: t == 0 ? initial : nil, previous: t > 0)
            let L = e.objective
            history.append(L)
            // M-step: Eq. 37, then Eq. 38 with the new support vectors:
            // sum_n K_nj |x_n - u_j|^2 = Q_j - |S_j|^2 / W_j for u_j = S_j / W_j.
            var spread = 0.0
            for j in 0..<M where e.weights[j] > 0 {
                var s2 = 0.0
                for f in 0..<d {
                    let s = e.sums[j * d + f]
                    u[j * d + f] = s / e.weights[j]
                    s2 += s * s
                }
                spread += e.weighted[j] - s2 / e.weights[j]
            }
            gamma = 1 / (2 * max(spread, 0) / Nd + settings.epsilon)
            progress(FitProgress(restart: restart, iteration: t + 1, objective: L,
                                 change: lastL.isNaN ? .nan : abs(L - lastL) / max(abs(L), 1e-300),
                                 reassigned: e.reassigned))
            lastL = L
        }
        let final = eStep(u: u, gamma: gamma, forced: nil, previous: false)
        history.append(final.objective)
        return KernelKMeansFitResult(supportVectors: u, supportCluster: supportCluster, gamma: gamma,
                                     objective: final.objective, restart: restart, history: history)
    }

    /// Per-cluster means of an assignment and sum_n |x_n - mean_c(n)|^2 (collective).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func clusterMeans(_ a: UnsafePointer<Int64>) -> (means: [Double], spread: Double) {
        let (K, d, x) = (K, d, shard.x)
        var p = shard.sumChunks(width: K * d + K) { range, acc in
            for n in range {
                let k = Int(a[n])
                for f in 0..<d { acc[k * d + f] += Double(x[n * d + f]) }
                acc[K * d + k] += 1
            }
        }
        comm.sum(&p)
        var means = [Double](repeating: 0, count: K * d)
        for k in 0..<K where p[K * d + k] > 0 {
            for f in 0..<d { means[k * d + f] = p[k * d + f] / p[K * d + k] }
        }
        var s = means.withUnsafeBufferPointer { mb in
            shard.sumChunks(width: 1) { range, acc in
                for n in range {
                    let mu = mb.baseAddress! + Int(a[n]) * d
                    for f in 0..<d { let v = Double(x[n * d + f]) - mu[f]; acc[0] += v * v }
                }
            }
        }
        comm.sum(&s)
        return (means, s[0])
    }

    public struct EStep {
        /// S_j = sum_n K_nj x_n (M x d), W_j = sum_n K_nj, Q_j = sum_n K_nj |x_n|^2.
        public let sums: [Double]
        public let weights: [Double]
        public let weighted: [Double]
        /// Eq. 36 for (u, gamma) and this assignment.
        public let objective: Double
        public let reassigned: Int
    }

    /// The E-step over the shard (collective): assignment (or `forced`), weights K_nj, the
    /// M-step's sums, and the objective.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func eStep(u: [Double], gamma: Double, forced: UnsafePointer<Int64>?, previous: Bool) -> EStep {
        let (K, m, M, d) = (K, m, M, d)
        let tile = FitShard<T>.tileRows
        let ut = u.map { T($0) }
        var usq = [Double](repeating: 0, count: M)
        for j in 0..<M { for f in 0..<d { usq[j] += u[j * d + f] * u[j * d + f] } }
        let logm = log(Double(m))
        let width = M * d + 2 * M + 2
        let (x, sq, a) = (shard.x, sqNorm, assignment)
        var p = ut.withUnsafeBufferPointer { ub in
            usq.withUnsafeBufferPointer { qb in
                shard.sumChunks(width: width) { range, acc in
                    let g = UnsafeMutablePointer<T>.allocate(capacity: tile * M)
                    let rt = UnsafeMutablePointer<T>.allocate(capacity: M * tile)
                    let su = UnsafeMutablePointer<T>.allocate(capacity: M * d)
                    var dist = [Double](repeating: 0, count: M)
                    var soft = [Double](repeating: 0, count: K)
                    var lo = [Double](repeating: 0, count: K)
                    var sums = [Double](repeating: 0, count: K)
                    defer { g.deallocate(); rt.deallocate(); su.deallocate() }
                    var r0 = range.lowerBound
                    while r0 < range.upperBound {
                        let rows = min(tile, range.upperBound - r0)
                        let xt = x + r0 * d
                        T.gemm(m: rows, n: M, k: d, alpha: 1, a: xt, lda: d, b: ub.baseAddress!, ldb: d,
                               transposeB: true, beta: 0, c: g, ldc: M)
                        rt.update(repeating: 0, count: M * rows)
                        for i in 0..<rows {
                            let n = r0 + i
                            for j in 0..<M { dist[j] = max(0, sq[n] - 2 * Double(g[i * M + j]) + qb[j]) }
                            // D_k = LME^-gamma over C_k (Eq. 7), computed from the cluster's minimum.
                            var c = 0
                            for k in 0..<K {
                                var mn = Double.infinity
                                for j in (k * m)..<((k + 1) * m) where dist[j] < mn { mn = dist[j] }
                                var s = 0.0
                                for j in (k * m)..<((k + 1) * m) { s += exp(-gamma * (dist[j] - mn)) }
                                lo[k] = mn
                                sums[k] = s
                                soft[k] = mn - (log(s) - logm) / gamma
                                if soft[k] < soft[c] { c = k }
                            }
                            if let f = forced { c = Int(f[n]) }
                            if previous && a[n] != Int64(c) { acc[M * d + 2 * M + 1] += 1 }
                            a[n] = Int64(c)
                            acc[M * d + 2 * M] += gamma * soft[c]
                            for j in (c * m)..<((c + 1) * m) {
                                let w = exp(-gamma * (dist[j] - lo[c])) / sums[c]
                                rt[j * rows + i] = T(w)
                                acc[M * d + j] += w
                                acc[M * d + M + j] += w * sq[n]
                            }
                        }
                        // S += K^T X for this tile (M x d).
                        T.gemm(m: M, n: d, k: rows, alpha: 1, a: rt, lda: rows, b: xt, ldb: d,
                               transposeB: false, beta: 0, c: su, ldc: d)
                        for i in 0..<(M * d) { acc[i] += Double(su[i]) }
                        r0 += rows
                    }
                }
            }
        }
        comm.sum(&p)
        let Nd = Double(shard.totalRows) * Double(d)
        return EStep(sums: Array(p[0..<(M * d)]), weights: Array(p[(M * d)..<(M * d + M)]),
                     weighted: Array(p[(M * d + M)..<(M * d + 2 * M)]),
                     objective: p[M * d + 2 * M] - Nd / 2 * log(gamma), reassigned: Int(p[M * d + 2 * M + 1]))
    }
}
