/// One assignment pass over a chunk of rows (KMeansFitter.assign), tile by tile (256 rows):
/// with Hamerly's bounds set, the bound test; the rows that can only change to a "mover" are
/// compared with the movers (one small GEMM); the rows left are gathered and compared with every
/// centroid (one GEMM, top-2, near ties in float64); then every row of the tile is added to the
/// chunk's float64 sums in row order while the tile is in cache, and the next tile is prefetched
/// (its GEMM then reads cache, not memory: ~8 % per iteration at K = 100). Without bounds every
/// row is compared with every centroid.
struct LloydTiles<T: FitScalar> {
    let x: UnsafeMutablePointer<T>
    let d: Int, K: Int
    /// Centroids rounded to T and |m_k|^2 rounded to T (the GEMM's), and in float64.
    let table: UnsafePointer<T>, sq: UnsafePointer<T>
    let centroids: UnsafePointer<Double>
    let xnorm2: UnsafePointer<Double>
    let assign: UnsafeMutablePointer<Int64>, dist2: UnsafeMutablePointer<Double>
    let lower: UnsafeMutablePointer<Double>?
    let old: UnsafePointer<Int64>?
    /// HamerlyBounds.Moves (nil: no bounds), the movers' rows of `table` and `sq`.
    let drop: UnsafePointer<Double>?, dropRest: UnsafePointer<Double>?, halfGap: UnsafePointer<Double>?
    let J: Int
    let movers: UnsafePointer<Int64>?, moverTable: UnsafePointer<T>?, moverSq: UnsafePointer<T>?
    let eta: Double, maxNorm: Double, rho: Double

    /// Whether comparing all n rows of a tile with every centroid costs less than gathering the
    /// rows that failed the bound test (compared with all K) and those near (with the J movers):
    /// copying a row costs about as much as 8 of its GEMM columns.
    func wholeTileIsCheaper(rows n: Int, failed m: Int, near: Int) -> Bool {
        n * K <= m * K + near * J + (m + near) * 8
    }

    /// acc: K x d sums, K counts, then inertia, rows reassigned, rows compared with every centroid,
    /// near ties, rows compared with the movers.
    @inline(__always)
    func run(_ range: Range<Int>, _ acc: UnsafeMutablePointer<Double>) {
        let tile = FitShard<T>.tileRows
        let stats = acc + K * d + K
        let z = UnsafeMutablePointer<T>.allocate(capacity: tile * K)
        let gathered = UnsafeMutablePointer<T>.allocate(capacity: tile * d)
        let fail = UnsafeMutablePointer<Int64>.allocate(capacity: tile)
        let near = UnsafeMutablePointer<Int64>.allocate(capacity: tile)
        let choice = UnsafeMutablePointer<Int64>.allocate(capacity: tile)
        let top = UnsafeMutablePointer<Double>.allocate(capacity: 2 * tile)
        defer {
            z.deallocate(); gathered.deallocate(); fail.deallocate(); near.deallocate()
            choice.deallocate(); top.deallocate()
        }
        func gather(_ rows: UnsafePointer<Int64>, _ count: Int, from xt: UnsafePointer<T>) {
            for j in 0..<count { (gathered + j * d).update(from: xt + Int(rows[j]) * d, count: d) }
        }
        var r0 = range.lowerBound
        while r0 < range.upperBound {
            let n = min(tile, range.upperBound - r0)
            let xt = UnsafePointer(x + r0 * d)
            // The rows to compare with every centroid: all, or those the bounds cannot keep.
            var m = n
            var rows = xt
            var index: UnsafePointer<Int64>? = nil
            if let drop {
                var nearCount = 0
                m = T.hamerlyTest(xt, rows: n, features: d, centroids: centroids, assign: assign + r0, drop: drop,
                                  dropRest: dropRest, halfGap: halfGap!, rho: rho, lower: lower! + r0, dist2: dist2 + r0,
                                  fail: fail, near: near, nearCount: &nearCount)
                if wholeTileIsCheaper(rows: n, failed: m, near: nearCount) {
                    // Nearly every row failed: comparing the whole tile costs less than gathering it.
                    m = n
                    nearCount = 0
                } else if nearCount > 0 {
                    gather(near, nearCount, from: xt)
                    T.gemm(m: nearCount, n: J, k: d, alpha: 2, a: gathered, lda: d, b: moverTable!, ldb: d,
                           transposeB: true, beta: 0, c: z, ldc: J)
                    m = T.hamerlyMovers(z, rows: nearCount, movers: J, sq: moverSq!, mover: movers!, index: near,
                                        assign: assign + r0, xnorm2: xnorm2 + r0, eta: eta, maxNorm: maxNorm, rho: rho,
                                        lower: lower! + r0, dist2: dist2 + r0, fail: fail, failCount: m)
                    stats[4] += Double(nearCount)
                }
                if m < n {
                    gather(fail, m, from: xt)
                    rows = UnsafePointer(gathered)
                    index = UnsafePointer(fail)
                }
            }
            if m > 0 {
                T.gemm(m: m, n: K, k: d, alpha: 2, a: rows, lda: d, b: table, ldb: d, transposeB: true, beta: 0, c: z, ldc: K)
                T.top2Scores(z, rows: m, clusters: K, sq: sq, choice: choice, best: top, second: top + tile)
                let ties = T.fitResolve(z, rows: m, clusters: K, x: rows, features: d, index: index, centroids: centroids,
                                        xnorm2: xnorm2 + r0, eta: eta, maxNorm: maxNorm, choice: choice, best: top,
                                        second: top + tile, assign: assign + r0, dist2: dist2 + r0,
                                        lower: lower.map { $0 + r0 }, keepDist2: drop != nil)
                stats[3] += Double(ties)
            }
            T.fitAccumulate(xt, rows: n, features: d, assign: assign + r0, dist2: dist2 + r0, sums: acc, counts: acc + K * d,
                            old: old.map { $0 + r0 }, acc: stats, ahead: xt + n * d,
                            aheadRows: min(tile, range.upperBound - r0 - n))
            stats[2] += Double(m)
            r0 += n
        }
    }
}

/// Copies of arrays at stable addresses for the duration of a pass (empty arrays: nil), freed
/// with this object.
final class PinnedArrays {
    private var frees: [() -> Void] = []

    func pin<E>(_ values: [E]) -> UnsafePointer<E>? {
        guard !values.isEmpty else { return nil }
        let p = UnsafeMutableBufferPointer<E>.allocate(capacity: values.count)
        _ = p.initialize(from: values)
        frees.append { p.deinitialize(); p.deallocate() }
        return UnsafePointer(p.baseAddress!)
    }

    /// A copy of count values at p (count 0: nil).
    func copy<E>(_ p: UnsafePointer<E>, count: Int) -> UnsafePointer<E>? {
        guard count > 0 else { return nil }
        let q = UnsafeMutablePointer<E>.allocate(capacity: count)
        q.initialize(from: p, count: count)
        frees.append { q.deinitialize(count: count); q.deallocate() }
        return UnsafePointer(q)
    }

    deinit { for free in frees { free() } }
}
