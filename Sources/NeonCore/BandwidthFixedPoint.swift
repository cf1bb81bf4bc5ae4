import Foundation

/// The KDE bandwidth of Appendix G: the leave-one-out likelihood (Eqs. 40-41) maximised by the
/// fixed-point iteration of Eq. 42,
///   sigma^2 <- 1/(N d) sum_n sum_{n' != n} softmax_{n'}(-|x_n - x_n'|^2 / (2 sigma_old^2)) |x_n - x_n'|^2.
/// The sum over n is cut into fixed blocks of `blockRows` rows whose partial sums are computed
/// independently (each block by the same calls whoever computes it) and added in block order, so
/// the result is the same whichever rank or thread computes which block.
public final class BandwidthFixedPoint: @unchecked Sendable {
    public static let blockRows = 64
    public let rows: Int
    public let features: Int
    private let x: [Double]          // row-major reference
    private let norms: [Double]      // |x_n|^2

    public init(reference: [Double], rows: Int, features: Int) {
        precondition(rows >= 2 && reference.count == rows * features)
        self.rows = rows
        self.features = features
        x = reference
        norms = (0..<rows).map { n in (0..<features).reduce(0) { $0 + reference[n * features + $1] * reference[n * features + $1] } }
    }

    public var blockCount: Int { (rows + Self.blockRows - 1) / Self.blockRows }

    /// The partial sums of Eq. 42's double sum for the given blocks (others 0), computed with one
    /// GEMM per block (|x_n - x_n'|^2 = |x_n|^2 + |x_n'|^2 - 2 x_n.x_n', clamped at 0).
    /// sigma2 = +infinity gives the uniform weights: the iteration's starting point.
    public func partialSums(blocks: [Int], sigma2: Double) -> [Double] {
        final class Out: @unchecked Sendable { var v: [Double]; init(_ n: Int) { v = .init(repeating: 0, count: n) } }
        let out = Out(blockCount)
        let lock = NSLock()
        let N = rows, d = features, B = Self.blockRows
        let s = sigma2.isInfinite ? 0 : -1 / (2 * sigma2)
        ComputeThreads.forEach(blocks.count) { t in
            let b = blocks[t]
            let r0 = b * B, n = min(B, N - r0)
            var g = [Double](repeating: 0, count: n * N)
            x.withUnsafeBufferPointer { xp in
                g.withUnsafeMutableBufferPointer { gp in
                    Double.gemm(m: n, n: N, k: d, alpha: 1, a: xp.baseAddress! + r0 * d, lda: d, b: xp.baseAddress!, ldb: d,
                                transposeB: true, beta: 0, c: gp.baseAddress!, ldc: N)
                }
            }
            var total = 0.0
            for r in 0..<n {
                let i = r0 + r
                var m = Double.infinity
                for j in 0..<N where j != i {
                    let dist = max(0, norms[i] + norms[j] - 2 * g[r * N + j])
                    g[r * N + j] = dist
                    m = min(m, dist)
                }
                var num = 0.0, den = 0.0
                for j in 0..<N where j != i {
                    let w = exp((g[r * N + j] - m) * s)
                    num += w * g[r * N + j]
                    den += w
                }
                total += num / den
            }
            lock.lock(); out.v[b] = total; lock.unlock()
        }
        return out.v
    }

    /// sigma^2 from summed block partials.
    public func variance(fromPartials p: [Double]) -> Double {
        p.reduce(0, +) / (Double(rows) * Double(features))
    }

    public struct Result: Sendable {
        public let sigma: Double
        public let iterations: Int
        public let converged: Bool
    }

    /// Iterates Eq. 42 from the uniform-weight value until sigma^2 changes by less than
    /// `tolerance` (relative). `reduce` combines the partial sums of all workers (the identity in
    /// one process; an element-wise sum over ranks, each rank computing `blocks`).
    public func solve(blocks: [Int]? = nil, tolerance: Double = 1e-7, maxIterations: Int = 500,
                      reduce: ([Double]) -> [Double] = { $0 }) -> Result {
        let mine = blocks ?? Array(0..<blockCount)
        var s2 = variance(fromPartials: reduce(partialSums(blocks: mine, sigma2: .infinity)))
        for it in 1...maxIterations {
            let next = variance(fromPartials: reduce(partialSums(blocks: mine, sigma2: s2)))
            let change = abs(next - s2) / max(next, .leastNormalMagnitude)
            s2 = next
            if !(s2 > 0) || change < tolerance {
                return Result(sigma: s2.squareRoot(), iterations: it, converged: s2 > 0)
            }
        }
        return Result(sigma: s2.squareRoot(), iterations: maxIterations, converged: false)
    }

    /// The leave-one-out log-likelihood sum_n log p_{-n}(x_n) (Eqs. 40-41, negated L): for tests.
    public func leaveOneOutLogLikelihood(sigma: Double) -> Double {
        let N = rows, d = Double(features)
        var total = 0.0
        for i in 0..<N {
            var terms: [Double] = []
            for j in 0..<N where j != i {
                var q = 0.0
                for f in 0..<features { let t = x[i * features + f] - x[j * features + f]; q += t * t }
                terms.append(-q / (2 * sigma * sigma))
            }
            let m = terms.max()!
            total += m + log(terms.reduce(0) { $0 + exp($1 - m) } / Double(N - 1)) - d / 2 * log(2 * .pi * sigma * sigma)
        }
        return total
    }
}
