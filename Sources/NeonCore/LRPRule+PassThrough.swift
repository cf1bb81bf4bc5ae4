/// Layers that pass relevance through unchanged (relu, flatten: R_in = R_out).
public struct PassThroughRule: LRPRule {
    public init() {}

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) {
        step.relevanceIn.update(from: step.relevanceOut, count: step.inputCount)
    }
}
