/// One LRP rule: how a layer of Psi carries relevance from its output to its input (paper Sec. IV,
/// rules of Montavon et al. 2019). A rule knows nothing of where it is used: `LRPComposite` maps
/// layer kinds to rules, as zennit separates rules from composites. `PsiNetwork` asks its composite
/// for each layer's rule once, at init.
///
/// Adding a rule: one type conforming to `LRPRule` (and a line in the composite that uses it).
public protocol LRPRule: Sendable {
    /// The parameter sets the rule uses on a layer with weights (conv2d, linear), prepared once per
    /// layer in the network's precision: w' = w + gamma clamp(w) per set (zennit's ParamMod). The
    /// first set is the one the basic form and the batched conv path use. Empty for rules without weights.
    var parameterModifiers: [ParameterModifier] { get }
    /// R_in from R_out for one sample.
    func propagate<T: NeonScalar>(_ step: LRPStep<T>)
}

extension LRPRule {
    public var parameterModifiers: [ParameterModifier] { [] }
}

/// Rules that take the basic form on a layer with weights:
///   R_i = x_i sum_j w'_ij R_j / (z'_j + eps sign z'_j),  z'_j = sum_i x_i w'_ij + b'_j,  sign(0) = +1,
/// with the first parameter set w', b' (LRP-0, LRP-epsilon, and LRP-gamma where it reduces to this).
/// The batched conv path (PsiNetwork+Batch) runs this form for many samples in one GEMM.
public protocol BasicFormRule: LRPRule {
    /// eps of the denominator.
    var stabiliser: Double { get }
    /// Whether this sample's relevance through the layer is exactly the basic form's.
    func takesBasicForm<T: NeonScalar>(_ step: LRPStep<T>) -> Bool
}

extension BasicFormRule {
    public func takesBasicForm<T: NeonScalar>(_ step: LRPStep<T>) -> Bool { true }

    /// The basic form for one sample.
    public func propagateBasicForm<T: NeonScalar>(_ step: LRPStep<T>) { step.basicForm(stabiliser: stabiliser) }
}
