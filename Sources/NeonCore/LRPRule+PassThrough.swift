/// Layers that pass relevance through unchanged (relu, flatten: R_in = R_out).
public struct PassThroughRule: LRPRule {
    public init() {}

    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) {
        step.relevanceIn.update(from: step.relevanceOut, count: step.inputCount)
    }
}
