/// The collective operations a distributed fit needs. NeonCore knows no MPI: the executable
/// implements this with MPI (every rank holds one shard of the rows), `SingleProcess` with one
/// shard holding all rows. Every call is collective: all ranks make the same calls in the same order.
public protocol FitCollectives: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over ranks (float64), the result on every rank.
    func sum(_ values: inout [Double])
    /// Rank 0's values on every rank (other ranks' input is ignored).
    func broadcastFromRoot(_ values: inout [Double])
    /// Every rank's values concatenated in rank order on rank 0 ([] elsewhere).
    func gatherToRoot(_ local: [Double]) -> [Double]
}

extension FitCollectives {
    public var isRoot: Bool { rank == 0 }
}

/// One process holding all rows: the collectives are identities.
public final class SingleProcess: FitCollectives {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: inout [Double]) {}
    public func broadcastFromRoot(_ values: inout [Double]) {}
    public func gatherToRoot(_ local: [Double]) -> [Double] { local }
}

/// What a fit reports after each iteration (rank 0 prints it).
public struct FitProgress: Sendable {
    /// Restart (0-based) and iteration (1-based) within it.
    public let restart: Int
    public let iteration: Int
    /// k-means: inertia of the assignment with the iteration's starting centroids;
    /// kernel k-means: the objective L of Eq. 36 at the E-step.
    public let objective: Double
    /// k-means: squared centroid shift sum_k |mu_k' - mu_k|^2; kernel k-means: |delta L| / |L|.
    public let change: Double
    /// Rows whose cluster changed in this iteration's assignment.
    public let reassigned: Int
    /// k-means: the fraction of rows compared with every centroid in this iteration (1 for plain
    /// Lloyd and the first iteration; less when Hamerly's bounds skip rows); nil for kernel k-means.
    public var recomputedFraction: Double? = nil
    /// k-means with Hamerly's bounds: the fraction of rows compared with the `movers` centroids
    /// that moved most only (each such row costs movers / K of a recomputed one).
    public var moverCheckedFraction: Double? = nil
    public var movers: Int? = nil
}
