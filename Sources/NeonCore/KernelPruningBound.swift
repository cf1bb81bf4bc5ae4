import Foundation
import NeonKernels

/// What pruning the pooling paths of the kernel k-means network (Prop. 5) may skip, and the bound
/// on what skipping costs. (The paper, end of Sec. III: "only evaluate in the forward and backward
/// pass [...] neurons to which the min- and max-pooling functions in the network are effectively
/// sensitive".) Notation: d_j = |x - u_j|^2, D_k = LME^-gamma_{j in C_k} d_j (Eq. 7), c the
/// assigned cluster (Eq. 6), h_k = D_k - D_c, f_c = min_{k != c} h_k = D_k2 - D_c (k2 the nearest
/// competitor), b^k / a the footnote-1 soft-min weights over C_k / C_c, Delta_k = E_{b^k}[d_j],
/// Delta_c = E_a[d_i].
///
/// Per cluster, from its support vectors' mean mu_k, radius r_k = max_j |u_j - mu_k| and mean
/// squared radius s_k, and one distance |x - mu_k| per sample (a K x d GEMM, 1/p of the dense work):
///   lo_k = (max(0, |x - mu_k| - r_k))^2 <= d_j <= (|x - mu_k| + r_k)^2 = up_k   (triangle inequality)
///   lo_k <= min_j d_j <= D_k  and  lo_k <= Delta_k <= up_k        (D_k = Delta_k + KL(b^k | uniform) / gamma)
///   D_k <= mean_j d_j = |x - mu_k|^2 + s_k                         (Jensen)
/// Let U be the second smallest |x - mu_k|^2 + s_k: then D_c <= D_k2 <= U.
///
/// Forward pass: a sample evaluates (all d_j of) the clusters with lo_k <= U + log(1/eps) / beta.
/// Every cluster with D_k <= U is among them, so c, k2, D_c and f_c are exact: the assignment is
/// unchanged and f_c > 0 iff assigned. A skipped competitor has D_k >= lo_k > D_k2 + log(1/eps) / beta,
/// so its min-take-most factor (Eq. 2, with f_c = h_k2) is
///   e_k = exp(-beta (h_k - f_c)) <= exp(-beta (lo_k - D_k2)) =: e_k^ub < eps.
/// The beta pass (logits only) uses margin 0: still exact.
///
/// Relevance pass: of the evaluated competitors, those with e_k < eps sum_F e (sum_F over the
/// evaluated ones; the nearest competitor is always kept) are dropped too, and R_k of Eq. 2 is
/// renormalised over the kept set B: R'_k = f_c e_k / sum_B e, so sum_k R'_k = f_c still (the
/// conservative rule stays exactly conservative). Everything else (footnote 1, Eq. 10, Eq. 4) is
/// unchanged on the kept paths.
///
/// The bound. With the factorisation of the fast path, R_f = sum_{k != c} A_k (delta_kf - delta_cf),
/// A_k = R_k / den_k (den_k = h_k for Eq. 10, Delta_k - Delta_c for the conservative rule),
/// delta_kf = E_{b^k}[(x_f - u_jf)^2] >= 0, so |delta_k - delta_c|_1 <= Delta_k + Delta_c. With
/// sum = sum_{k != c} e_k >= sum_B >= 1 and the skipped mass S = sum - sum_B <= S^ub:
///   |R' - R|_1 <= sum_{k not in B} |A_k| (Delta_k + Delta_c) + sum_{k in B} |A'_k - A_k| (Delta_k + Delta_c)
///              <= f_c / sum_B  sum_{k not in B} e_k (Delta_k + Delta_c) / |den_k|
///               + S^ub / (sum_B + S^ub)  sum_{k in B} |A'_k| (Delta_k + Delta_c),
/// because |A_k| <= f_c e_k / (sum_B |den_k|) and A'_k - A_k = A'_k S / sum. For a competitor
/// dropped in the relevance pass e_k, Delta_k, den_k are known exactly; for one skipped in the
/// forward pass e_k <= e_k^ub, Delta_k <= up_k, den_k >= lo_k - D_c (Eq. 10) or lo_k - Delta_c
/// (conservative; Delta_c <= D_c), and S^ub sums e_k (dropped) and e_k^ub (skipped). The engine
/// evaluates this bound divided by |f_c| for every sample (`KernelPruningStatistics.maxBound`);
/// it bounds max_f |R'_f - R_f| / |f_c| as well. Every skipped term carries a factor < eps
/// (relative to sum_B), so the bound is eps times the skipped competitors' (Delta_k + Delta_c) /
/// den_k summed; for well separated clusters it is far below eps.
///
/// Within a kept cluster every support vector is evaluated: the triangle bound per support vector
/// cannot separate them in high dimensions (docs/kernel-pruning.md).
public struct KernelPruningBound: @unchecked Sendable {
    public let tolerance: Double
    public let clusters: Int
    /// mu_k - origin (K x d, row-major), in the fast path's shifted frame.
    public let centres: [Double]
    public let centreSq: [Double]
    public let radius: [Double]
    public let meanSq: [Double]
    /// max_j |u_j - origin|^2.
    public let maxSq: Double

    /// The cluster geometry of `model` in the frame shifted by `origin` (the fast path's).
    public init(model: KernelKMeansModel, origin: [Double], tolerance: Double) {
        precondition(tolerance > 0 && tolerance.isFinite)
        self.tolerance = tolerance
        let d = model.features, K = model.clusters
        clusters = K
        var mu = [Double](repeating: 0, count: K * d)
        var sq = [Double](repeating: 0, count: K), rad = sq, msq = sq
        var top = 0.0
        for k in 0..<K {
            let members = model.members[k]
            for j in members {
                for f in 0..<d { mu[k * d + f] += model.supportVectors[j * d + f] - origin[f] }
            }
            for f in 0..<d { mu[k * d + f] /= Double(members.count) }
            for j in members {
                var r = 0.0, u = 0.0
                for f in 0..<d {
                    let v = model.supportVectors[j * d + f] - origin[f]
                    r += (v - mu[k * d + f]) * (v - mu[k * d + f])
                    u += v * v
                }
                rad[k] = max(rad[k], r.squareRoot())
                msq[k] += r / Double(members.count)
                top = max(top, u)
            }
            for f in 0..<d { sq[k] += mu[k * d + f] * mu[k * d + f] }
        }
        centres = mu
        centreSq = sq
        radius = rad
        meanSq = msq
        maxSq = top
    }

    /// The forward margin log(1/eps) / beta (infinite for beta = 0: nothing can be skipped).
    public func margin(beta: Double) -> Double { beta > 0 ? log(1 / tolerance) / beta : .infinity }

    /// Rounding allowance of the compared distances, per unit of |x|^2 + maxSq: a few d roundoffs
    /// of the compute precision (GEMM dot products of length d).
    public static func slack<T: BinaryFloatingPoint>(_: T.Type, features d: Int) -> Double {
        4 * Double(d + 2) * Double(T.ulpOfOne) / 2
    }
}

/// Pruning figures of a pass: (sample, support vector) paths evaluated out of samples x M, and the
/// largest certified relative error bound (KernelPruningBound).
public struct KernelPruningStatistics: Sendable, Equatable {
    public var rows = 0
    /// rows x M.
    public var paths = 0
    /// (row, support vector) distances evaluated (forward pass, GEMM 1).
    public var forwardPaths = 0
    /// (row, support vector) weights in the relevance GEMM (0 for a logits pass).
    public var relevancePaths = 0
    /// Rows of tiles that kept so much that the dense fast path ran instead (exact).
    public var denseRows = 0
    /// max and sum over rows with f_c > 0 of the bound on |R_pruned - R|_1 / |f_c|.
    public var maxBound = 0.0
    public var sumBound = 0.0

    public init() {}

    public var forwardFraction: Double { paths > 0 ? Double(forwardPaths) / Double(paths) : 1 }
    public var relevanceFraction: Double { paths > 0 ? Double(relevancePaths) / Double(paths) : 1 }

    public mutating func add(_ o: KernelPruningStatistics) {
        rows += o.rows
        paths += o.paths
        forwardPaths += o.forwardPaths
        relevancePaths += o.relevancePaths
        denseRows += o.denseRows
        maxBound = max(maxBound, o.maxBound)
        sumBound += o.sumBound
    }
}

/// An engine that prunes and counts what it evaluated (explain.pruning).
public protocol PruningReporting: AnyObject {
    var tolerance: Double { get }
    /// Figures of the explain passes (or of the logits passes) since the last reset.
    func statistics(logits: Bool) -> KernelPruningStatistics
}
