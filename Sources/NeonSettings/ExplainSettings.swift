/// explain.beta: NEON's min-take-most stiffness (Eq. 2).
public enum BetaSetting: Equatable, Sendable {
    /// 1 / mean f_c over the input (Eq. 3).
    case auto
    case fixed(Double)
}

/// explain.target: which clusters' evidence is explained.
public enum TargetSelection: Equatable, Sendable {
    case assigned
    case all
    /// Cluster indices (distinct, >= 0; checked against K when the model is known).
    case clusters([Int])

    /// Whether the outputs get a target axis (every selection but "assigned").
    public var hasAxis: Bool { self != .assigned }

    /// "assigned", "all" or "[0, 3, 5]" (for the resume key and provenance).
    public var text: String {
        switch self {
        case .assigned: return "assigned"
        case .all: return "all"
        case .clusters(let c): return "[" + c.map(String.init).joined(separator: ", ") + "]"
        }
    }
}

/// explain.mode and explain.theta, soft clustering (soft_kmeans, deep_soft): Prop. 6 / Lemma 3
/// or Prop. 7 / Lemma 4.
public enum SoftClusteringMode: Equatable, Sendable {
    case relative
    case absolute(theta: Double)

    /// The names explain.mode accepts.
    public enum Name: String, SettingName {
        case relative
        case absolute
    }
}
