/// A k-means clustering model: K centroids in R^d (row-major, float64).
public struct KMeansModel: Equatable, Sendable {
    public let clusters: Int
    public let features: Int
    /// centroids[k * features + i] = mu_ki
    public let centroids: [Double]

    public init(clusters: Int, features: Int, centroids: [Double]) {
        precondition(clusters >= 2, "k-means NEON needs K >= 2 clusters")
        precondition(features >= 1 && centroids.count == clusters * features)
        self.clusters = clusters
        self.features = features
        self.centroids = centroids
    }

    public func centroid(_ k: Int) -> ArraySlice<Double> {
        centroids[(k * features)..<((k + 1) * features)]
    }

    /// |x - mu_k|^2 for every k.
    public func squaredDistances(_ x: [Double]) -> [Double] {
        (0..<clusters).map { k in
            zip(x, centroid(k)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
    }

    /// The k-means decision (Eq. 1): the nearest centroid, the lowest index on ties.
    public func assign(_ x: [Double]) -> Int {
        let dist = squaredDistances(x)
        var best = 0
        for k in 1..<clusters where dist[k] < dist[best] { best = k }
        return best
    }

    /// The mean of the centroids: the origin the fast path shifts to (every NEON quantity is
    /// translation invariant, and the shift keeps float32 GEMMs accurate).
    public var meanCentroid: [Double] {
        var m = [Double](repeating: 0, count: features)
        for k in 0..<clusters {
            for i in 0..<features { m[i] += centroids[k * features + i] }
        }
        return m.map { $0 / Double(clusters) }
    }
}
