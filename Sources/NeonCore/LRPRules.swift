/// The LRP rules that carry relevance from the head's input a = Psi(x) down to x (paper Sec. IV:
/// "all layers up to layer L+1 form a standard neural network"; rules of Montavon et al. 2019):
///   conv2d   LRP-gamma: R_i = sum_j x_i w'_ij / (z'_j + eps sign z'_j) R_j,  w' = w + gamma w^+,
///            z'_j = sum_i x_i w'_ij + b_j + gamma b_j^+ (gamma = 0 is LRP-0)
///   linear   LRP-epsilon (w' = w, z' = z, eps = `epsilon`) or LRP-gamma as for conv2d
///   maxpool  winner-take-all (the first maximum of each window gets R_j)
///   avgpool, global average pool: proportional, R_i = x_i / sum_window x R_j; a window whose inputs
///            sum to 0 (an all-zero ReLU map) passes no relevance down (as zennit's Norm rule): spreading
///            it over switched-off units would feed it to the gamma rule's negative denominators
///   relu, flatten: pass relevance through unchanged.
/// The formulas are used as written for inputs of any sign (as zennit's basic Gamma rule): in a
/// VGG-style Psi every conv input but the first is a ReLU output (non-negative), and block-3
/// features fed to block 4 are non-negative too. sign(0) = +1.
public struct LRPRules: Equatable, Sendable {
    public enum LinearRule: String, Sendable, CaseIterable {
        case epsilon
        case gamma
    }

    /// gamma of the conv2d rule (the paper uses 0.1 in VGG-16 blocks 4-5).
    public var convGamma: Double
    public var linearRule: LinearRule
    /// gamma of the linear rule when it is "gamma".
    public var linearGamma: Double
    /// The epsilon of LRP-epsilon and the stabiliser of the gamma rules.
    public var epsilon: Double

    public init(convGamma: Double = 0.1, linearRule: LinearRule = .epsilon, linearGamma: Double = 0.1,
                epsilon: Double = 1e-6) {
        self.convGamma = convGamma
        self.linearRule = linearRule
        self.linearGamma = linearGamma
        self.epsilon = epsilon
    }

    /// "conv2d: LRP-gamma (gamma = 0.1), linear: LRP-epsilon (epsilon = 1e-06), ..."
    public var summary: String {
        let linear = linearRule == .epsilon ? "LRP-epsilon (epsilon = \(epsilon))"
                                            : "LRP-gamma (gamma = \(linearGamma), stabiliser \(epsilon))"
        return "conv2d: LRP-gamma (gamma = \(convGamma), stabiliser \(epsilon)), linear: \(linear), "
            + "maxpool2d: winner-take-all, avgpool2d/global_avg_pool: proportional, relu/flatten: pass-through"
    }
}
