/// Which clusters to explain for every sample (`explain.target`): the assigned one, every cluster
/// (the per-cluster maps of the paper's Figs. 7-8), or a list of cluster indices. A target other
/// than the assigned cluster has f_c < 0 (the evidence against it) and is explained by the same
/// network with c fixed.
public enum TargetSelection: Equatable, Sendable {
    case assigned
    case all
    case clusters([Int])

    /// One entry per target: nil = the sample's assigned cluster.
    public func resolve(clusters K: Int) -> [Int?] {
        switch self {
        case .assigned: return [nil]
        case .all: return (0..<K).map { $0 }
        case .clusters(let list): return list.map { $0 }
        }
    }

    /// Whether the outputs have a target axis (every selection but "assigned").
    public var hasAxis: Bool { self != .assigned }
}
