/// LRP-gamma (Montavon et al. 2019) in zennit's generalised form for inputs and outputs of both
/// signs (zennit's `Gamma`, src/zennit/rules.py, since 0.5; Andéol et al. 2021). Contributions
/// x_i w_ij of the output's sign are raised by (1 + gamma):
///   z_j > 0:  R_i = sum_j (x_i^+ w^+_ij + x_i^- w^-_ij) R_j / D^+_j,
///             D^+_j = sum_i (x_i^+ w^+_ij + x_i^- w^-_ij) + b_j + gamma b_j^+
///   z_j < 0:  R_i = sum_j (x_i^+ w^-_ij + x_i^- w^+_ij) R_j / D^-_j,
///             D^-_j = sum_i (x_i^+ w^-_ij + x_i^- w^+_ij) + b_j + gamma b_j^-
///   z_j = 0:  nothing passes,
/// with w^+ = w + gamma max(w, 0), w^- = w + gamma min(w, 0), x^+ = max(x, 0), x^- = min(x, 0) and
/// D + eps sign D (sign(0) = +1) in the denominators. D_j has the sign of z_j and |D_j| >= |z_j|, so a
/// unit's relevance is split over its inputs without blowing up: bias-free, sum_i R_i = sum_j R_j.
///
/// On non-negative inputs with relevance only on positive outputs (every layer followed by a ReLU)
/// this is the basic form with w' = w^+, b' = b + gamma b^+ (the rule as written in the paper),
/// exactly; the basic form is then used (one GEMM, and batched over samples). Elsewhere the basic
/// form would divide by z_j + gamma (positive part) on a negative z_j, which can be near 0.
public struct GammaRule: BasicFormRule {
    public let gamma: Double
    public let stabiliser: Double

    public init(gamma: Double, stabiliser: Double = 1e-6) {
        self.gamma = gamma
        self.stabiliser = stabiliser
    }

    /// w^+ (the basic form's) and w^-.
    public var parameterModifiers: [ParameterModifier] {
        [ParameterModifier(gamma: gamma, part: .positive), ParameterModifier(gamma: gamma, part: .negative)]
    }

    /// x >= 0 and R_j = 0 wherever z_j <= 0.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func takesBasicForm<T: NeonScalar>(_ step: LRPStep<T>) -> Bool {
        let x = step.input, y = step.output, r = step.relevanceOut
        for i in 0..<step.inputCount where x[i] < 0 { return false }
        for j in 0..<step.outputCount where !(y[j] > 0) && r[j] != 0 { return false }
        return true
    }

    public func propagate<T: NeonScalar>(_ step: LRPStep<T>) {
        if takesBasicForm(step) {
            propagateBasicForm(step)
        } else {
            propagateGeneralised(step)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func propagateGeneralised<T: NeonScalar>(_ step: LRPStep<T>) {
        let nIn = step.inputCount, nOut = step.outputCount
        let b = step.workspace.scratch(7)
        let (xp, xn, u, v, dp, dn, t) = (b[0], b[1], b[2], b[3], b[4], b[5], b[6])
        let x = step.input, y = step.output, rOut = step.relevanceOut, rIn = step.relevanceIn
        var signed = false
        for i in 0..<nIn {
            xp[i] = max(x[i], 0)
            xn[i] = min(x[i], 0)
            signed = signed || x[i] < 0
        }
        // D^+ = w^+ x^+ + b^+ + w^- x^-,  D^- = w^- x^+ + b^- + w^+ x^-  (set 0: w^+, set 1: w^-)
        step.forward(set: 0, xp, bias: true, into: dp)
        step.forward(set: 1, xp, bias: true, into: dn)
        if signed {
            step.forward(set: 1, xn, bias: false, into: t)
            for j in 0..<nOut { dp[j] += t[j] }
            step.forward(set: 0, xn, bias: false, into: t)
            for j in 0..<nOut { dn[j] += t[j] }
        }
        // s^+ = R / D^+ where z > 0, s^- = R / D^- where z < 0
        let eps = T(stabiliser)
        LRPStep<T>.divide(rOut, by: dp, stabiliser: eps, count: nOut)
        LRPStep<T>.divide(rOut, by: dn, stabiliser: eps, count: nOut)
        for j in 0..<nOut {
            if !(y[j] > 0) { dp[j] = 0 }
            if !(y[j] < 0) { dn[j] = 0 }
        }
        // R_in = x^+ (w^+T s^+ + w^-T s^-) + x^- (w^-T s^+ + w^+T s^-)
        step.backward(set: 0, UnsafePointer(dp), into: u)
        step.backward(set: 1, UnsafePointer(dn), into: v)
        for i in 0..<nIn { rIn[i] = xp[i] * (u[i] + v[i]) }
        if signed {
            step.backward(set: 1, UnsafePointer(dp), into: u)
            step.backward(set: 0, UnsafePointer(dn), into: v)
            for i in 0..<nIn { rIn[i] += xn[i] * (u[i] + v[i]) }
        }
    }
}
