import Dispatch
import NeonSettings

/// How Lloyd iterations find each row's nearest centroid (fit.kmeans_algorithm): lloyd or hamerly.
public typealias KMeansAlgorithm = KMeansAlgorithmName

/// Hamerly's distance bounds (G. Hamerly, "Making k-means even faster", SDM 2010) for one rank's
/// rows. Per row one lower bound l(x) <= min_{k != a} |x - m_k| (a: the row's cluster), 8 bytes
/// per row; the upper bound u(x) = |x - m_a| is recomputed exactly in every pass (one O(d)
/// distance, which the inertia needs anyway). After the centroids move by delta_k,
/// l -= max_{k != a} delta_k, and a row keeps its cluster without any other distance when
/// max(l, 2 s(a) - u) > u, s(a) = half the distance from m_a to the nearest other centroid.
///
/// Rounding: the moves are rounded up, l and s down, u up, and the test keeps a relative margin
/// `rho` over the float64 distances, so a skipped row is one whose decision (the float64 argmin,
/// NeonFit.h) is certainly unchanged. Rows that fail are recomputed; bounds never change a result.
final class HamerlyBounds {
    let lower: UnsafeMutablePointer<Double>
    let features: Int
    let clusters: Int
    let totalRows: Int
    /// The centroids that `lower` (and the assignment) refer to; nil before the first full pass.
    private(set) var reference: [Double]?

    init(rows: Int, features: Int, clusters: Int, totalRows: Int) {
        lower = .allocate(capacity: max(1, rows))
        lower.initialize(repeating: 0, count: max(1, rows))
        self.features = features
        self.clusters = clusters
        self.totalRows = totalRows
    }

    deinit { lower.deallocate() }

    /// The test's relative margin: >= the relative error of a float64 squared distance of d terms
    /// (d + 2 roundings) plus the test's own few roundings.
    static func margin(features d: Int) -> Double { 4 * Double(d + 8) * Double.ulpOfOne / 2 }

    func reset() { reference = nil }

    /// The bounds now refer to `centroids` (after a pass that set or tested every row).
    func settle(on centroids: [Double]) { reference = centroids }

    /// How the centroids moved from the reference: per cluster a, drop[a] >= max_{k != a} delta_k
    /// and halfGap[a] <= s(a); `movers`, the J clusters that moved most, and dropRest[a] >= max
    /// delta_k over k != a not a mover.
    struct Moves {
        let drop: [Double]
        let dropRest: [Double]
        let halfGap: [Double]
        let movers: [Int]
    }

    /// The moves to new centroids; nil when the bounds are not set or when the pass should skip
    /// the test (expected share of GEMM work above `testWorthShare`). `assignment` and `dist2` are
    /// the rows' state after the previous pass (they choose the number of movers).
    ///
    /// Hamerly's single bound drops by the largest move, and on real data a few clusters keep
    /// moving (one row changing cluster moves a small cluster's mean) while most stay put. Rows
    /// that fail the plain test but whose bound over the other centroids (less dropRest) still
    /// holds are compared with the J movers only (one GEMM of J / K of the cost), not with all K.
    func moves(to centroids: [Double], rows: Int, assignment: UnsafePointer<Int64>, dist2: UnsafePointer<Double>) -> Moves? {
        guard let old = reference else { return nil }
        let d = features, K = clusters
        let up = 1 + Self.margin(features: d)
        var delta = [Double](repeating: 0, count: K)
        for k in 0..<K {
            var s = 0.0
            for i in 0..<d { let v = centroids[k * d + i] - old[k * d + i]; s += v * v }
            delta[k] = s.squareRoot() * up
        }
        func largestTwo(_ ks: [Int]) -> (index: Int, first: Double, second: Double) {
            var index = -1, first = 0.0, second = 0.0
            for k in ks {
                if delta[k] > first { second = first; first = delta[k]; index = k } else if delta[k] > second { second = delta[k] }
            }
            return (index, first, second)
        }
        let all = largestTwo(Array(0..<K))
        let drop = (0..<K).map { $0 == all.index ? all.second : all.first }
        let halfGap = Self.halfGaps(centroids, clusters: K, features: d, totalRows: totalRows)
        let moved = (0..<K).filter { delta[$0] > 0 }.sorted { delta[$0] != delta[$1] ? delta[$0] > delta[$1] : $0 < $1 }
        let plan = Self.moverCount(sortedMoves: moved.map { delta[$0] }, clusters: K, delta: delta, halfGap: halfGap,
                                   rows: rows, lower: lower, assignment: assignment, dist2: dist2)
        // Nearly every row is expected to fail: a plain pass (which also resets every bound) costs
        // less than testing first, since a row that changes cluster then needs its distance twice.
        if plan.expectedFullShare > Self.testWorthShare { return nil }
        let movers = Array(moved.prefix(plan.J)).sorted()
        let isMover = Set(movers)
        let rest = largestTwo((0..<K).filter { !isMover.contains($0) })
        let dropRest = (0..<K).map { $0 == rest.index ? rest.second : rest.first }
        return Moves(drop: drop, dropRest: dropRest, halfGap: halfGap, movers: movers)
    }

    /// Above this expected share of GEMM work (rows x K) the bound test is skipped for a pass.
    static let testWorthShare = 0.95

    /// The number of movers J (0, or K/64 .. K/2 capped at the clusters that moved) that minimises
    /// the expected GEMM work, and that work as a share of comparing every row with every centroid,
    /// estimated on every 8th row from its previous slack l - u: a row whose slack exceeds delta_a
    /// plus the largest move (or whose u + delta_a stays below s(a)) passes for free, one whose
    /// slack exceeds delta_a plus the (J+1)-th largest move costs (J + 8) / K of a row, the others
    /// cost a row. The plan changes only the work, never a result.
    static func moverCount(sortedMoves: [Double], clusters K: Int, delta: [Double], halfGap: [Double], rows: Int,
                           lower: UnsafePointer<Double>, assignment: UnsafePointer<Int64>,
                           dist2: UnsafePointer<Double>) -> (J: Int, expectedFullShare: Double) {
        guard let largest = sortedMoves.first, rows > 0 else { return (0, 0) }
        var slack: [Double] = []
        for n in stride(from: 0, to: rows, by: 8) {
            let a = Int(assignment[n])
            let u = dist2[n].squareRoot() + delta[a]
            // the half-gap test 2 s(a) - u > u, written as a slack against the largest move
            slack.append(max(lower[n] - u, 2 * (halfGap[a] - u) + largest))
        }
        slack.sort()
        /// Rows with slack <= t.
        func atMost(_ t: Double) -> Int {
            var lo = 0, hi = slack.count
            while lo < hi { let mid = (lo + hi) / 2; if slack[mid] <= t { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let failing = atMost(largest)
        var best = (J: 0, cost: Double(failing))
        for i in 1...6 {
            let J = min(sortedMoves.count, K >> i)
            if J == 0 { continue }
            let rest = J < sortedMoves.count ? sortedMoves[J] : 0
            let full = atMost(rest)
            let cost = Double(full) + Double(failing - full) * Double(J + 8) / Double(K)
            if cost < best.cost { best = (J, cost) }
        }
        return (best.J, best.cost / Double(slack.count))
    }

    /// s(a) (rounded down) for every centroid: half the distance to the nearest other centroid,
    /// from |m_a|^2 + |m_k|^2 - 2 m_a.m_k (float64 GEMMs, blocks of rows on all cores) less its
    /// rounding bound. All zeros (the test then uses l alone) when K > N / 16: the K^2 d cost
    /// would not be small against the N K d of a pass.
    static func halfGaps(_ c: [Double], clusters K: Int, features d: Int, totalRows: Int) -> [Double] {
        if K * 16 > totalRows { return [Double](repeating: 0, count: K) }
        let norms = (0..<K).map { k in (0..<d).reduce(0.0) { $0 + c[k * d + $1] * c[k * d + $1] } }
        let lengths = norms.map { $0.squareRoot() }
        let slack = 2 * Double(d + 8) * Double.ulpOfOne / 2
        let block = max(1, min(256, (32 << 20) / (8 * K)))
        let blocks = (K + block - 1) / block
        let out = UnsafeMutablePointer<Double>.allocate(capacity: K)
        defer { out.deallocate() }
        nonisolated(unsafe) let o = out
        c.withUnsafeBufferPointer { cb in
            norms.withUnsafeBufferPointer { nb in lengths.withUnsafeBufferPointer { lb in
                nonisolated(unsafe) let cp = cb.baseAddress!, np = nb.baseAddress!, lp = lb.baseAddress!
                ComputeThreads.forEach(blocks) { b in
                    let a0 = b * block, rows = min(block, K - a0)
                    let g = UnsafeMutablePointer<Double>.allocate(capacity: rows * K)
                    defer { g.deallocate() }
                    Double.gemm(m: rows, n: K, k: d, alpha: 2, a: cp + a0 * d, lda: d, b: cp, ldb: d,
                                transposeB: true, beta: 0, c: g, ldc: K)
                    for r in 0..<rows {
                        let a = a0 + r
                        var best = Double.infinity
                        for k in 0..<K where k != a {
                            let span = lp[a] + lp[k]
                            let d2 = np[a] + np[k] - g[r * K + k] - slack * span * span
                            if d2 < best { best = d2 }
                        }
                        o[a] = best > 0 ? 0.5 * best.squareRoot() * (1 - 0x1p-50) : 0
                    }
                }
            } }
        }
        return Array(UnsafeBufferPointer(start: out, count: K))
    }
}
