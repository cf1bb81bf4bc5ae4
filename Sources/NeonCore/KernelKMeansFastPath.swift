import Dispatch
import Foundation
import NeonKernels
import NeonSettings

/// NEON for kernel k-means on many samples at once: the network of Prop. 5 with min-take-most
/// (Eq. 2), footnote 1, Eq. 10 (or the conservative rule) and the midpoint rule (Eq. 4), evaluated
/// as two GEMMs per tile of rows: O(M d) per sample instead of the network's O(|C_c| M d).
///
/// The factorization: with h_ijk = d_j - d_i, h_jk = d_j - D_c (D = LME^-gamma of d), footnote 1's
/// weights are exp(gamma h_ijk) / sum_i' exp(gamma h_i'jk) = a_i (softmin_gamma of d_i over C_c) and
/// exp(-gamma h_jk) / sum_j' exp(-gamma h_j'k) = b_j^k (softmin_gamma of d_j over C_k), so
/// R_ijk = a_i b_j R_k, and after Eq. 10 the midpoint rule sums to
///   R_f = sum_k (R_k / h_k) [ 2 x_f (ubar_c - ubar_k)_f - (s_c - s_k)_f ],
///   ubar_k = sum_{C_k} b_j u_j,  s_k = sum_{C_k} b_j u_j^2  (ubar_c, s_c with a_i),
/// k-means' closed form with per-sample soft centroids (h_k -> E_p[h_ijk] = E_b[d_j] - E_a[d_i]
/// for the conservative rule). With x and U shifted by the mean support vector, per tile:
///   GEMM 1   Z = 2 gamma X U^T  (rows x M);  z_j = Z_j - gamma |u_j|^2 = gamma (|x|^2 - d_j)
///   per (row, cluster): P_j = exp(z_j - max) / sum, L_k = gamma (|x|^2 - D_k)  (exact, no underflow)
///   c = argmax L, h_k = (L_c - L_k) / gamma, f_c = min h_k, R_k (Eq. 2), A_k = R_k / h_k,
///   A'_c = -sum_k A_k, W_j = P_j A'_k(j)
///   GEMM 2   Q = W [U | U^2]  (rows x 2d);  R_f = Q_{d+f} - 2 x_f Q_f
/// Tiles are `tileRows` rows relative to the caller's buffer; each tile is computed by the same
/// calls whatever thread runs it (in blocks of `blockRows` rows, a function of the model only, so
/// that a block's rows x M weights fit a fixed scratch budget), so results depend only on a row's tile.
public final class KernelKMeansFastPath<T: KernelScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 256 }
    /// Bytes of the rows x M weight block per thread: blocks of up to tileRows rows are cut to fit.
    public static var scratchBudget: Int { 64 << 20 }

    public let model: KernelKMeansModel
    public let rule: KernelRule
    let K: Int, M: Int, d: Int
    let gamma: Double
    /// Rows per block within a tile (GEMM efficiency grows with it; memory is blockRows x M).
    public let blockRows: Int
    let origin: [T]
    /// [U | U^2] (M x 2d): shifted support vectors sorted by cluster, and their squares.
    let table: UnsafeMutablePointer<T>
    /// gamma |u_j|^2 of the shifted, sorted support vectors.
    let gsq: UnsafeMutablePointer<T>
    /// Cluster k owns sorted rows start[k]..<start[k + 1]; logSize[k] = log |C_k|.
    let start: [Int]
    let logSize: [Double]
    private let scratch: ScratchPool<T>
    private let scratch64: ScratchPool<Double>

    /// blockRows: rows per block within a tile (default: as many as fit scratchBudget, at most tileRows).
    public init(model: KernelKMeansModel, rule: KernelRule = .paper, blockRows: Int? = nil) {
        self.model = model
        self.rule = rule
        K = model.clusters
        M = model.count
        d = model.features
        gamma = model.gamma
        let o = model.meanSupportVector
        origin = o.map { T($0) }
        table = .allocate(capacity: M * 2 * d)
        gsq = .allocate(capacity: M)
        var s = [0], row = 0
        for members in model.members {
            for j in members {
                var q = 0.0
                for f in 0..<d {
                    let u = model.supportVectors[j * d + f] - o[f]
                    table[row * 2 * d + f] = T(u)
                    table[row * 2 * d + d + f] = T(u * u)
                    q += u * u
                }
                gsq[row] = T(model.gamma * q)
                row += 1
            }
            s.append(row)
        }
        start = s
        logSize = model.members.map { log(Double($0.count)) }
        self.blockRows = min(Self.tileRows, max(1, blockRows ?? Self.scratchBudget / (M * MemoryLayout<T>.stride)))
        let n = self.blockRows
        scratch = ScratchPool(sizes: [n * d, n * M, n * 2 * d])
        scratch64 = ScratchPool(sizes: [n * K, n * K, n * K, n * K])
    }

    public var features: Int { d }
    public var clusters: Int { K }

    deinit {
        table.deallocate()
        gsq.deallocate()
    }

    /// FLOPs of the dense GEMM work per sample: 2dM for the logits, 6dM for a full explanation.
    public var logitFlopsPerSample: Double { 2 * Double(d) * Double(M) }
    public var explainFlopsPerSample: Double { 6 * Double(d) * Double(M) }

    /// Assignment (Eq. 6) and logit f_c of `rows` samples: all that beta "auto" (Eq. 3) needs.
    public func logits(_ x: UnsafePointer<T>, rows: Int,
                       assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        logits(x, rows: rows, assignment: assignment, logit: logit, serial: false)
    }

    /// `logits` on the calling thread only (the same tiles and blocks, so the same results).
    func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                logit: UnsafeMutablePointer<Double>, serial: Bool) {
        forEachTile(rows: rows, serial: serial) { r0, n, buf, buf64 in
            self.pool(x + r0 * self.d, rows: n, buf: buf, buf64: buf64, meanZ: false)
            neon_kkm_top2(buf64[0], n, self.K, self.gamma, assignment + r0, logit + r0)
        }
    }

    /// Relevance (rows x d), assignment and logit of `rows` samples, with stiffness beta.
    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        explain(x, rows: rows, beta: beta, relevance: relevance, assignment: assignment, logit: logit, serial: false)
    }

    /// `explain` on the calling thread only (the same tiles and blocks, so the same results).
    func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                 assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>, serial: Bool) {
        let conservative = rule == .conservative
        forEachTile(rows: rows, serial: serial) { r0, n, buf, buf64 in
            let (xs, z, q) = (buf[0], buf[1], buf[2])
            let (l, s, ez, g) = (buf64[0], buf64[1], buf64[2], buf64[3])
            self.pool(x + r0 * self.d, rows: n, buf: buf, buf64: buf64, meanZ: conservative)
            neon_kkm_mtm(l, s, conservative ? ez : nil, n, self.K, self.gamma, beta,
                         assignment + r0, logit + r0, g)
            self.start.withUnsafeBufferPointer {
                T.scaleByCluster(z, rows: n, supportVectors: self.M, clusters: self.K, start: $0.baseAddress!, factors: g)
            }
            T.gemm(m: n, n: 2 * self.d, k: self.M, alpha: 1, a: z, lda: self.M, b: self.table, ldb: 2 * self.d,
                   transposeB: false, beta: 0, c: q, ldc: 2 * self.d)
            T.midpointFinish(relevance + r0 * self.d, x: xs, q: q, rows: n, features: self.d)
        }
    }

    /// buf[0] <- x - origin; GEMM 1 into buf[1], then the per-cluster soft min-pooling:
    /// buf64[0] = L, buf64[1] = S, buf64[2] = EZ (if meanZ).
    private func pool(_ x: UnsafePointer<T>, rows n: Int, buf: [UnsafeMutablePointer<T>],
                      buf64: [UnsafeMutablePointer<Double>], meanZ: Bool) {
        let (xs, z) = (buf[0], buf[1])
        origin.withUnsafeBufferPointer { T.shiftRows(xs, x, origin: $0.baseAddress!, rows: n, features: d) }
        T.gemm(m: n, n: M, k: d, alpha: T(2 * gamma), a: xs, lda: d, b: table, ldb: 2 * d, transposeB: true,
               beta: 0, c: z, ldc: M)
        start.withUnsafeBufferPointer { st in
            logSize.withUnsafeBufferPointer { ls in
                T.softMinPool(z, rows: n, supportVectors: M, clusters: K, start: st.baseAddress!, gammaSquares: gsq,
                              logSize: ls.baseAddress!, lme: buf64[0], sums: buf64[1], meanZ: meanZ ? buf64[2] : nil)
            }
        }
    }

    /// Runs body(firstRow, rows, scratch, scratch64) for every block of every tile, tiles spread
    /// over cores by Dispatch (or run in order on this thread if `serial`). The body only touches
    /// its own block's rows of the caller's buffers.
    private func forEachTile(rows: Int, serial: Bool,
                             _ body: (Int, Int, [UnsafeMutablePointer<T>], [UnsafeMutablePointer<Double>]) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows
            let tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            let pool = scratch, pool64 = scratch64, block = blockRows
            let run = { (t: Int) in
                let r0 = t * tile, r1 = min(rows, r0 + tile)
                let buf = pool.take(), buf64 = pool64.take()
                for b in stride(from: r0, to: r1, by: block) {
                    body(b, min(block, r1 - b), buf, buf64)
                }
                pool.give(buf)
                pool64.give(buf64)
            }
            if serial {
                for t in 0..<tiles { run(t) }
            } else {
                ComputeThreads.forEach(tiles) { run($0) }
            }
        }
    }
}
