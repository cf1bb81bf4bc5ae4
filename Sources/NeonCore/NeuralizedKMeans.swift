/// The k-means decision for cluster c rewritten as a two-layer network (paper Prop. 1):
///   h_k = w_k.x + b_k (layer 1, detection),  w_k = 2(mu_c - mu_k),  b_k = |mu_k|^2 - |mu_c|^2,
///   f_c = min_{k != c} h_k (layer 2, min-pooling);  x is assigned to c iff f_c(x) > 0.
/// This is the explicit, layer-by-layer form: the reference the fast path is tested against.
public struct NeuralizedKMeans: Sendable {
    public let cluster: Int
    /// The competitors k != c, in increasing order; row j of `weights`/`biases` belongs to competitors[j].
    public let competitors: [Int]
    public let weights: [[Double]]
    public let biases: [Double]
    /// Midpoints m_k = (mu_c + mu_k) / 2 used by the midpoint rule (Eq. 4).
    public let midpoints: [[Double]]

    public init(model: KMeansModel, cluster c: Int) {
        precondition((0..<model.clusters).contains(c))
        let muC = Array(model.centroid(c))
        let normC = muC.reduce(0) { $0 + $1 * $1 }
        cluster = c
        competitors = (0..<model.clusters).filter { $0 != c }
        var w: [[Double]] = [], b: [Double] = [], m: [[Double]] = []
        for k in competitors {
            let muK = Array(model.centroid(k))
            w.append(zip(muC, muK).map { 2 * ($0 - $1) })
            b.append(muK.reduce(0) { $0 + $1 * $1 } - normC)
            m.append(zip(muC, muK).map { ($0 + $1) / 2 })
        }
        weights = w
        biases = b
        midpoints = m
    }

    /// Layer 1: h_k = w_k.x + b_k for each competitor.
    public func detection(_ x: [Double]) -> [Double] {
        zip(weights, biases).map { w, b in zip(w, x).reduce(b) { $0 + $1.0 * $1.1 } }
    }

    /// Layer 2: f_c = min_k h_k.
    public func logit(_ x: [Double]) -> Double { detection(x).min()! }
}
