import Foundation

/// Min-take-most redistribution through the min-pooling layer (paper Eq. 2):
///   R_k = exp(-beta h_k) / sum_{k'} exp(-beta h_k') * f_c,
/// computed stably as exp(-beta (h_k - f_c)) <= 1, since f_c = min_k h_k.
/// beta = 0 is the uniform redistribution (Prop. 2); beta -> inf is min-take-all.
/// The one Swift definition of the weight (`weight(beta:excess:)`) is used by the head fast path
/// too; the C fast paths share NeonKernels' NeonRules.h (`neon_mtm_weight`).
public struct MinTakesMost: Sendable {
    public let beta: Double

    public init(beta: Double) {
        precondition(beta >= 0 && beta.isFinite)
        self.beta = beta
    }

    /// The paper's heuristic (Eq. 3): beta = 1 / E[f_c] over the whole dataset.
    /// Returns nil when the mean logit is not positive (every point on a decision boundary).
    public static func heuristicStiffness(logitSum: Double, count: Int) -> Double? {
        guard count > 0 else { return nil }
        let mean = logitSum / Double(count)
        guard mean > 0, mean.isFinite, (1 / mean).isFinite else { return nil }
        return 1 / mean
    }

    /// The unnormalised weight of a competitor, exp(-beta h_k) / exp(-beta f_c) = exp(-beta (h_k - f_c))
    /// with excess = h_k - f_c >= 0, so that it is <= 1 and the runner-up's is 1.
    @inline(__always)
    public static func weight(beta: Double, excess: Double) -> Double { exp(-beta * excess) }

    /// R_k for the detection outputs h (f_c = min h).
    public func relevance(detection h: [Double]) -> [Double] {
        let f = h.min()!
        let e = h.map { Self.weight(beta: beta, excess: $0 - f) }
        let s = e.reduce(0, +)
        return e.map { $0 / s * f }
    }
}
