import Foundation

/// The clustering head on top of a = Psi(x) (or on x itself), with its softmax logits z_k:
///   distance  z_k = -tau |a - mu_k|^2  (k-means: tau = 1; soft k-means, Appendix E-A: tau = stiffness)
///   dot       z_k = mu_k . a           (deep soft clustering, Sec. IV, Prop. 6-7)
///   affine    z_k = w_k . a + b_k      (a trained softmax head sigma(W a + b); w_k in `centroids`)
/// and the decision it explains for a cluster c (assigned: argmax z, lowest index on ties):
///   relative (Lemma 3 / Prop. 6)  h_k = z_c - z_k,       f_c = min_{k != c} h_k
///                                   = log(p_c / max_{k != c} p_k)
///   absolute (Lemma 4 / Prop. 7)  h_k = z_c - z_k + b0,  f_c = LME^-1_{k != c} h_k
///                                   = log(p_c / (1 - p_c)) + log((1 - theta) / theta),
///                                 b0 = -log(K - 1) + log((1 - theta) / theta).
/// Every h_k is affine in a: h_k = w_k . a + b_k with w_k = s (mu_c - mu_k) (s = 2 tau for distance,
/// 1 for dot and affine), so the head is the two-layer network of Prop. 1 / 6 / 7; its bias is
/// tau (|mu_k|^2 - |mu_c|^2) (distance), 0 (dot) or b_c - b_k (affine), plus b0 in absolute mode.
/// The softmax is unchanged by a bias common to all k, so only the differences b_c - b_k matter.
public struct ClusterHead: Equatable, Sendable {
    public enum Logits: Equatable, Sendable {
        case distance(stiffness: Double)
        /// Bias-free: midpoint roots at 0.
        case dot
        /// z_k = w_k . a + b_k, bias b (K values): roots on h_k = 0 nearest 0 (`NeuralizedHead`).
        case affine(bias: [Double])

        /// How the detection layer is explained, for a model's `rules` text.
        public var midpointRuleSummary: String {
            switch self {
            case .distance: return ", midpoint rule (Eq. 4)"
            case .dot: return ", bias-free midpoint rule (root 0)"
            case .affine: return ", midpoint rule with a bias (root: the point of h_k = 0 nearest 0)"
            }
        }
    }

    public enum Mode: Equatable, Sendable {
        case relative
        case absolute(theta: Double)
    }

    public let clusters: Int
    public let features: Int
    /// centroids[k * features + i] = mu_ki (the weight vectors w_k for dot and affine logits)
    public let centroids: [Double]
    public let logits: Logits
    public let mode: Mode

    public init(clusters: Int, features: Int, centroids: [Double], logits: Logits, mode: Mode = .relative) {
        precondition(clusters >= 2 && features >= 1 && centroids.count == clusters * features)
        if case .absolute(let t) = mode { precondition(t > 0 && t < 1) }
        if case .affine(let b) = logits { precondition(b.count == clusters && b.allSatisfy(\.isFinite)) }
        self.clusters = clusters
        self.features = features
        self.centroids = centroids
        self.logits = logits
        self.mode = mode
    }

    /// b0: the bias every h_k shares in absolute mode (0 in relative mode).
    public var offset: Double {
        if case .absolute(let t) = mode { return -log(Double(clusters - 1)) + log((1 - t) / t) }
        return 0
    }

    /// The logit bias b (affine logits), nil for distance and dot logits.
    public var logitBias: [Double]? {
        if case .affine(let b) = logits { return b }
        return nil
    }

    /// s in w_k = s (mu_c - mu_k).
    var scale: Double {
        if case .distance(let tau) = logits { return 2 * tau }
        return 1
    }

    public func centroid(_ k: Int) -> ArraySlice<Double> { centroids[(k * features)..<((k + 1) * features)] }

    /// The softmax logits z_k.
    public func logitValues(_ a: [Double]) -> [Double] {
        (0..<clusters).map { k in
            switch logits {
            case .distance(let tau): return -tau * zip(a, centroid(k)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            case .dot: return zip(a, centroid(k)).reduce(0) { $0 + $1.0 * $1.1 }
            case .affine(let b): return zip(a, centroid(k)).reduce(0) { $0 + $1.0 * $1.1 } + b[k]
            }
        }
    }

    /// argmax_k z_k, the lowest index on ties.
    public func assign(_ a: [Double]) -> Int {
        let z = logitValues(a)
        var best = 0
        for k in 1..<clusters where z[k] > z[best] { best = k }
        return best
    }
}

/// The head for one cluster c written out as a network (layer L+1 weights and biases, the root
/// points of the midpoint rule): the explicit reference for the fast path.
public struct NeuralizedHead: Sendable {
    public let cluster: Int
    public let competitors: [Int]
    public let weights: [[Double]]
    public let biases: [Double]
    /// Root points r_k with w_k . r_k + b_k = 0 (the midpoint rule, Eq. 4, needs a root of each
    /// h_k on its boundary, so that sum_i (a_i - r_ik) w_ik = h_k): the midpoint (mu_c + mu_k) / 2
    /// for distance logits, 0 for dot logits (the bias-free form). A further bias delta_k (b0 in
    /// absolute mode, Prop. 7 / Lemma 4; b_c - b_k of affine logits, Props. 6-7) moves the root to
    /// the point of the boundary nearest to it: r0 is a root of h_k - delta_k, and minimising
    /// |r - r0|^2 subject to w_k . r + b_k = 0 gives r_k = r0 - delta_k w_k / |w_k|^2.
    /// For affine logits (r0 = 0) that is the boundary point nearest the origin,
    ///   r_k = -(b_c - b_k + b0) w_k / |w_k|^2,
    /// which is 0 when b_c - b_k + b0 = 0. A competitor with w_k = 0 (w_c = w_k) has no
    /// boundary: its h_k is constant and passes no relevance down (like a bias).
    public let roots: [[Double]]

    public init(head: ClusterHead, cluster c: Int) {
        cluster = c
        competitors = (0..<head.clusters).filter { $0 != c }
        let muC = Array(head.centroid(c)), s = head.scale, b0 = head.offset
        var w: [[Double]] = [], b: [Double] = [], r: [[Double]] = []
        for k in competitors {
            let muK = Array(head.centroid(k))
            let wk = zip(muC, muK).map { s * ($0 - $1) }
            let norm = wk.reduce(0) { $0 + $1 * $1 }
            var bk = b0, root: [Double], shift = b0
            switch head.logits {
            case .distance(let tau):
                bk += tau * (muK.reduce(0) { $0 + $1 * $1 } - muC.reduce(0) { $0 + $1 * $1 })
                root = zip(muC, muK).map { ($0 + $1) / 2 }
            case .dot:
                root = [Double](repeating: 0, count: head.features)
            case .affine(let bias):
                bk += bias[c] - bias[k]
                shift += bias[c] - bias[k]
                root = [Double](repeating: 0, count: head.features)
            }
            if shift != 0 && norm > 0 { root = zip(root, wk).map { $0 - shift * $1 / norm } }
            w.append(wk)
            b.append(bk)
            r.append(root)
        }
        weights = w
        biases = b
        roots = r
    }

    public func detection(_ a: [Double]) -> [Double] {
        zip(weights, biases).map { w, b in zip(w, a).reduce(b) { $0 + $1.0 * $1.1 } }
    }
}

public enum HeadReference {
    /// Explains cluster `cluster` (default: the assigned one) for activation a, layer by layer in
    /// float64: detection h_k, pooling f_c (min or LME^-1), min-take-most (Eq. 2; absolute mode:
    /// soft-min weights with stiffness beta and the reassignment R_k <- R_k h_k / f_c), then the
    /// midpoint rule (Eq. 4) with the roots of `NeuralizedHead`.
    public static func explain(_ a: [Double], head: ClusterHead, beta: Double, cluster: Int? = nil) -> Explanation {
        let c = cluster ?? head.assign(a)
        let net = NeuralizedHead(head: head, cluster: c)
        let h = net.detection(a)
        let f: Double
        var scaled: [Double]   // R_k / h_k
        switch head.mode {
        case .relative:
            f = h.min()!
            let rk = MinTakesMost(beta: beta).relevance(detection: h)
            scaled = zip(rk, h).map { $1 != 0 ? $0 / $1 : 0 }
        case .absolute:
            f = LogMeanExp.value(h, g: -1)
            // R_k = p_k f_c, reassigned to p_k f_c h_k / f_c = p_k h_k, so R_k / h_k = p_k.
            scaled = beta > 0 ? LogMeanExp.weights(h, g: -beta) : [Double](repeating: 1 / Double(h.count), count: h.count)
        }
        if case .relative = head.mode, f == 0 { scaled = scaled.map { _ in 0 } }
        var r = [Double](repeating: 0, count: a.count)
        for j in net.competitors.indices {
            for i in a.indices { r[i] += (a[i] - net.roots[j][i]) * net.weights[j][i] * scaled[j] }
        }
        return Explanation(cluster: c, logit: f, relevance: r)
    }
}
