import Dispatch
import Foundation
import NeonKernels
import NeonSettings

/// NEON for kernel k-means evaluating only the pooling paths the output can be sensitive to
/// (explain.pruning; the bound and its derivation: KernelPruningBound). Per tile of rows:
///   1. |x - mu_k| for every cluster centre (one rows x K GEMM), the bounds lo_k, U per row;
///   2. each row selects its clusters (lo_k <= U + log(1/eps) / beta; margin 0 for the logits);
///   3. forward: per cluster, the dot products of the rows that selected it with its support
///      vectors (their d_j for j in C_k), the soft min-pooling (Eq. 7) as in the dense path;
///   4. per row: c, f_c (exact), min-take-most (Eq. 2) renormalised over the competitors kept for
///      the relevance pass, Eq. 10 (or the conservative rule), the bound;
///   5. relevance: per cluster, the kept rows' footnote-1 weights times [U_k | U_k^2] accumulated
///      into each row in cluster order, then the midpoint rule (Eq. 4) as in the dense path.
/// The products of 3 and 5 are small (a few dozen rows per cluster and tile): vectorised C kernels
/// on the rows in place (NeonKernelPruning.h) run them as fast as BLAS did with its packing,
/// gathering and scattering, and compute every entry by the same operations whatever the other
/// rows, so a row's results depend on that row only (and on whether its tile ran the dense path).
/// A tile whose rows would evaluate more than `denseAbove` of the rows x M paths (or more than
/// `arenaBudget` bytes of weights) runs the dense fast path on the same rows instead, which gives
/// exactly the unpruned results (tiles are a multiple of the dense path's tiles, so its blocks
/// are the same).
public final class KernelKMeansPrunedPath<T: KernelScalar>: ExplainerEngine, PruningReporting, @unchecked Sendable {
    public typealias Scalar = T
    /// Rows per tile: more rows per tile give more rows per cluster in each product (CPU time of an
    /// explain pass at K = 1000, p = 50, d = 256, 2% kept, with BLAS GEMMs: 1024 rows 1.38 s, 2048
    /// 1.12 s, 4096 1.10 s). Memory per worker thread: about 12 tileRows K bytes of centre
    /// distances (24 MB at K = 1000).
    public static var tileRows: Int { 2048 }
    /// The fraction of the rows x M paths above which a tile runs the dense path.
    public static var denseAbove: Double { 0.5 }
    /// Bytes of kept footnote-1 weights per tile (the arena): a tile that would need more runs
    /// the dense path (whose own scratch is bounded likewise).
    public static var arenaBudget: Int { 64 << 20 }

    public let dense: KernelKMeansFastPath<T>
    public let bound: KernelPruningBound
    public var model: KernelKMeansModel { dense.model }
    public var rule: KernelRule { dense.rule }
    public var tolerance: Double { bound.tolerance }
    public var features: Int { dense.d }
    public var clusters: Int { dense.K }
    /// The dense path's FLOPs (the work pruning saves is in `statistics`).
    public var logitFlopsPerSample: Double { dense.logitFlopsPerSample }
    public var explainFlopsPerSample: Double { dense.explainFlopsPerSample }

    private let centres: UnsafeMutablePointer<T>
    private let owned: [UnsafeMutablePointer<Double>]
    private let startC: UnsafeMutablePointer<Int>
    private let logSizeC: UnsafeMutablePointer<Double>
    private let spec: neon_kkp_model
    private let pool: PrunedScratchPool<T>
    private let lock = NSLock()
    private var explainStats = KernelPruningStatistics()
    private var logitStats = KernelPruningStatistics()

    public init(model: KernelKMeansModel, rule: KernelRule = .paper, tolerance: Double) {
        let fast = KernelKMeansFastPath<T>(model: model, rule: rule)
        dense = fast
        let b = KernelPruningBound(model: model, origin: model.meanSupportVector, tolerance: tolerance)
        bound = b
        let (K, d) = (model.clusters, model.features)
        centres = .allocate(capacity: K * d)
        for i in 0..<(K * d) { centres[i] = T(b.centres[i]) }
        func copy(_ a: [Double]) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, a.count))
            p.initialize(from: a, count: a.count)
            return p
        }
        let arrays = [copy(b.centreSq), copy(b.radius), copy(b.meanSq)]
        owned = arrays
        startC = .allocate(capacity: K + 1)
        startC.initialize(from: fast.start, count: K + 1)
        logSizeC = copy(fast.logSize)
        spec = neon_kkp_model(K: K, start: UnsafePointer(startC), centreSq: UnsafePointer(arrays[0]),
                              radius: UnsafePointer(arrays[1]), meanSq: UnsafePointer(arrays[2]), gamma: model.gamma,
                              slack: KernelPruningBound.slack(T.self, features: d), maxSq: b.maxSq)
        let largest = zip(fast.start.dropFirst(), fast.start).map { $0 - $1 }.max()!
        pool = PrunedScratchPool(rows: Self.tileRows, features: d, clusters: K, largestCluster: largest)
    }

    deinit {
        centres.deallocate()
        owned.forEach { $0.deallocate() }
        startC.deallocate()
        logSizeC.deallocate()
    }

    /// Figures of the explain passes (or of the logits passes) since the last reset.
    public func statistics(logits: Bool = false) -> KernelPruningStatistics {
        lock.lock()
        defer { lock.unlock() }
        return logits ? logitStats : explainStats
    }

    public func resetStatistics() {
        lock.lock()
        explainStats = KernelPruningStatistics()
        logitStats = KernelPruningStatistics()
        lock.unlock()
    }

    public func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>) {
        forEachTile(rows: rows, logits: true) { r0, n, s in
            self.tile(x + r0 * self.dense.d, rows: n, beta: nil, relevance: nil, assignment: assignment + r0,
                      logit: logit + r0, bounds: nil, s)
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        explain(x, rows: rows, beta: beta, relevance: relevance, assignment: assignment, logit: logit, bounds: nil)
    }

    /// `explain`, and per row the certified bound on |R_pruned - R_unpruned|_1 / |f_c|
    /// (KernelPruningBound; 0 for rows with f_c <= 0 and rows of tiles that ran the dense path).
    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>,
                        bounds: UnsafeMutablePointer<Double>?) {
        nonisolated(unsafe) let bounds = bounds
        forEachTile(rows: rows, logits: false) { r0, n, s in
            self.tile(x + r0 * self.dense.d, rows: n, beta: beta, relevance: relevance + r0 * self.dense.d,
                      assignment: assignment + r0, logit: logit + r0, bounds: bounds.map { $0 + r0 }, s)
        }
    }

    private func forEachTile(rows: Int, logits: Bool,
                             _ body: (Int, Int, PrunedScratch<T>) -> KernelPruningStatistics) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows
            let tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            ComputeThreads.forEach(tiles) { t in
                let r0 = t * tile
                let s = self.pool.take()
                let st = body(r0, min(tile, rows - r0), s)
                self.pool.give(s)
                self.lock.lock()
                if logits { self.logitStats.add(st) } else { self.explainStats.add(st) }
                self.lock.unlock()
            }
        }
    }

    /// One tile: logits only (beta nil) or the explanation.
    private func tile(_ x: UnsafePointer<T>, rows n: Int, beta: Double?, relevance: UnsafeMutablePointer<T>?,
                      assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>,
                      bounds: UnsafeMutablePointer<Double>?, _ s: PrunedScratch<T>) -> KernelPruningStatistics {
        let (d, K, M) = (dense.d, dense.K, dense.M)
        let kernels = T.pruningKernels
        var st = KernelPruningStatistics()
        st.rows = n
        st.paths = n * M
        // 1. shifted rows, |x|^2, |x - mu_k|^2
        dense.origin.withUnsafeBufferPointer { T.shiftRows(s.xs, x, origin: $0.baseAddress!, rows: n, features: d) }
        kernels.sqnorm(s.xs, n, d, s.sqx)
        T.gemm(m: n, n: K, k: d, alpha: 1, a: s.xs, lda: d, b: centres, ldb: d, transposeB: true, beta: 0,
               c: s.c0, ldc: K)
        kernels.centreDistances(s.c0, n, K, s.sqx, spec.centreSq, s.cd2)
        // 2. each row's clusters
        let margin = beta.map { bound.margin(beta: $0) } ?? 0
        let evaluated = withUnsafePointer(to: spec) { neon_kkp_count($0, s.cd2, s.sqx, n, margin, s.root, s.rowStart) }
        if Double(evaluated) > Self.denseAbove * Double(n * M)
            || evaluated * MemoryLayout<T>.stride > Self.arenaBudget {
            if let beta, let relevance {
                dense.explain(x, rows: n, beta: beta, relevance: relevance, assignment: assignment, logit: logit,
                              serial: true)
                st.relevancePaths = n * M
                bounds?.update(repeating: 0, count: n)
            } else {
                dense.logits(x, rows: n, assignment: assignment, logit: logit, serial: true)
            }
            st.forwardPaths = n * M
            st.denseRows = n
            return st
        }
        st.forwardPaths = evaluated
        s.reservePairs(s.rowStart[n])
        withUnsafePointer(to: spec) { neon_kkp_fill($0, s.cd2, s.sqx, n, s.root, s.pairCluster, s.pairOffset) }
        // 3. forward, cluster by cluster
        let explaining = relevance != nil
        let arena = explaining ? s.arena(evaluated) : nil
        neon_kkp_by_cluster(s.pairCluster, s.rowStart, n, K, nil, s.clusterStart, s.order, s.orderRow)
        let g = dense.gamma
        for k in 0..<K {
            let i0 = s.clusterStart[k], count = s.clusterStart[k + 1] - i0
            guard count > 0 else { continue }
            let j0 = dense.start[k], p = dense.start[k + 1] - j0
            kernels.dots(s.xs, d, s.orderRow + i0, count, dense.table + j0 * 2 * d, 2 * d, p, T(2 * g), s.zg)
            s.local[1] = p
            T.softMinPool(s.zg, rows: count, supportVectors: p, clusters: 1, start: s.local, gammaSquares: dense.gsq + j0,
                          logSize: logSizeC + k, lme: s.lg, sums: s.sg, meanZ: explaining ? s.ezg : nil)
            kernels.store(s.zg, count, p, s.order + i0, s.lg, s.sg, explaining ? s.ezg : nil, s.L, s.S,
                          explaining ? s.EZ : nil, s.pairOffset, arena)
        }
        guard let beta, let relevance else {
            neon_kkp_top2(s.pairCluster, s.rowStart, s.L, n, g, assignment, logit)
            return st
        }
        // 4. min-take-most over the kept competitors, the bound
        withUnsafePointer(to: spec) {
            neon_kkp_mtm($0, n, s.pairCluster, s.rowStart, s.L, s.S, s.EZ, s.cd2, s.sqx, beta, tolerance,
                         rule == .conservative ? 1 : 0, assignment, logit, s.G, s.keep, s.bound, s.keptSV, s.scratchK)
        }
        // 5. relevance, cluster by cluster, accumulated per row in cluster order
        neon_kkp_by_cluster(s.pairCluster, s.rowStart, n, K, s.keep, s.clusterStart, s.order, s.orderRow)
        s.q.update(repeating: 0, count: n * 2 * d)
        for k in 0..<K {
            let i0 = s.clusterStart[k], count = s.clusterStart[k + 1] - i0
            guard count > 0 else { continue }
            let j0 = dense.start[k], p = dense.start[k + 1] - j0
            kernels.accumulate(arena!, s.pairOffset, s.G, s.order + i0, s.orderRow + i0, count, p,
                               dense.table + j0 * 2 * d, 2 * d, 2 * d, s.q, s.zg)
        }
        T.midpointFinish(relevance, x: s.xs, q: s.q, rows: n, features: d)
        bounds?.update(from: s.bound, count: n)
        for r in 0..<n {
            st.relevancePaths += s.keptSV[r]
            if logit[r] > 0 {
                st.maxBound = max(st.maxBound, s.bound[r])
                st.sumBound += s.bound[r]
            }
        }
        return st
    }
}

/// One worker's buffers for a tile of up to `rows` rows; the per-pair arrays and the arena grow
/// as tiles need them (and are kept for the next tile).
final class PrunedScratch<T>: @unchecked Sendable {
    let xs, c0, zg, q: UnsafeMutablePointer<T>
    let sqx, cd2, root, lg, sg, ezg, bound, scratchK: UnsafeMutablePointer<Double>
    let rowStart, clusterStart, keptSV, local: UnsafeMutablePointer<Int>
    private var fixed: [UnsafeMutableRawPointer] = []
    // per pair
    private(set) var pairCluster, order, orderRow: UnsafeMutablePointer<Int32>
    private(set) var pairOffset: UnsafeMutablePointer<Int>
    private(set) var L, S, EZ, G: UnsafeMutablePointer<Double>
    private(set) var keep: UnsafeMutablePointer<UInt8>
    private var pairCapacity = 0
    private var arenaBuffer: UnsafeMutablePointer<T>?
    private var arenaCapacity = 0

    init(rows n: Int, features d: Int, clusters K: Int, largestCluster p: Int) {
        var fixed: [UnsafeMutableRawPointer] = []
        func make<U>(_ count: Int, _: U.Type = U.self) -> UnsafeMutablePointer<U> {
            let ptr = UnsafeMutablePointer<U>.allocate(capacity: max(1, count))
            fixed.append(UnsafeMutableRawPointer(ptr))
            return ptr
        }
        xs = make(n * d); c0 = make(n * K); zg = make(max(n, 4) * p); q = make(n * 2 * d)
        sqx = make(n); cd2 = make(n * K); root = make(n)
        lg = make(n); sg = make(n); ezg = make(n); bound = make(n); scratchK = make(K)
        rowStart = make(n + 1); clusterStart = make(K + 1); keptSV = make(n)
        local = make(2)
        local[0] = 0
        self.fixed = fixed
        (pairCluster, order, orderRow) = (.allocate(capacity: 1), .allocate(capacity: 1), .allocate(capacity: 1))
        pairOffset = .allocate(capacity: 1)
        (L, S, EZ, G) = (.allocate(capacity: 1), .allocate(capacity: 1), .allocate(capacity: 1), .allocate(capacity: 1))
        keep = .allocate(capacity: 1)
    }

    /// Room for `count` pairs.
    func reservePairs(_ count: Int) {
        guard count > pairCapacity else { return }
        freePairs()
        let c = max(count, pairCapacity * 3 / 2)
        pairCapacity = c
        (pairCluster, order, orderRow) = (.allocate(capacity: c), .allocate(capacity: c), .allocate(capacity: c))
        pairOffset = .allocate(capacity: c + 1)
        (L, S, EZ, G) = (.allocate(capacity: c), .allocate(capacity: c), .allocate(capacity: c), .allocate(capacity: c))
        keep = .allocate(capacity: c)
    }

    private func freePairs() {
        [pairCluster, order, orderRow].forEach { $0.deallocate() }
        pairOffset.deallocate()
        [L, S, EZ, G].forEach { $0.deallocate() }
        keep.deallocate()
    }

    /// The kept weights of a tile: `count` values.
    func arena(_ count: Int) -> UnsafeMutablePointer<T> {
        if count > arenaCapacity {
            arenaBuffer?.deallocate()
            arenaCapacity = max(count, arenaCapacity * 3 / 2)
            arenaBuffer = .allocate(capacity: arenaCapacity)
        }
        return arenaBuffer!
    }

    deinit {
        fixed.forEach { $0.deallocate() }
        freePairs()
        arenaBuffer?.deallocate()
    }
}

/// Reusable per-worker scratch (taken and given back per tile).
final class PrunedScratchPool<T>: @unchecked Sendable {
    private let make: () -> PrunedScratch<T>
    private var free: [PrunedScratch<T>] = []
    private let lock = NSLock()

    init(rows: Int, features: Int, clusters: Int, largestCluster: Int) {
        make = { PrunedScratch(rows: rows, features: features, clusters: clusters, largestCluster: largestCluster) }
    }

    func take() -> PrunedScratch<T> {
        lock.lock()
        if let s = free.popLast() { lock.unlock(); return s }
        lock.unlock()
        return make()
    }

    func give(_ s: PrunedScratch<T>) {
        lock.lock()
        free.append(s)
        lock.unlock()
    }
}
