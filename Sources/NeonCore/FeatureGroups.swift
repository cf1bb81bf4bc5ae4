/// The units of interpretability Algorithm 1 adds and the explainers are scored on (Sec. VII-B):
/// `count` groups of `size` consecutive input values. Tabular data: one group per feature (size
/// 1). A (C, H, W) tensor of activations: one group per channel (size H W), as the paper scores
/// "the 256 feature maps at the output of block 3 ... explanations in R^256"; a group's relevance
/// is the sum of its values' relevance.
public struct FeatureGroups: Equatable, Sendable {
    public let count: Int
    public let size: Int

    public init(count: Int, size: Int) {
        precondition(count >= 1 && size >= 1)
        self.count = count
        self.size = size
    }

    /// One group per value.
    public static func values(_ d: Int) -> FeatureGroups { FeatureGroups(count: d, size: 1) }

    public var isPerValue: Bool { size == 1 }

    /// The values of group g.
    public func range(_ g: Int) -> Range<Int> { (g * size)..<((g + 1) * size) }

    /// Per-group sums of per-value relevance (the relevance itself when groups are values).
    public func pool(_ r: [Double]) -> [Double] {
        precondition(r.count == count * size)
        if size == 1 { return r }
        return (0..<count).map { g in r[range(g)].reduce(0, +) }
    }
}

extension ClusterDecision {
    /// Default: one group per feature (k-means, kernel k-means).
    public var featureGroups: FeatureGroups { .values(features) }
}
