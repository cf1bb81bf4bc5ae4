import Foundation

/// Self-labelling with soft pseudo-labels and the collision cross-entropy (Zhang & Boykov;
/// deep-clustering lecture, "Collision Cross Entropy" and "our algorithm"):
///
///     L(W, y) = (1/N) sum_p -ln(sigma_p . y_p) + gamma KL(u || ybar),   y_p in the simplex,
///     ybar = (1/N) sum_p y_p,   u = uniform,   KL(u || ybar) = -ln K - (1/K) sum_k ln ybar_k.
///
/// -ln(sigma . y) = -ln Pr(C = T) is the collision cross-entropy H_C(sigma, y). The fairness
/// term is the lecture's "ybar = u" constraint made soft; its reverse-KL form (instead of the
/// slide's -H(ybar) = KL(ybar || u) - ln K) is what gives Zhang & Boykov's closed-form EM step:
///
/// **y-step (EM, sigma fixed)**, from Jensen bounds that are tight at the current y0:
///     -ln(sigma_p . y_p) <= -sum_k S_pk ln(sigma_pk y_pk / S_pk),  S_pk = sigma_pk y0_pk / (sigma_p . y0_p)   (E-step)
///     -ln ybar_k <= -sum_p M_pk ln(y_pk / (N M_pk)),               M_pk = y0_pk / sum_q y0_qk
/// minimising the bound on the simplex (Lagrange) gives, with N M_pk = y0_pk / ybar0_k,
///     y_pk = (S_pk + gamma u_k y0_pk / ybar0_k) / (1 + gamma sum_j u_j y0_pj / ybar0_j)      (M-step)
/// so L never increases in the y-step; each step needs ybar0 (one reduction of K sums).
///
/// **W-step (sigma varies, y fixed)**: dL/dz_p = (1/N)(sigma_p - S_p), S_p with the current y
/// (d/dz_j of -ln sum_k sigma_k y_k = sigma_j - sigma_j y_j / (sigma . y)).
public enum CollisionPseudoLabels {
    /// The smallest collision probability used in a logarithm (sigma . y underflows only for
    /// diverged heads).
    static let floor = Double.leastNormalMagnitude

    /// One EM step for row p: y (K, in/out) from sigma (K) and the current mean label ybar0.
    @inline(__always)
    public static func update(prob s: UnsafePointer<Double>, labels y: UnsafeMutablePointer<Double>,
                              meanLabel ybar: UnsafePointer<Double>, clusters K: Int, fairness gamma: Double) {
        var collision = 0.0
        for k in 0..<K { collision += s[k] * y[k] }
        let inv = 1 / max(collision, floor)
        let u = 1 / Double(K)
        // N M_pk = y0_pk / ybar0_k (0 for a cluster no row holds any label mass of).
        var fair = 0.0
        for k in 0..<K { fair += ybar[k] > 0 ? y[k] / ybar[k] : 0 }
        let denominator = 1 + gamma * u * fair
        for k in 0..<K { y[k] = (s[k] * y[k] * inv + (ybar[k] > 0 ? gamma * u * y[k] / ybar[k] : 0)) / denominator }
    }

    /// -ln(sigma_p . y_p).
    @inline(__always)
    public static func collisionCrossEntropy(prob s: UnsafePointer<Double>, labels y: UnsafePointer<Double>, clusters K: Int) -> Double {
        var c = 0.0
        for k in 0..<K { c += s[k] * y[k] }
        return -log(max(c, floor))
    }

    /// N dL/dz_p = sigma_p - S_p.
    @inline(__always)
    public static func rowGradient(prob s: UnsafePointer<Double>, labels y: UnsafePointer<Double>, clusters K: Int,
                                   into out: UnsafeMutablePointer<Double>) {
        var c = 0.0
        for k in 0..<K { c += s[k] * y[k] }
        let inv = 1 / max(c, floor)
        for k in 0..<K { out[k] = s[k] - s[k] * y[k] * inv }
    }

    /// L from the sum over rows of -ln(sigma_p . y_p) and the mean label.
    public static func objective(collisionSum: Double, rows N: Int, meanLabel: [Double], fairness gamma: Double) -> Double {
        let K = Double(meanLabel.count)
        let kl = -log(K) - meanLabel.reduce(0) { $0 + log($1) } / K
        return collisionSum / Double(N) + gamma * kl
    }
}
