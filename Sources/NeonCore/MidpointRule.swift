/// The midpoint rule from the detection layer to the input features (paper Eq. 4):
///   R_i = sum_{k != c} (x_i - m_ik) w_ik / h_k * R_k,  m_k = (mu_c + mu_k) / 2,
/// with sum_i (x_i - m_ik) w_ik = h_k, so sum_i R_i = sum_k R_k = f_c (conservation).
/// On a decision boundary (h_k = 0, hence f_c = 0 and R_k = 0) the term is its limit, 0.
/// The fast paths evaluate it factored over a GEMM: `factoredTerm` here (Swift, the head fast path)
/// and `neon_midpoint_term` in NeonKernels' NeonRules.h (the C fast paths).
public enum MidpointRule {
    public static func relevance(input x: [Double], network: NeuralizedKMeans,
                                 detection h: [Double], layerRelevance r: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for j in network.competitors.indices where h[j] != 0 {
            let a = r[j] / h[j]
            let w = network.weights[j], m = network.midpoints[j]
            for i in x.indices { out[i] += (x[i] - m[i]) * w[i] * a }
        }
        return out
    }
}

extension MidpointRule {
    /// Eq. 4 factored over the GEMM Q = A' [M | M^2] (A'_k = R_k / h_k, A'_c = -sum_{k != c} A'_k) for
    /// distance logits scaled by tau (w_k = 2 tau (mu_c - mu_k)):
    ///   R_i = tau Q_{D+i} - 2 tau x_i Q_i   (tau = 1: NeonRules.h's q2 - 2 x q1).
    @inline(__always)
    static func factoredTerm<T: NeonScalar>(square q2: T, linear q1: T, input x: T, tau: T, twiceTau: T) -> T {
        tau * q2 - twiceTau * x * q1
    }
}
