/// A kernel k-means model (paper Sec. III): M support vectors u_j in R^d (row-major, float64),
/// each representing one of K clusters (supportCluster[j] in 0..<K, rows in any order, clusters
/// may have different numbers of support vectors), and the stiffness gamma > 0 of the soft
/// min-pooling LME^-gamma (Eq. 7). K = max(supportCluster) + 1.
public struct KernelKMeansModel: Equatable, Sendable {
    public let clusters: Int
    public let features: Int
    /// supportVectors[j * features + f] = u_jf
    public let supportVectors: [Double]
    public let supportCluster: [Int]
    public let gamma: Double
    /// members[k] = the indices j of cluster k's support vectors (C_k), increasing.
    public let members: [[Int]]

    /// Why a model is rejected (one line for the user).
    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case noFeatures
        case shape(supportVectors: Int, features: Int)
        case clusterCount(supportVectors: Int, supportCluster: Int)
        case clusterOutOfRange(index: Int, value: Int)
        case tooFewClusters(Int)
        case emptyCluster(Int)
        case gamma(Double)
        case nonFinite(index: Int)

        public var description: String {
            switch self {
            case .noFeatures: return "support vectors need at least one feature"
            case let .shape(n, d): return "\(n) support vector values are not a multiple of \(d) features"
            case let .clusterCount(m, n): return "support_cluster has length \(n), expected \(m) (one per support vector)"
            case let .clusterOutOfRange(j, v): return "support_cluster[\(j)] = \(v) is negative"
            case let .tooFewClusters(k): return "kernel k-means NEON needs K >= 2 clusters, got \(k)"
            case let .emptyCluster(k): return "cluster \(k) has no support vector (clusters must be 0..K-1)"
            case let .gamma(g): return "gamma must be a finite number > 0, got \(g)"
            case let .nonFinite(i): return "support vector value \(i) is not finite"
            }
        }
    }

    public init(features: Int, supportVectors: [Double], supportCluster: [Int], gamma: Double) throws {
        guard features >= 1 else { throw Invalid.noFeatures }
        guard supportVectors.count % features == 0, !supportVectors.isEmpty else {
            throw Invalid.shape(supportVectors: supportVectors.count, features: features)
        }
        let M = supportVectors.count / features
        guard supportCluster.count == M else { throw Invalid.clusterCount(supportVectors: M, supportCluster: supportCluster.count) }
        if let j = supportCluster.firstIndex(where: { $0 < 0 }) {
            throw Invalid.clusterOutOfRange(index: j, value: supportCluster[j])
        }
        let K = supportCluster.max()! + 1
        guard K >= 2 else { throw Invalid.tooFewClusters(K) }
        var members = [[Int]](repeating: [], count: K)
        for (j, k) in supportCluster.enumerated() { members[k].append(j) }
        if let k = members.firstIndex(where: { $0.isEmpty }) { throw Invalid.emptyCluster(k) }
        guard gamma > 0, gamma.isFinite else { throw Invalid.gamma(gamma) }
        if let i = supportVectors.firstIndex(where: { !$0.isFinite }) { throw Invalid.nonFinite(index: i) }
        self.clusters = K
        self.features = features
        self.supportVectors = supportVectors
        self.supportCluster = supportCluster
        self.gamma = gamma
        self.members = members
    }

    /// M, the number of support vectors.
    public var count: Int { supportCluster.count }

    public func supportVector(_ j: Int) -> ArraySlice<Double> {
        supportVectors[(j * features)..<((j + 1) * features)]
    }

    /// d_j = |x - u_j|^2 for every support vector j.
    public func squaredDistances(_ x: [Double]) -> [Double] {
        (0..<count).map { j in
            zip(x, supportVector(j)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
    }

    /// D_k = LME^-gamma_{j in C_k} d_j (Eq. 7, with the 1/|C_k| inside the log) for every k.
    public func softMinDistances(_ x: [Double]) -> [Double] {
        let d = squaredDistances(x)
        return members.map { LogMeanExp.value($0.map { d[$0] }, g: -gamma) }
    }

    /// The kernel k-means decision (Eq. 6): the smallest D_k, the lowest index on ties.
    public func assign(_ x: [Double]) -> Int {
        let dist = softMinDistances(x)
        var best = 0
        for k in 1..<clusters where dist[k] < dist[best] { best = k }
        return best
    }

    /// The mean of the support vectors: the origin the fast path shifts to (every NEON quantity
    /// is translation invariant, and the shift keeps float32 GEMMs accurate).
    public var meanSupportVector: [Double] {
        var m = [Double](repeating: 0, count: features)
        for j in 0..<count {
            for f in 0..<features { m[f] += supportVectors[j * features + f] }
        }
        return m.map { $0 / Double(count) }
    }
}
