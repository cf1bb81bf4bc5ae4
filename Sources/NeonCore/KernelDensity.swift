import Foundation
import NeonKernels

/// The KDE model of Appendix G (Eq. 39): p(x) = 1/N sum_n N(x | x_n, sigma^2 I) over a reference
/// set, with the conditional p(x_F | x_P) = sum_n alpha_n N(x_F | [x_n]_F, sigma^2 I) (Eq. 43),
/// alpha_n proportional to exp(-|x_P - [x_n]_P|^2 / (2 sigma^2)) (Eq. 44). Sampling draws
/// n ~ Cat(alpha), then x_F ~ N([x_n]_F, sigma^2 I). The reference is kept column by column, so
/// that distances over a growing set of known features are updated one feature at a time.
public struct KernelDensity: Sendable {
    public let rows: Int
    public let features: Int
    public let sigma: Double
    /// columns[i * rows + n] = x_ni
    let columns: [Double]

    /// reference: rows x features, row-major.
    public init(reference: [Double], rows: Int, features: Int, sigma: Double) {
        precondition(rows >= 1 && features >= 1 && reference.count == rows * features)
        precondition(sigma > 0 && sigma.isFinite)
        self.rows = rows
        self.features = features
        self.sigma = sigma
        var c = [Double](repeating: 0, count: rows * features)
        for n in 0..<rows { for i in 0..<features { c[i * rows + n] = reference[n * features + i] } }
        columns = c
    }

    public func value(row n: Int, feature i: Int) -> Double { columns[i * rows + n] }

    /// dist[n] += (z_i - x_ni)^2: feature i joins the known set P.
    public func addFeature(_ i: Int, value z: Double, to dist: inout [Double]) {
        columns.withUnsafeBufferPointer { col in
            let base = col.baseAddress! + i * rows
            for n in 0..<rows { let t = z - base[n]; dist[n] += t * t }
        }
    }

    /// |z - x_n|^2 over all features.
    public func squaredDistances(_ z: [Double]) -> [Double] {
        var dist = [Double](repeating: 0, count: rows)
        for i in 0..<features { addFeature(i, value: z[i], to: &dist) }
        return dist
    }

    /// Cumulative weights of Eq. 44 for the distances over the known features (any common
    /// offset cancels: the smallest distance is subtracted so that no weight underflows to all 0).
    public func cumulativeWeights(_ dist: [Double], into cum: inout [Double]) {
        let m = dist.min()!
        let s = -1 / (2 * sigma * sigma)
        dist.withUnsafeBufferPointer { d in
            cum.withUnsafeMutableBufferPointer { c in
                neon_kde_cumulative_weights(d.baseAddress!, rows, m, s, c.baseAddress!)
            }
        }
    }

    /// n ~ Cat(alpha) from cumulative weights.
    public func drawRow(_ cum: [Double], rng: inout SplitMix64) -> Int {
        let u = Double.random(in: 0..<1, using: &rng) * cum[rows - 1]
        var lo = 0, hi = rows - 1
        while lo < hi {                       // first n with cum[n] > u
            let mid = (lo + hi) / 2
            if cum[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// One draw x ~ p_KDE(x | z_P) (Eqs. 43-44): known features copied from z, the others from a
    /// reference row n ~ Cat(alpha) plus N(0, sigma^2) noise.
    public func conditionalSample(given z: [Double], known: [Bool], rng: inout SplitMix64) -> [Double] {
        var dist = [Double](repeating: 0, count: rows)
        for i in 0..<features where known[i] { addFeature(i, value: z[i], to: &dist) }
        var cum = dist
        cumulativeWeights(dist, into: &cum)
        let n = drawRow(cum, rng: &rng)
        return (0..<features).map { i in known[i] ? z[i] : value(row: n, feature: i) + sigma * rng.normal() }
    }
}
