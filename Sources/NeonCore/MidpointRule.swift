/// The midpoint rule from the detection layer to the input features (paper Eq. 4):
///   R_i = sum_{k != c} (x_i - m_ik) w_ik / h_k * R_k,  m_k = (mu_c + mu_k) / 2,
/// with sum_i (x_i - m_ik) w_ik = h_k, so sum_i R_i = sum_k R_k = f_c (conservation).
/// On a decision boundary (h_k = 0, hence f_c = 0 and R_k = 0) the term is its limit, 0.
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
