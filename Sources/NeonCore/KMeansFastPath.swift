import Dispatch
import Foundation
import NeonKernels

/// NEON for k-means on many samples at once: the network of Prop. 1 with the rules of
/// Eqs. 2 and 4, evaluated as two GEMMs per tile of rows, never a K x d loop per sample.
///
/// With x and the centroids shifted by the mean centroid (translation invariance), per tile:
///   GEMM 1   S = 2 X M^T - |m|^2            (rows x K; s_k = |x|^2 - |x - mu_k|^2)
///   c = argmax_k s_k, f_c = s_c - max_{k!=c} s_k, h_k = s_c - s_k           (Prop. 1)
///   A_k = R_k / h_k with R_k from min-take-most (Eq. 2), A_c = -sum_{k!=c} A_k
///   GEMM 2   Q = A [M | M^2]                (rows x 2d)
///   R_i = Q_{d+i} - 2 x_i Q_i  = sum_k (x_i - m_ik) w_ik R_k / h_k            (Eq. 4)
/// Tiles are `tileRows` rows relative to the caller's buffer; each tile is computed by the
/// same calls whatever thread runs it, so results depend only on a row's tile, never on
/// the number of threads or ranks.
public final class KMeansFastPath<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 256 }

    public let model: KMeansModel
    private let K: Int, d: Int
    private let origin: [T]
    /// [M | M^2] (K x 2d), shifted centroids and their squares.
    private let table: UnsafeMutablePointer<T>
    /// |m_k|^2 of the shifted centroids.
    private let sq: UnsafeMutablePointer<T>
    private let scratch: ScratchPool<T>

    public init(model: KMeansModel) {
        self.model = model
        K = model.clusters
        d = model.features
        let o = model.meanCentroid
        origin = o.map { T($0) }
        table = .allocate(capacity: K * 2 * d)
        sq = .allocate(capacity: K)
        for k in 0..<K {
            var s = 0.0
            for i in 0..<d {
                let m = model.centroids[k * d + i] - o[i]
                table[k * 2 * d + i] = T(m)
                table[k * 2 * d + d + i] = T(m * m)
                s += m * m
            }
            sq[k] = T(s)
        }
        scratch = ScratchPool(sizes: [Self.tileRows * d, Self.tileRows * K, Self.tileRows * 2 * d])
    }

    public var features: Int { d }
    public var clusters: Int { K }
    public var scoresPerRow: Int { K }

    deinit {
        table.deallocate()
        sq.deallocate()
    }

    /// FLOPs of the dense GEMM work per sample: 2dK for the logits, 6dK for a full explanation.
    public var logitFlopsPerSample: Double { 2 * Double(d) * Double(K) }
    public var explainFlopsPerSample: Double { 6 * Double(d) * Double(K) }

    /// Assignment and logit f_c of `rows` samples (row-major, d features): the pass that
    /// beta "auto" (Eq. 3) needs before any relevance can be computed.
    public func logits(_ x: UnsafePointer<T>, rows: Int,
                       assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        forEachTile(rows: rows) { r0, n, buf in
            self.scores(x + r0 * self.d, rows: n, buf: buf)
            T.top2(buf[1], rows: n, clusters: self.K, sq: self.sq, assign: assignment + r0, logit: logit + r0)
        }
    }

    /// Relevance (rows x d), assignment and logit of `rows` samples, with stiffness beta.
    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        forEachTile(rows: rows) { r0, n, buf in
            self.scores(x + r0 * self.d, rows: n, buf: buf)
            self.relevance(xs: buf[0], z: buf[1], q: buf[2], rows: n, beta: beta, relevance: relevance + r0 * self.d,
                           assignment: assignment + r0, logit: logit + r0)
        }
    }

    /// `logits`, also keeping GEMM 1's scores (rows x K) in `scores` for `explain(cachedScores:)`.
    public func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>, keepingScores scores: UnsafeMutablePointer<T>) {
        forEachTile(rows: rows) { r0, n, buf in
            let z = scores + r0 * self.K                    // GEMM 1 straight into the kept rows,
            neon_prefault_write(z, n * self.K * MemoryLayout<T>.stride)     // mapped in one call
            self.scores(x + r0 * self.d, rows: n, buf: buf, into: z)
            T.top2(z, rows: n, clusters: self.K, sq: self.sq, assign: assignment + r0, logit: logit + r0)
        }
    }

    /// `explain` from the scores `logits(keepingScores:)` kept for the same rows (the same tiles,
    /// so the same values): GEMM 1 is skipped, 6dK -> 4dK FLOPs per sample. The scores are
    /// consumed (overwritten by the min-take-most weights).
    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>,
                        cachedScores scores: UnsafeMutablePointer<T>) {
        forEachTile(rows: rows) { r0, n, buf in
            let (xs, z, q) = (buf[0], scores + r0 * self.K, buf[2])
            self.origin.withUnsafeBufferPointer {
                T.shiftRows(xs, x + r0 * self.d, origin: $0.baseAddress!, rows: n, features: self.d)
            }
            self.relevance(xs: xs, z: z, q: q, rows: n, beta: beta, relevance: relevance + r0 * self.d,
                           assignment: assignment + r0, logit: logit + r0)
        }
    }

    /// Eq. 2 on the scores z (in place), GEMM 2 and Eq. 4: relevance of n shifted rows xs.
    private func relevance(xs: UnsafeMutablePointer<T>, z: UnsafeMutablePointer<T>, q: UnsafeMutablePointer<T>, rows n: Int,
                           beta: Double, relevance: UnsafeMutablePointer<T>, assignment: UnsafeMutablePointer<Int64>,
                           logit: UnsafeMutablePointer<Double>) {
        T.minTakesMost(z, rows: n, clusters: K, sq: sq, beta: beta, assign: assignment, logit: logit)
        T.gemm(m: n, n: 2 * d, k: K, alpha: 1, a: z, lda: K, b: table, ldb: 2 * d,
               transposeB: false, beta: 0, c: q, ldc: 2 * d)
        T.midpointFinish(relevance, x: xs, q: q, rows: n, features: d)
    }

    /// buf[0] <- x - origin; `into` (default buf[1]) <- 2 (x - o) M^T.
    private func scores(_ x: UnsafePointer<T>, rows n: Int, buf: [UnsafeMutablePointer<T>],
                        into z: UnsafeMutablePointer<T>? = nil) {
        let xs = buf[0]
        origin.withUnsafeBufferPointer { T.shiftRows(xs, x, origin: $0.baseAddress!, rows: n, features: d) }
        T.gemm(m: n, n: K, k: d, alpha: 2, a: xs, lda: d, b: table, ldb: 2 * d, transposeB: true, beta: 0,
               c: z ?? buf[1], ldc: K)
    }

    /// Runs body(firstRow, rows, scratch) for every tile, tiles spread over cores by Dispatch.
    /// The body only touches its own tile's rows of the caller's buffers.
    private func forEachTile(rows: Int, _ body: (Int, Int, [UnsafeMutablePointer<T>]) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows
            let tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            let pool = scratch
            ComputeThreads.forEach(tiles) { t in
                let r0 = t * tile
                let buf = pool.take()
                body(r0, min(tile, rows - r0), buf)
                pool.give(buf)
            }
        }
    }
}

/// Reusable per-thread scratch buffers (a lock-protected free list).
final class ScratchPool<T>: @unchecked Sendable {
    private let sizes: [Int]
    private var free: [[UnsafeMutablePointer<T>]] = []
    private let lock = NSLock()

    init(sizes: [Int]) { self.sizes = sizes }

    func take() -> [UnsafeMutablePointer<T>] {
        lock.lock()
        if let b = free.popLast() { lock.unlock(); return b }
        lock.unlock()
        return sizes.map { UnsafeMutablePointer<T>.allocate(capacity: max(1, $0)) }
    }

    func give(_ b: [UnsafeMutablePointer<T>]) {
        lock.lock()
        free.append(b)
        lock.unlock()
    }

    deinit { for b in free { for p in b { p.deallocate() } } }
}
