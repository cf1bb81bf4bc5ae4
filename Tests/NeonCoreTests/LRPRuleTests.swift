import Foundation
import XCTest
@testable import NeonCore

/// The LRP rule types and the composite: each rule against a hand-computed example, the
/// generalised gamma rule against zennit's formula, its reduction to the paper's gamma rule, and
/// the relevance it keeps bounded where the rule as written blows up.
final class LRPRuleTests: XCTestCase {
    /// GammaRule always in its generalised form (to compare it with the basic form it reduces to).
    struct GeneralisedGamma: LRPRule {
        let rule: GammaRule
        var parameterModifiers: [ParameterModifier] { rule.parameterModifiers }
        func propagate<T: NeonScalar>(_ step: LRPStep<T>) { rule.propagateGeneralised(step) }
    }

    /// GammaRule always in its basic form: the rule as written, w' = w + gamma w^+ for every output.
    struct BasicGamma: LRPRule {
        let rule: GammaRule
        var parameterModifiers: [ParameterModifier] { rule.parameterModifiers }
        func propagate<T: NeonScalar>(_ step: LRPStep<T>) { rule.propagateBasicForm(step) }
    }

    func lrp(_ psi: PsiNetwork<Double>, _ x: [Double], _ relevance: [Double]) -> [Double] {
        let ws = psi.makeWorkspace()
        x.withUnsafeBufferPointer { _ = psi.forward($0.baseAddress!, ws) }
        var out = [Double](repeating: .nan, count: psi.inputCount)
        relevance.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { psi.backward(relevance: r.baseAddress!, ws, into: $0.baseAddress!) }
        }
        return out
    }

    func linearNet(_ l: LinearLayer, _ rule: any LRPRule) throws -> PsiNetwork<Double> {
        try PsiNetwork<Double>(layers: [.linear(l)], input: .vector(l.inFeatures), composite: LRPComposite([.linear: rule]))
    }

    func forward(_ l: LinearLayer, _ x: [Double]) -> [Double] {
        (0..<l.outFeatures).map { j in (0..<l.inFeatures).reduce(l.bias[j]) { $0 + l.weight[j * l.inFeatures + $1] * x[$1] } }
    }

    /// zennit's generalised Gamma (src/zennit/rules.py) with loops, for a linear layer.
    func zennitGamma(_ l: LinearLayer, _ x: [Double], _ r: [Double], gamma: Double, eps: Double) -> [Double] {
        let z = forward(l, x), d = l.inFeatures
        func wp(_ w: Double) -> Double { w + gamma * max(w, 0) }
        func wn(_ w: Double) -> Double { w + gamma * min(w, 0) }
        var out = [Double](repeating: 0, count: d)
        for j in 0..<l.outFeatures where z[j] != 0 {
            // positive outputs favour x^+ w^+ and x^- w^-, negative ones x^+ w^- and x^- w^+
            let pos = z[j] > 0
            let c = (0..<d).map { i -> Double in
                let w = l.weight[j * d + i]
                return max(x[i], 0) * (pos ? wp(w) : wn(w)) + min(x[i], 0) * (pos ? wn(w) : wp(w))
            }
            let b = l.bias[j] + gamma * (pos ? max(l.bias[j], 0) : min(l.bias[j], 0))
            let den = c.reduce(b, +)
            let s = r[j] / (den + (den >= 0 ? eps : -eps))
            for i in 0..<d { out[i] += c[i] * s }
        }
        return out
    }

    func randomLinear(_ o: Int, _ i: Int, rng: inout SplitMix, bias: Bool = true) -> LinearLayer {
        LinearLayer(outFeatures: o, inFeatures: i, weight: (0..<(o * i)).map { _ in rng.normal() },
                    bias: bias ? (0..<o).map { _ in 0.2 * rng.normal() } : nil)
    }

    // MARK: - the generalised gamma rule

    /// Signed inputs and outputs: the network's rule is zennit's formula.
    func testGammaIsZennitsGeneralisedFormOnSignedInputs() throws {
        var rng = SplitMix(seed: 31)
        for _ in 0..<20 {
            let l = randomLinear(5, 7, rng: &rng)
            let x = (0..<7).map { _ in rng.normal() }, r = (0..<5).map { _ in rng.normal() }
            let got = lrp(try linearNet(l, GammaRule(gamma: 0.25, stabiliser: 1e-9)), x, r)
            let ref = zennitGamma(l, x, r, gamma: 0.25, eps: 1e-9)
            XCTAssertLessThan(relativeError(got, ref), 1e-12)
        }
    }

    /// On non-negative inputs with relevance only on positive outputs, the generalised form is the
    /// paper's rule (the basic form) bit for bit, for a conv layer and a linear one.
    func testGeneralisedGammaReducesToBasicOnNonNegativeInputs() throws {
        var rng = SplitMix(seed: 32)
        let conv = Conv2DLayer(outChannels: 4, inChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
                               weight: (0..<108).map { _ in rng.normal() / 5 }, bias: (0..<4).map { _ in 0.1 * rng.normal() })
        let lin = randomLinear(6, 9, rng: &rng)
        let cases: [(PsiLayer, TensorShape, PsiLayer.Kind)] = [(.conv2d(conv), .image(channels: 3, height: 5, width: 5), .conv2d),
                                                               (.linear(lin), .vector(9), .linear)]
        for (layer, shape, kind) in cases {
            let g = GammaRule(gamma: 0.3, stabiliser: 1e-6)
            let gen = try PsiNetwork<Double>(layers: [layer], input: shape, composite: LRPComposite([kind: GeneralisedGamma(rule: g)]))
            let basic = try PsiNetwork<Double>(layers: [layer], input: shape, composite: LRPComposite([kind: BasicGamma(rule: g)]))
            let auto = try PsiNetwork<Double>(layers: [layer], input: shape, composite: LRPComposite([kind: g]))
            for _ in 0..<10 {
                let x = (0..<shape.count).map { _ in abs(rng.normal()) }
                let ws = basic.makeWorkspace()
                let y = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: basic.forward($0.baseAddress!, ws), count: basic.outputCount)) }
                XCTAssert(y.contains { $0 < 0 })
                let r = y.map { $0 > 0 ? rng.normal() : 0 }
                let rb = lrp(basic, x, r)
                XCTAssertEqual(lrp(gen, x, r), rb, "\(kind)")
                XCTAssertEqual(lrp(auto, x, r), rb, "\(kind)")
                // with relevance on a negative output as well they differ
                let r2 = y.map { _ in rng.normal() }
                XCTAssertGreaterThan(relativeError(lrp(gen, x, r2), lrp(basic, x, r2)), 1e-6, "\(kind)")
                XCTAssertEqual(lrp(auto, x, r2), lrp(gen, x, r2), "\(kind)")
            }
        }
    }

    /// A Linear layer on ReLU features (x >= 0) with mixed-sign weights and a bias, whose output
    /// z_0 < 0 carries relevance (as the last layer of a Psi): the rule as written divides by
    /// z'_0 = z_0 + gamma (sum of positive contributions + b^+), near 0 here, and its relevance sum
    /// blows up; the generalised rule divides by D^-_0 <= z_0 and stays within [0, 2] R_0.
    func testGeneralisedGammaStaysBoundedWhereTheBasicFormBlowsUp() throws {
        let l = LinearLayer(outFeatures: 2, inFeatures: 3, weight: [4, 4, -9, 1, -0.5, 0.25], bias: [0.15, 0.1])
        let x = [1.0, 1, 1]
        let y = forward(l, x)
        XCTAssertLessThan(y[0], 0)
        let g = GammaRule(gamma: 0.1, stabiliser: 1e-6)
        for r in [[1.0, 0], [-2.0, 0], [0.7, 0.3]] {
            let total = r.reduce(0, +)
            let basic = lrp(try linearNet(l, BasicGamma(rule: g)), x, r).reduce(0, +) / total
            let general = lrp(try linearNet(l, g), x, r).reduce(0, +) / total
            XCTAssertGreaterThan(abs(basic), 2, "the constructed case blows the rule as written up")
            XCTAssert((0...2).contains(general), "\(general)")
        }
    }

    /// Bias-free, the generalised rule conserves relevance unit by unit on signed inputs and outputs
    /// (its denominators are its contributions' sums); gamma = 0 is LRP-0.
    func testGeneralisedGammaConservesAndGammaZeroIsLRPZero() throws {
        var rng = SplitMix(seed: 33)
        for _ in 0..<20 {
            let l = randomLinear(4, 6, rng: &rng, bias: false)
            let x = (0..<6).map { _ in rng.normal() }, r = (0..<4).map { _ in rng.normal() }
            let got = lrp(try linearNet(l, GammaRule(gamma: 0.5, stabiliser: 0)), x, r)
            XCTAssertEqual(got.reduce(0, +), r.reduce(0, +), accuracy: 1e-12 * r.map(abs).reduce(0, +))
            let zero = lrp(try linearNet(l, GeneralisedGamma(rule: GammaRule(gamma: 0, stabiliser: 0))), x, r)
            XCTAssertLessThan(relativeError(zero, lrp(try linearNet(l, ZeroRule(stabiliser: 0)), x, r)), 1e-12)
        }
    }

    // MARK: - each rule against a hand-computed example

    /// x = (1, 2), W = [[1, -1], [2, 1]], b = (0.5, 0): z = (-0.5, 4), R = (1, 2).
    let tiny = LinearLayer(outFeatures: 2, inFeatures: 2, weight: [1, -1, 2, 1], bias: [0.5, 0])

    func testZeroAndEpsilonByHand() throws {
        let x = [1.0, 2], r = [1.0, 2]
        // LRP-0: R_i = x_i sum_j w_ji R_j / z_j = (1 (1 / -0.5) + 2 (2 / 4), 2 (-1 / -0.5 + 1 (2 / 4)))
        let zero = lrp(try linearNet(tiny, ZeroRule(stabiliser: 0)), x, r)
        XCTAssertEqual(zero[0], -2 + 1, accuracy: 1e-15)
        XCTAssertEqual(zero[1], 2 * (2 + 0.5), accuracy: 1e-15)
        // epsilon = 0.5: z_j + eps sign z_j = (-1, 4.5)
        let eps = lrp(try linearNet(tiny, EpsilonRule(epsilon: 0.5)), x, r)
        let s0: Double = 1 / -1.0, s1: Double = 2 / 4.5
        XCTAssertEqual(eps[0], 1 * (1 * s0 + 2 * s1), accuracy: 1e-15)
        XCTAssertEqual(eps[1], 2 * (-1 * s0 + 1 * s1), accuracy: 1e-15)
        // the bias keeps its share: sum_i R_i = R_0 (z_0 - b_0) / z_0 + R_1
        let kept: Double = 1 * (-0.5 - 0.5) / -0.5 + 2
        XCTAssertEqual(zero.reduce(0, +), kept, accuracy: 1e-15)
    }

    func testGammaByHand() throws {
        let x = [1.0, 2], r = [1.0, 2], g = 0.5
        let got = lrp(try linearNet(tiny, GammaRule(gamma: g, stabiliser: 0)), x, r)
        // z_0 = -0.5 < 0: w^- = (1, -1.5), b^- = 0.5, D^- = 1 - 3 + 0.5 = -1.5
        // z_1 = 4 > 0:    w^+ = (3, 1.5),  b^+ = 0,   D^+ = 3 + 3 = 6
        let sNeg: Double = 1 / -1.5, sPos: Double = 2.0 / 6
        XCTAssertEqual(got[0], 1 * (1 * sNeg + 3 * sPos), accuracy: 1e-15)
        XCTAssertEqual(got[1], 2 * (-1.5 * sNeg + 1.5 * sPos), accuracy: 1e-15)
    }

    func testPoolingAndPassThroughByHand() throws {
        // one channel, 2 x 2 -> 1: max 3 at (1, 0); average proportional to x; global likewise.
        let x = [1.0, 0, 3, 2], r = [6.0]
        let shape = TensorShape.image(channels: 1, height: 2, width: 2)
        let maxNet = try PsiNetwork<Double>(layers: [.maxPool2d(kernel: 2, stride: 2)], input: shape,
                                            composite: LRPComposite([.maxPool2d: WinnerTakesAllRule()]))
        XCTAssertEqual(lrp(maxNet, x, r), [0, 0, 6, 0])
        for layer in [PsiLayer.avgPool2d(kernel: 2, stride: 2), .globalAvgPool] {
            let net = try PsiNetwork<Double>(layers: [layer], input: shape, composite: LRPComposite([layer.kind: ProportionalRule()]))
            XCTAssertEqual(lrp(net, x, r), [1, 0, 3, 2])
            XCTAssertEqual(lrp(net, [0, 0, 0, 0], r), [0, 0, 0, 0], "an all-zero window passes nothing")
        }
        let pass = try PsiNetwork<Double>(layers: [.relu, .flatten], input: shape, composite: LRPComposite([.relu: PassThroughRule(), .flatten: PassThroughRule()]))
        XCTAssertEqual(lrp(pass, [-1, 2, 0, 3], [4, -5, 6, 7]), [4, -5, 6, 7])
    }

    // MARK: - the composite

    /// LRPRules (the job file's explain.lrp) builds a composite that maps each layer kind to its rule.
    func testCompositeOfTheSettingsMapsLayerKindsToRules() {
        let c = LRPRules(convGamma: 0.25, linearRule: .epsilon, epsilon: 1e-5).composite
        let conv = c.rules[.conv2d] as? GammaRule
        XCTAssertEqual(conv?.gamma, 0.25)
        XCTAssertEqual(conv?.stabiliser, 1e-5)
        XCTAssertEqual((c.rules[.linear] as? EpsilonRule)?.epsilon, 1e-5)
        XCTAssert(c.rules[.maxPool2d] is WinnerTakesAllRule)
        XCTAssert(c.rules[.avgPool2d] is ProportionalRule && c.rules[.globalAvgPool] is ProportionalRule)
        XCTAssert(c.rules[.relu] is PassThroughRule && c.rules[.flatten] is PassThroughRule)
        XCTAssertEqual(Set(c.rules.keys), Set(PsiLayer.Kind.allCases))
        // gamma = 0 is LRP-0; linear "gamma" is the gamma rule
        let z = LRPRules(convGamma: 0, linearRule: .gamma, linearGamma: 0.1).composite
        XCTAssertEqual((z.rules[.conv2d] as? ZeroRule)?.stabiliser, 1e-6)
        XCTAssertEqual((z.rules[.linear] as? GammaRule)?.gamma, 0.1)
        XCTAssert(LRPRules(linearRule: .gamma, linearGamma: 0).composite.rules[.linear] is ZeroRule)
        // a layer asks its kind
        XCTAssert(c.rule(for: .maxPool2d(kernel: 2, stride: 2)) is WinnerTakesAllRule)
        XCTAssert(c.rule(for: .linear(tiny)) is EpsilonRule)
    }

    /// The summary (provenance, pinned by the end-to-end tests) is unchanged.
    func testSummaryText() {
        XCTAssertEqual(LRPRules().summary,
                       "conv2d: LRP-gamma (gamma = 0.1, stabiliser 1e-06), linear: LRP-epsilon (epsilon = 1e-06), "
                       + "maxpool2d: winner-take-all, avgpool2d/global_avg_pool: proportional, relu/flatten: pass-through")
    }
}
