import NeonSettings

/// The relevance of every layer of the kernel k-means network (Prop. 5) for one input, computed
/// neuron by neuron in float64 (the reference for the fast path).
public struct KernelLayerRelevance: Sendable {
    public let activations: NeuralizedKernelKMeans.Activations
    /// R_k per competitor: min-take-most (Eq. 2) through layer 4.
    public let minPooled: [Double]
    /// R_jk per competitor, per j in C_k: soft-min over j of h_jk times R_k (footnote 1).
    public let maxPooled: [[Double]]
    /// R_ijk per path: soft-max over i of h_ijk times R_jk (footnote 1).
    public let detection: [Double]
    /// E_p[h_ijk] per competitor: the mean of h_ijk under the footnote-1 weights p_ijk = R_ijk / R_k.
    public let pathMeans: [Double]
    /// The reassignment denominator per competitor: h_k (Eq. 10) or E_p[h_ijk] (conservative).
    public let denominators: [Double]
    /// R_ijk after the reassignment R_ijk h_ijk / denominator.
    public let reassigned: [Double]
    /// R_f: the midpoint rule (Eq. 4) with m_ij = (u_i + u_j) / 2 from the reassigned R_ijk.
    public let input: [Double]
}

/// One NEON explanation of a kernel k-means assignment, layer by layer (Prop. 5, Eq. 2,
/// footnote 1, Eq. 10 or its conservative variant, Eq. 4). O(|C_c| M d) per sample: obvious, slow.
public enum KernelReferenceExplainer {
    /// Explains cluster `cluster` (default: the assigned one, Eq. 6) for sample x.
    public static func explain(_ x: [Double], model: KernelKMeansModel, beta: Double, rule: KernelRule = .paper,
                               cluster: Int? = nil) -> Explanation {
        let c = cluster ?? model.assign(x)
        let r = layers(x, network: NeuralizedKernelKMeans(model: model, cluster: c), beta: beta, rule: rule)
        return Explanation(cluster: c, logit: r.activations.logit, relevance: r.input)
    }

    public static func layers(_ x: [Double], network net: NeuralizedKernelKMeans, beta: Double,
                              rule: KernelRule) -> KernelLayerRelevance {
        let act = net.forward(x)
        let h = act.detection, g = net.gamma
        let rk = MinTakesMost(beta: beta).relevance(detection: act.minPooled)
        var rjk: [[Double]] = []
        var rijk = [Double](repeating: 0, count: h.count), p = rijk
        for q in net.competitors.indices {
            let softmin = LogMeanExp.weights(act.maxPooled[q], g: -g)            // over j in C_k
            rjk.append(softmin.map { $0 * rk[q] })
            for r in softmin.indices {
                let range = net.pathRange(competitor: q, member: r)
                let softmax = LogMeanExp.weights(Array(h[range]), g: g)          // over i in C_c
                for (s, n) in range.enumerated() {
                    rijk[n] = softmax[s] * rjk[q][r]
                    p[n] = softmax[s] * softmin[r]
                }
            }
        }
        let ranges = net.competitors.indices.map { net.competitorStart[$0]..<net.competitorStart[$0 + 1] }
        let means = ranges.map { $0.reduce(0) { $0 + p[$1] * h[$1] } }
        let den = rule == .paper ? act.minPooled : means
        var reassigned = rijk
        var out = [Double](repeating: 0, count: x.count)
        for (q, range) in ranges.enumerated() {
            for n in range {
                reassigned[n] = den[q] != 0 ? rijk[n] * h[n] / den[q] : 0                 // Eq. 10
                // Eq. 4: (x - m_ij) w_ij R_ijk / h_ijk; where h_ijk = 0 its limit R_ijk / den.
                let a = h[n] != 0 ? reassigned[n] / h[n] : (den[q] != 0 ? rijk[n] / den[q] : 0)
                guard a != 0 else { continue }
                let w = net.weights[n], m = net.midpoints[n]
                for f in x.indices { out[f] += (x[f] - m[f]) * w[f] * a }
            }
        }
        return KernelLayerRelevance(activations: act, minPooled: rk, maxPooled: rjk, detection: rijk,
                                    pathMeans: means, denominators: den, reassigned: reassigned, input: out)
    }
}
