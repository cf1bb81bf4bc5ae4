/// k-means as a `ClusterDecision`: f_c = min_{k != c} h_k with h_k = w_k.x + b_k (Prop. 1), so
/// grad f_c = w_k* = 2(mu_c - mu_k*) at the nearest competitor k* (the minimising h_k).
public struct KMeansDecision: ClusterDecision {
    public let model: KMeansModel
    public init(model: KMeansModel) { self.model = model }

    public var features: Int { model.features }
    public var clusters: Int { model.clusters }
    public var missingFeatures: MissingFeatures { .kdeConditional }

    public func assign(_ x: [Double]) -> Int { model.assign(x) }

    /// The competitor k != c with the smallest h_k = |x - mu_k|^2 - |x - mu_c|^2 (lowest index on ties).
    public func nearestCompetitor(_ x: [Double], cluster c: Int) -> Int {
        let dist = model.squaredDistances(x)
        var best = -1
        for k in 0..<model.clusters where k != c && (best < 0 || dist[k] < dist[best]) { best = k }
        return best
    }

    public func logit(_ x: [Double], cluster c: Int) -> Double {
        let dist = model.squaredDistances(x)
        var m = Double.infinity
        for k in 0..<model.clusters where k != c { m = min(m, dist[k]) }
        return m - dist[c]
    }

    public func logitGradient(_ x: [Double], cluster c: Int) -> [Double] {
        let k = nearestCompetitor(x, cluster: c)
        return zip(model.centroid(c), model.centroid(k)).map { 2 * ($0 - $1) }
    }

    public func neon(_ x: [Double], cluster c: Int, beta: Double) -> [Double] {
        ReferenceExplainer.explain(x, model: model, beta: beta, cluster: c).relevance
    }

    /// NCA (Sec. VII): (x_i - mu_ki)^2 - (x_i - mu_ci)^2 with k the nearest competitor.
    /// For K = 2 this is (x_i - m_i) w_i, NEON's Eq. 4 with the single competitor.
    public func nearestCentroidAnalysis(_ x: [Double], cluster c: Int) -> [Double]? {
        let k = nearestCompetitor(x, cluster: c)
        return (0..<x.count).map { i in
            let a = x[i] - model.centroids[k * model.features + i], b = x[i] - model.centroids[c * model.features + i]
            return a * a - b * b
        }
    }
}
