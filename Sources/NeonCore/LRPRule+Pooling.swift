/// Max pooling, winner-take-all (paper Sec. IV): each output's relevance goes to the first maximum
/// of its window.
public struct WinnerTakesAllRule: LRPRule {
    public init() {}

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) {
        guard case let .maxPool2d(k, s) = step.layer, case let .image(c, h, w) = step.inputShape,
              case let .image(_, ho, wo) = step.outputShape else {
            preconditionFailure("winner-take-all needs a maxpool2d layer, not \(step.layer.typeName)")
        }
        PsiNetwork<T>.routeToMaxima(step.relevanceOut, x: step.input, into: step.relevanceIn, channels: c, height: h,
                                    width: w, outHeight: ho, outWidth: wo, kernel: k, stride: s)
    }
}

/// Average pooling (avgpool2d, global_avg_pool), proportional: R_i = x_i / sum_window x R_j. A window
/// whose inputs sum to 0 (an all-zero ReLU map) passes no relevance down (as zennit's Norm rule):
/// spreading it over switched-off units would feed it to the gamma rule's negative denominators.
public struct ProportionalRule: LRPRule {
    public init() {}

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) {
        let x = step.input, rOut = step.relevanceOut, rIn = step.relevanceIn
        switch (step.layer, step.inputShape, step.outputShape) {
        case let (.avgPool2d(k, s), .image(c, h, w), .image(_, ho, wo)):
            rIn.update(repeating: 0, count: step.inputCount)
            for ch in 0..<c {
                let plane = x + ch * h * w, rp = rIn + ch * h * w
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum: T = 0
                        for dy in 0..<k { for dx in 0..<k { sum += plane[(oy * s + dy) * w + ox * s + dx] } }
                        let rj = rOut[(ch * ho + oy) * wo + ox]
                        for dy in 0..<k {
                            for dx in 0..<k {
                                let idx = (oy * s + dy) * w + ox * s + dx
                                if sum != 0 { rp[idx] += plane[idx] / sum * rj }
                            }
                        }
                    }
                }
            }
        case let (.globalAvgPool, .image(c, h, w), _):
            let n = h * w
            for ch in 0..<c {
                let plane = x + ch * n
                var sum: T = 0
                for j in 0..<n { sum += plane[j] }
                let rj = rOut[ch]
                for j in 0..<n { rIn[ch * n + j] = sum != 0 ? plane[j] / sum * rj : 0 }
            }
        default:
            preconditionFailure("the proportional rule needs an average pooling layer, not \(step.layer.typeName)")
        }
    }
}
