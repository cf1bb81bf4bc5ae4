import Dispatch
import Foundation

/// The clustering head (ClusterHead) on many rows at once: two GEMMs per tile, as the k-means
/// fast path, for any number of target clusters per row. With a and the centroids shifted by the
/// mean centroid (distance logits; dot and affine logits are not shifted):
///   GEMM 1   Z = A M^T;  z_k = tau (2 Z_k - |m_k|^2) (distance), Z_k (dot) or Z_k + b_k (affine)
///   per (row, target c): h_k = z_c - z_k + b0, f_c (min or LME^-1), coefficients
///     alpha_k = R_k / h_k (relative, Eq. 2) or p_k (absolute, after R_k <- R_k h_k / f_c),
///     beta_k = (b0 + b_c - b_k) alpha_k / |mu_c - mu_k|^2 (the roots' shift onto h_k = 0, absolute
///     mode or a bias), alpha_c = -sum alpha, beta_c = -sum beta
///   GEMM 2   Q = [alpha; beta] [M | M^2]
///   R_i = tau Q^alpha_{D+i} - s a_i Q^alpha_i + Q^beta_{D+i} - 2 mu_ci Q^beta_i
///       = sum_{k != c} (a_i - r_ik) w_ik R_k / h_k        (midpoint rule, Eq. 4, roots of NeuralizedHead)
/// where the beta terms are sum_k beta_k (mu_c - mu_k)_i^2 = -sum_k (r_ik - r0_ik) w_ik alpha_k.
/// Results for a row depend only on that row.
public final class HeadFastPath<T: NeonScalar>: @unchecked Sendable {
    public let head: ClusterHead
    public let targets: [Int?]
    let K: Int, D: Int
    private let origin: [T]
    private let table: [T]        // K x 2D: [M | M^2]
    private let shifted: [Double] // K x D, shifted centroids
    private let sq: [Double]      // |m_k|^2
    private let gram: [Double]    // |mu_c - mu_k|^2 (shifted roots only)
    /// The affine logits' bias, nil when there is none or it is all zero (then exactly `.dot`).
    private let bias: [Double]?
    private let tau: Double, isDistance: Bool, b0: Double, absolute: Bool
    /// Whether the roots leave 0 / the midpoints (absolute mode or a bias): the beta GEMM rows.
    private let shiftsRoots: Bool
    /// (row, target) pairs per coefficient GEMM (bounds the scratch memory).
    static var pairChunk: Int { 128 }

    public init(head: ClusterHead, targets: [Int?] = [nil]) {
        self.head = head
        self.targets = targets
        K = head.clusters
        D = head.features
        switch head.logits {
        case .distance(let t): (tau, isDistance) = (t, true)
        case .dot, .affine: (tau, isDistance) = (1, false)
        }
        bias = head.logitBias.flatMap { b in b.contains { $0 != 0 } ? b : nil }
        b0 = head.offset
        if case .absolute = head.mode { absolute = true } else { absolute = false }
        shiftsRoots = absolute || bias != nil
        var o = [Double](repeating: 0, count: D)
        if isDistance {
            for k in 0..<K { for i in 0..<D { o[i] += head.centroids[k * D + i] / Double(K) } }
        }
        origin = o.map { T($0) }
        var sh = [Double](repeating: 0, count: K * D), tb = [T](repeating: 0, count: K * 2 * D), s = [Double](repeating: 0, count: K)
        for k in 0..<K {
            for i in 0..<D {
                let m = head.centroids[k * D + i] - o[i]
                sh[k * D + i] = m
                tb[k * 2 * D + i] = T(m)
                tb[k * 2 * D + D + i] = T(m * m)
                s[k] += m * m
            }
        }
        shifted = sh
        table = tb
        sq = s
        var g = [Double]()
        if shiftsRoots {
            g = [Double](repeating: 0, count: K * K)
            for c in 0..<K {
                for k in 0..<K where k > c {
                    var acc = 0.0
                    for i in 0..<D { let d = sh[c * D + i] - sh[k * D + i]; acc += d * d }
                    g[c * K + k] = acc
                    g[k * K + c] = acc
                }
            }
        }
        gram = g
    }

    public var targetCount: Int { targets.count }

    /// Scratch sizes (in T) for a tile of n rows: xs, Z, coefficients, Q.
    func scratchSizes(rows n: Int) -> [Int] {
        let pairs = min(Self.pairChunk, n * targets.count)
        return [n * D, n * K, 2 * pairs * K, 2 * pairs * 2 * D]
    }

    /// Logits z (Double) of row r of the GEMM output.
    @inline(__always)
    private func logit(_ z: UnsafePointer<T>, _ k: Int) -> Double {
        if isDistance { return tau * (2 * Double(z[k]) - sq[k]) }
        if let b = bias { return Double(z[k]) + b[k] }
        return Double(z[k])
    }

    /// Assignment and the assigned cluster's f_c for n rows of a (n x D).
    func logits(_ a: UnsafePointer<T>, rows n: Int, buf: [UnsafeMutablePointer<T>],
                assignment: UnsafeMutablePointer<Int64>, logit out: UnsafeMutablePointer<Double>) {
        scores(a, rows: n, buf: buf)
        var z = [Double](repeating: 0, count: K), h = [Double](repeating: 0, count: K)
        for r in 0..<n {
            let c = fill(&z, buf[1] + r * K)
            assignment[r] = Int64(c)
            out[r] = pooled(z, c, &h).f
        }
    }

    /// Relevance (n x T x D), assignment (n) and f_c per target (n x T) for n rows of a.
    func explain(_ a: UnsafePointer<T>, rows n: Int, beta: Double, buf: [UnsafeMutablePointer<T>],
                 relevance: UnsafeMutablePointer<T>, assignment: UnsafeMutablePointer<Int64>,
                 logit out: UnsafeMutablePointer<Double>) {
        scores(a, rows: n, buf: buf)
        let (xs, zt, coef, q) = (buf[0], buf[1], buf[2], buf[3])
        let T_ = targets.count, pairs = n * T_, chunk = Self.pairChunk
        var z = [Double](repeating: 0, count: K), h = [Double](repeating: 0, count: K)
        var assigned = [Int](repeating: 0, count: n)
        for r in 0..<n {
            assigned[r] = fill(&z, zt + r * K)
            assignment[r] = Int64(assigned[r])
        }
        var p0 = 0
        while p0 < pairs {
            let cnt = min(chunk, pairs - p0)
            let rowsCoef = shiftsRoots ? 2 * cnt : cnt
            var cls = [Int](repeating: 0, count: cnt)
            for j in 0..<cnt {
                let p = p0 + j, r = p / T_, c = targets[p % T_] ?? assigned[r]
                cls[j] = c
                _ = fill(&z, zt + r * K)
                let pool = pooled(z, c, &h)
                out[p] = pool.f
                coefficients(h: h, c: c, f: pool.f, min: pool.min, beta: beta, alpha: coef + j * K,
                             beta: shiftsRoots ? coef + (cnt + j) * K : nil)
            }
            table.withUnsafeBufferPointer {
                T.gemm(m: rowsCoef, n: 2 * D, k: K, alpha: 1, a: coef, lda: K, b: $0.baseAddress!, ldb: 2 * D,
                       transposeB: false, beta: 0, c: q, ldc: 2 * D)
            }
            let ta = T(tau), sa = T(isDistance ? 2 * tau : 1)
            for j in 0..<cnt {
                let p = p0 + j, r = p / T_
                let qa = q + j * 2 * D, x = xs + r * D, dst = relevance + p * D
                if isDistance {
                    for i in 0..<D {
                        dst[i] = MidpointRule.factoredTerm(square: qa[D + i], linear: qa[i], input: x[i], tau: ta, twiceTau: sa)
                    }
                } else {
                    for i in 0..<D { dst[i] = -x[i] * qa[i] }
                }
                if shiftsRoots {
                    let qb = q + (cnt + j) * 2 * D, c = cls[j]
                    for i in 0..<D { dst[i] += qb[D + i] - T(2 * shifted[c * D + i]) * qb[i] }
                }
            }
            p0 += cnt
        }
    }

    /// buf[0] <- a - origin; buf[1] <- (a - origin) M^T.
    private func scores(_ a: UnsafePointer<T>, rows n: Int, buf: [UnsafeMutablePointer<T>]) {
        let xs = buf[0]
        origin.withUnsafeBufferPointer { T.shiftRows(xs, a, origin: $0.baseAddress!, rows: n, features: D) }
        table.withUnsafeBufferPointer {
            T.gemm(m: n, n: K, k: D, alpha: 1, a: xs, lda: D, b: $0.baseAddress!, ldb: 2 * D, transposeB: true,
                   beta: 0, c: buf[1], ldc: K)
        }
    }

    /// z <- the logits of one row; returns argmax (lowest index on ties).
    private func fill(_ z: inout [Double], _ row: UnsafePointer<T>) -> Int {
        var best = 0
        for k in 0..<K {
            z[k] = logit(row, k)
            if z[k] > z[best] { best = k }
        }
        return best
    }

    /// h_k = z_c - z_k + b0 (h_c unused) and f_c: min (relative) or LME^-1 (absolute), with min h.
    private func pooled(_ z: [Double], _ c: Int, _ h: inout [Double]) -> (f: Double, min: Double) {
        var m = Double.infinity
        for k in 0..<K where k != c {
            h[k] = z[c] - z[k] + b0
            m = Swift.min(m, h[k])
        }
        guard absolute else { return (m, m) }
        var s = 0.0
        for k in 0..<K where k != c { s += exp(-(h[k] - m)) }
        return (m - log(s / Double(K - 1)), m)
    }

    /// alpha_k = R_k / h_k (relative) or p_k (absolute); beta_k for the shifted roots.
    private func coefficients(h: [Double], c: Int, f: Double, min m: Double, beta: Double,
                              alpha: UnsafeMutablePointer<T>, beta coefB: UnsafeMutablePointer<T>?) {
        var e = [Double](repeating: 0, count: K)
        var s = 0.0
        for k in 0..<K where k != c {
            e[k] = MinTakesMost.weight(beta: beta, excess: h[k] - m)    // Eq. 2, <= 1
            s += e[k]
        }
        var sumA = 0.0, sumB = 0.0
        for k in 0..<K {
            guard k != c else { continue }
            var ak: Double
            if absolute {
                ak = e[k] / s
            } else {
                ak = f != 0 && h[k] != 0 ? e[k] / s * f / h[k] : 0
            }
            alpha[k] = T(ak)
            sumA += ak
            if let cb = coefB {
                let g = gram[c * K + k], shift = bias.map { b0 + ($0[c] - $0[k]) } ?? b0
                let bk = g > 0 ? shift * ak / g : 0
                cb[k] = T(bk)
                sumB += bk
            }
        }
        alpha[c] = T(-sumA)
        coefB?[c] = T(-sumB)
    }
}

/// NEON for a clustering head on the input itself (k-means with several targets, soft k-means):
/// the `HeadFastPath` as a pipeline engine, tiles of 256 rows spread over cores.
public final class HeadEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 256 }
    public let path: HeadFastPath<T>
    private let scratch: ScratchPool<T>

    public init(head: ClusterHead, targets: [Int?] = [nil]) {
        path = HeadFastPath(head: head, targets: targets)
        scratch = ScratchPool(sizes: path.scratchSizes(rows: Self.tileRows))
    }

    public var features: Int { path.D }
    public var clusters: Int { path.K }
    public var targetCount: Int { path.targetCount }
    public var logitFlopsPerSample: Double { 2 * Double(path.D * path.K) }
    public var explainFlopsPerSample: Double { 2 * Double(path.D * path.K) * (1 + 2 * Double(path.targetCount)) }

    public func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>) {
        forEachTile(rows: rows) { r0, n, buf in
            self.path.logits(x + r0 * self.features, rows: n, buf: buf, assignment: assignment + r0, logit: logit + r0)
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        let t = path.targetCount, d = features
        forEachTile(rows: rows) { r0, n, buf in
            self.path.explain(x + r0 * d, rows: n, beta: beta, buf: buf, relevance: relevance + r0 * t * d,
                              assignment: assignment + r0, logit: logit + r0 * t)
        }
    }

    private func forEachTile(rows: Int, _ body: (Int, Int, [UnsafeMutablePointer<T>]) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows, tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            let pool = scratch
            ComputeThreads.forEach(tiles) { t in
                let buf = pool.take()
                body(t * tile, min(tile, rows - t * tile), buf)
                pool.give(buf)
            }
        }
    }
}
