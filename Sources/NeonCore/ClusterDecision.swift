/// A clustering model as the explanation methods and Algorithm 1 (Sec. VII-A) see it: the
/// decision (assignment), the logit f_c of a cluster c (x is assigned to c iff f_c(x) > 0), its
/// exact gradient, and NEON. k-means and kernel k-means conform here, and deep clustering
/// (`DeepClusteringDecision`: Psi and a clustering head) with gradients by backpropagation, NEON
/// by LRP and, for tensor inputs, `missingFeatures` .zero (activations: a missing channel is set
/// to zero, Sec. VII-A) with one feature group per channel.
public protocol ClusterDecision: Sendable {
    var features: Int { get }
    var clusters: Int { get }
    /// How Algorithm 1 and PDA fill in features that are not known: KDE conditional sampling
    /// (Appendix G) for tabular data, zero for activations of a deep network.
    var missingFeatures: MissingFeatures { get }
    /// The units Algorithm 1 adds (default: one per feature; FeatureGroups.swift).
    var featureGroups: FeatureGroups { get }
    /// The cluster of x (the lowest index on ties).
    func assign(_ x: [Double]) -> Int
    /// f_c(x) = min_{k != c} h_k(x) for the model's network.
    func logit(_ x: [Double], cluster c: Int) -> Double
    /// The exact gradient of f_c at x: that of h_k at the minimising competitor k.
    func logitGradient(_ x: [Double], cluster c: Int) -> [Double]
    /// NEON relevance of f_c (assigned cluster c) with min-take-most stiffness beta.
    func neon(_ x: [Double], cluster c: Int, beta: Double) -> [Double]
    /// Nearest centroid analysis (k-means only): nil for other models.
    func nearestCentroidAnalysis(_ x: [Double], cluster c: Int) -> [Double]?
}

public enum MissingFeatures: Sendable {
    case kdeConditional
    case zero
}
