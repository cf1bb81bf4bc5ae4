/// One NEON explanation of a k-means assignment, computed layer by layer in float64
/// (Prop. 1, then Eq. 2, then Eq. 4). Slow (O(K d) per sample with no BLAS) and obvious:
/// the reference for the tile fast path.
public struct Explanation: Equatable, Sendable {
    public let cluster: Int
    public let logit: Double
    public let relevance: [Double]
}

public enum ReferenceExplainer {
    /// Explains cluster `cluster` (default: the assigned one) for sample x.
    public static func explain(_ x: [Double], model: KMeansModel, beta: Double,
                               cluster: Int? = nil) -> Explanation {
        let c = cluster ?? model.assign(x)
        let net = NeuralizedKMeans(model: model, cluster: c)
        let h = net.detection(x)
        let f = h.min()!
        let rk = MinTakesMost(beta: beta).relevance(detection: h)
        let ri = MidpointRule.relevance(input: x, network: net, detection: h, layerRelevance: rk)
        return Explanation(cluster: c, logit: f, relevance: ri)
    }
}
