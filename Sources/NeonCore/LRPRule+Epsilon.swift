/// LRP-epsilon (Montavon et al. 2019): the basic form with the layer's own parameters,
///   R_i = x_i sum_j w_ij R_j / (z_j + eps sign z_j);
/// eps absorbs the relevance of weak or contradictory outputs.
public struct EpsilonRule: BasicFormRule {
    public let epsilon: Double
    public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }

    public var stabiliser: Double { epsilon }
    public var parameterModifiers: [ParameterModifier] { [.identity] }

    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) { propagateBasicForm(step) }
}

/// LRP-0: R_i = x_i sum_j w_ij R_j / z_j, i.e. LRP-epsilon with eps only a stabiliser against 0 / 0
/// (and LRP-gamma with gamma = 0). Conserves relevance exactly for bias-free layers.
public struct ZeroRule: BasicFormRule {
    public let stabiliser: Double
    public init(stabiliser: Double = 1e-6) { self.stabiliser = stabiliser }

    public var parameterModifiers: [ParameterModifier] { [.identity] }

    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) { propagateBasicForm(step) }
}
