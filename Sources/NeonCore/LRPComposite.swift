/// Which LRP rule each layer of Psi uses, chosen by the layer's kind: zennit's composites. Rules
/// (`LRPRule`) know nothing of where they are used; a composite is only this mapping. The job
/// file's explain.lrp settings build the standard one (`LRPRules.composite`).
public struct LRPComposite: Sendable {
    public var rules: [PsiLayer.Kind: any LRPRule]

    public init(_ rules: [PsiLayer.Kind: any LRPRule]) { self.rules = rules }

    /// The rule for `layer` (every kind a network uses must have one).
    public func rule(for layer: PsiLayer) -> any LRPRule {
        guard let r = rules[layer.kind] else { preconditionFailure("the LRP composite has no rule for \(layer.typeName)") }
        return r
    }
}
