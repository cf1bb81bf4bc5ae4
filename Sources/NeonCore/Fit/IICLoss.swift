import Foundation

/// Invariant Information Clustering (Ji, Henriques & Vedaldi 2019; mutual-information notes,
/// section 3.2, Eqs. 2-4) for a softmax head: the joint of the cluster variables of paired views,
///
///     P = (1/N) sum_p sigma(x_p) sigma(x'_p)^T   (K x K),   S = (P + P^T) / 2,
///
/// and, as in IIC's reference code (`IID_loss`), marginals taken from S before clamping, then
/// entries and marginals clamped below at eps = 2^-52 (float64 machine epsilon):
///
///     S~_ab = max(S_ab, eps),  r_a = max(sum_b S_ab, eps),  c_b = max(sum_a S_ab, eps),
///     L = -sum_ab S~_ab (ln S~_ab - gamma ln r_a - gamma ln c_b)        (= -I(S) for gamma = 1).
///
/// Gradient w.r.t. S (clamped entries and marginals pass no gradient, as torch's masked
/// assignment), with m_ab = [S_ab >= eps] and the same indicators for r and c:
///
///     dL/dS_ab = m_ab (gamma ln r_a + gamma ln c_b - ln S~_ab - 1)
///                + gamma [r_a unclamped] (sum_d S~_ad) / r_a + gamma [c_b unclamped] (sum_c S~_cb) / c_b,
///
/// then G = dL/dP = (dL/dS + dL/dS^T) / 2 (symmetric), and per row
/// dL/dsigma(x_p) = (1/N) G sigma(x'_p), dL/dsigma(x'_p) = (1/N) G sigma(x_p), through the softmax
/// Jacobian to the logits of both views (one shared head).
public enum IICLoss {
    public static let epsilon = Double.ulpOfOne

    /// The objective and G = dL/dP for a joint P (K x K, row-major, already divided by N).
    public static func evaluate(joint P: [Double], clusters K: Int, fairness gamma: Double) -> (objective: Double, gradient: [Double]) {
        precondition(P.count == K * K)
        var S = [Double](repeating: 0, count: K * K)
        for a in 0..<K { for b in 0..<K { S[a * K + b] = (P[a * K + b] + P[b * K + a]) / 2 } }
        var rowSum = [Double](repeating: 0, count: K), colSum = [Double](repeating: 0, count: K)
        for a in 0..<K { for b in 0..<K { rowSum[a] += S[a * K + b]; colSum[b] += S[a * K + b] } }
        let r = rowSum.map { max($0, epsilon) }, c = colSum.map { max($0, epsilon) }
        let St = S.map { max($0, epsilon) }
        var objective = 0.0
        for a in 0..<K {
            for b in 0..<K {
                let s = St[a * K + b]
                objective -= s * (log(s) - gamma * log(r[a]) - gamma * log(c[b]))
            }
        }
        // Sums of the clamped entries along rows and columns (the marginals' chain rule).
        var rowTilde = [Double](repeating: 0, count: K), colTilde = [Double](repeating: 0, count: K)
        for a in 0..<K { for b in 0..<K { rowTilde[a] += St[a * K + b]; colTilde[b] += St[a * K + b] } }
        var dS = [Double](repeating: 0, count: K * K)
        for a in 0..<K {
            let ra = rowSum[a] >= epsilon ? gamma * rowTilde[a] / r[a] : 0
            for b in 0..<K {
                let cb = colSum[b] >= epsilon ? gamma * colTilde[b] / c[b] : 0
                let entry = S[a * K + b] >= epsilon
                    ? gamma * log(r[a]) + gamma * log(c[b]) - log(St[a * K + b]) - 1 : 0
                dS[a * K + b] = entry + ra + cb
            }
        }
        var G = [Double](repeating: 0, count: K * K)
        for a in 0..<K { for b in 0..<K { G[a * K + b] = (dS[a * K + b] + dS[b * K + a]) / 2 } }
        return (objective, G)
    }

    /// I(P) of the symmetrised, clamped joint (the objective's negative for gamma = 1).
    public static func mutualInformation(joint P: [Double], clusters K: Int) -> Double {
        -evaluate(joint: P, clusters: K, fairness: 1).objective
    }
}
