import Foundation

/// The per-tile passes of a softmax head fit over one rank's rows (SoftmaxHeadFit). Each tile of
/// `FitShard.tileRows` rows (the same rows for any number of ranks: shards start at whole tiles)
/// is computed in float64 by the same BLAS calls: the logits Z = X W^T + b of the tile (one GEMM),
/// the per-row quantities, and the gradient dZ^T X (one GEMM per view). Each tile's partial sums
/// go into exact limbs (`ExactTileSums`), so chunks, threads and ranks can add them in any
/// grouping: the reduced values, hence the parameters, have the same bits for 1, 2 or 3 ranks.
///
/// Per row the pass keeps ln sigma_p (and ln sigma(x'_p) for IIC; the soft pseudo-labels y_p for
/// the collision cross-entropy), written by `forward` and read by the later passes of the epoch.
final class SoftmaxHeadTiles<T: NeonScalar>: @unchecked Sendable {
    let shard: FitShard<T>
    /// IIC's second view (same rows), else nil.
    let view: FitShard<T>?
    let K: Int, d: Int, rows: Int
    let logProb: UnsafeMutablePointer<Double>
    let logProb2: UnsafeMutablePointer<Double>?
    let labels: UnsafeMutablePointer<Double>?

    init(shard: FitShard<T>, view: FitShard<T>?, clusters: Int, pseudoLabels: Bool) {
        self.shard = shard
        self.view = view
        K = clusters
        d = shard.features
        rows = shard.rows
        let size = max(1, rows * clusters)
        logProb = .allocate(capacity: size)
        logProb2 = view != nil ? .allocate(capacity: size) : nil
        labels = pseudoLabels ? .allocate(capacity: size) : nil
    }

    deinit {
        logProb.deallocate()
        logProb2?.deallocate()
        labels?.deallocate()
    }

    /// Scratch of one chunk (one thread).
    struct Scratch {
        let x: UnsafeMutablePointer<Double>, x2: UnsafeMutablePointer<Double>
        let s: UnsafeMutablePointer<Double>, s2: UnsafeMutablePointer<Double>
        let dz: UnsafeMutablePointer<Double>, dz2: UnsafeMutablePointer<Double>, dzT: UnsafeMutablePointer<Double>

        init(tile: Int, features d: Int, clusters K: Int) {
            x = .allocate(capacity: tile * d); x2 = .allocate(capacity: tile * d)
            s = .allocate(capacity: tile * K); s2 = .allocate(capacity: tile * K)
            dz = .allocate(capacity: tile * K); dz2 = .allocate(capacity: tile * K); dzT = .allocate(capacity: tile * K)
        }

        func free() { [x, x2, s, s2, dz, dz2, dzT].forEach { $0.deallocate() } }
    }

    /// Runs body(first row, rows, scratch, tile sums) on every tile of the shard and returns the
    /// exact sums over all tiles of all ranks (collective).
    func sums(width: Int, _ comm: FitCollectives,
              _ body: (Int, Int, Scratch, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let tile = FitShard<T>.tileRows, d = d, K = K
        let parts = shard.perChunk(width: width * ExactTileSums.limbCount) { _, range -> ExactTileSums in
            var total = ExactTileSums(width: width)
            let scratch = Scratch(tile: tile, features: d, clusters: K)
            let acc = UnsafeMutablePointer<Double>.allocate(capacity: max(1, width))
            defer { scratch.free(); acc.deallocate() }
            var r0 = range.lowerBound
            while r0 < range.upperBound {
                let n = min(tile, range.upperBound - r0)
                acc.initialize(repeating: 0, count: width)
                body(r0, n, scratch, acc)
                total.add(acc)
                r0 += n
            }
            return total
        }
        var total = ExactTileSums(width: width)
        for p in parts { total.add(p) }
        total.reduce(comm)
        return total.values()
    }

    /// Rows [r0, r0 + n) of a shard in float64.
    @inline(__always)
    func load(_ source: FitShard<T>, _ r0: Int, _ n: Int, into x: UnsafeMutablePointer<Double>) {
        let p = source.x + r0 * d
        for i in 0..<(n * d) { x[i] = Double(p[i]) }
    }

    /// Z = X W^T + b for n rows of x, then per row ln sigma (into logOut) and sigma (into s);
    /// counts[argmax z] += 1 (lowest index on ties); returns sum_p H(sigma_p).
    @discardableResult
    func logits(_ x: UnsafePointer<Double>, _ n: Int, weight: UnsafePointer<Double>, bias: UnsafePointer<Double>,
                logOut: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
                counts: UnsafeMutablePointer<Double>?) -> Double {
        Double.gemm(m: n, n: K, k: d, alpha: 1, a: x, lda: d, b: weight, ldb: d, transposeB: true, beta: 0,
                    c: logOut, ldc: K)
        var entropy = 0.0
        for p in 0..<n {
            let z = logOut + p * K, sp = s + p * K
            var best = 0
            for k in 0..<K {
                z[k] += bias[k]
                if z[k] > z[best] { best = k }
            }
            counts?[best] += 1
            let m = z[best]
            var total = 0.0
            for k in 0..<K { total += exp(z[k] - m) }
            let lse = m + log(total)
            for k in 0..<K {
                z[k] -= lse
                sp[k] = exp(z[k])
                if sp[k] > 0 { entropy -= sp[k] * z[k] }
            }
        }
        return entropy
    }

    /// dZ^T X (K x d) into acc (beta 0: overwrite, 1: add), via dzT = dZ^T (K x n).
    @inline(__always)
    func weightGradient(_ dz: UnsafePointer<Double>, _ x: UnsafePointer<Double>, _ n: Int, _ dzT: UnsafeMutablePointer<Double>,
                        beta: Double, into acc: UnsafeMutablePointer<Double>) {
        for p in 0..<n { for k in 0..<K { dzT[k * n + p] = dz[p * K + k] } }
        Double.gemm(m: K, n: d, k: n, alpha: 1, a: dzT, lda: n, b: x, ldb: d, transposeB: false, beta: beta, c: acc, ldc: d)
        for p in 0..<n { for k in 0..<K { acc[K * d + k] += dz[p * K + k] } }
    }
}
