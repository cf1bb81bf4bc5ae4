/// The LRP settings that carry relevance from the head's input a = Psi(x) down to x (paper Sec. IV:
/// "all layers up to layer L+1 form a standard neural network"; rules of Montavon et al. 2019), as the
/// job file's explain.lrp section gives them. `composite` turns them into rule types per layer kind:
///   conv2d   LRP-gamma (`GammaRule`; gamma = 0: LRP-0, `ZeroRule`)
///   linear   LRP-epsilon (`EpsilonRule`, eps = `epsilon`) or LRP-gamma as for conv2d
///   maxpool  winner-take-all (`WinnerTakesAllRule`)
///   avgpool, global average pool: proportional (`ProportionalRule`)
///   relu, flatten: pass relevance through unchanged (`PassThroughRule`).
/// LRP-gamma is zennit's generalised form (GammaRule): on non-negative inputs with relevance only on
/// positive outputs (a VGG-style Psi, every conv followed by a ReLU) it is the paper's
/// R_i = sum_j x_i w'_ij / (z'_j + eps sign z'_j) R_j, w' = w + gamma w^+, z'_j = sum_i x_i w'_ij + b_j + gamma b_j^+;
/// on signed inputs, or on a last layer whose negative outputs carry relevance (a Psi that ends in a
/// Linear layer), the two differ and the generalised form keeps the relevance bounded. sign(0) = +1.
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
