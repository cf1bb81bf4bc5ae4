import Foundation
import XCTest
@testable import NeonCore

/// Deep clustering as a `ClusterDecision` (Sec. IV, Sec. VII): exact gradients by backpropagation
/// through Psi and the head, IG completeness, NEON equal to the pipeline's engine, and Algorithm 1
/// on channels with zero imputation.
final class DeepClusteringDecisionTests: XCTestCase {
    func conv(_ o: Int, _ i: Int, _ k: Int, stride: Int = 1, padding: Int = 0, rng: inout SplitMix) -> Conv2DLayer {
        Conv2DLayer(outChannels: o, inChannels: i, kernelHeight: k, kernelWidth: k, stride: stride, padding: padding,
                    weight: (0..<(o * i * k * k)).map { _ in rng.normal() / Double(k * k * i).squareRoot() },
                    bias: (0..<o).map { _ in 0.1 * rng.normal() })
    }

    /// Two nets covering every layer type: conv (padding) + relu + maxpool + avgpool + flatten +
    /// linear, and conv (stride 2) + relu + avgpool (stride 1) + global average pool.
    func nets(rng: inout SplitMix) throws -> [PsiNetwork<Double>] {
        let input = TensorShape.image(channels: 3, height: 6, width: 6)
        let a: [PsiLayer] = [.conv2d(conv(4, 3, 3, padding: 1, rng: &rng)), .relu, .maxPool2d(kernel: 2, stride: 2),
                             .avgPool2d(kernel: 2, stride: 1), .flatten,
                             .linear(LinearLayer(outFeatures: 5, inFeatures: 16, weight: (0..<80).map { _ in 0.5 * rng.normal() },
                                                 bias: (0..<5).map { _ in 0.1 * rng.normal() }))]
        let b: [PsiLayer] = [.conv2d(conv(5, 3, 2, stride: 2, rng: &rng)), .relu, .avgPool2d(kernel: 2, stride: 1), .globalAvgPool]
        return [try PsiNetwork<Double>(layers: a, input: input), try PsiNetwork<Double>(layers: b, input: input)]
    }

    func heads(features D: Int, rng: inout SplitMix) -> [ClusterHead] {
        let mu = (0..<(4 * D)).map { _ in rng.normal() }
        return [ClusterHead(clusters: 4, features: D, centroids: mu, logits: .distance(stiffness: 1)),
                ClusterHead(clusters: 4, features: D, centroids: mu, logits: .distance(stiffness: 0.7), mode: .absolute(theta: 0.3)),
                ClusterHead(clusters: 4, features: D, centroids: mu, logits: .dot),
                ClusterHead(clusters: 4, features: D, centroids: mu, logits: .dot, mode: .absolute(theta: 0.6))]
    }

    func image(_ rng: inout SplitMix, count: Int = 108) -> [Double] { (0..<count).map { _ in rng.normal() + 0.2 } }

    /// The two smallest h_k = z_c - z_k (relative mode): f_c has a kink where they meet.
    func competitorGap(_ m: DeepClusteringDecision, _ x: [Double], _ c: Int) -> Double {
        let ws = m.psi!.makeWorkspace()
        let p = x.withUnsafeBufferPointer { m.psi!.forward($0.baseAddress!, ws) }
        let z = m.head.logitValues(Array(UnsafeBufferPointer(start: p, count: m.head.features)))
        let h = (0..<4).filter { $0 != c }.map { z[c] - z[$0] }.sorted()
        return h[1] - h[0]
    }

    /// grad f_c (backpropagation through the head and Psi) against central differences, for the
    /// assigned cluster and another one, every head kind and mode, both nets.
    func testGradientMatchesFiniteDifferences() throws {
        var rng = SplitMix(seed: 51)
        var checked = 0
        for psi in try nets(rng: &rng) {
            for head in heads(features: psi.outputCount, rng: &rng) {
                let model = DeepClusteringDecision(head: head, psi: psi)
                XCTAssertEqual(model.features, 108)
                for _ in 0..<6 {
                    let x = image(&rng)
                    for c in [model.assign(x), 2] {
                        if head.mode == .relative && competitorGap(model, x, c) < 1e-3 { continue }
                        let g = model.logitGradient(x, cluster: c)
                        let h = 1e-6
                        let fd = (0..<x.count).map { i -> Double in
                            var a = x, b = x
                            a[i] += h
                            b[i] -= h
                            return (model.logit(a, cluster: c) - model.logit(b, cluster: c)) / (2 * h)
                        }
                        XCTAssertLessThan(relativeError(g, fd), 1e-6, "\(psi.layers.map(\.typeName)) \(head.logits) \(head.mode)")
                        XCTAssertGreaterThan(g.map(abs).max()!, 0)
                        checked += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 80)
    }

    /// Without Psi (soft k-means on x): grad f_c = sum_k p_k 2 tau (mu_c - mu_k), by differences too.
    func testHeadWithoutPsiGradient() {
        var rng = SplitMix(seed: 52)
        for head in heads(features: 5, rng: &rng) {
            let model = DeepClusteringDecision(head: head, psi: nil)
            XCTAssertEqual(model.missingFeatures, .kdeConditional)
            XCTAssertEqual(model.featureGroups, .values(5))
            let x = (0..<5).map { _ in rng.normal() }
            let c = model.assign(x)
            let fd = (0..<5).map { i -> Double in
                var a = x, b = x
                a[i] += 1e-6
                b[i] -= 1e-6
                return (model.logit(a, cluster: c) - model.logit(b, cluster: c)) / 2e-6
            }
            XCTAssertLessThan(relativeError(model.logitGradient(x, cluster: c), fd), 1e-6)
        }
    }

    /// Completeness: sum_i IG_i -> f_c(x) - f_c(0) as the steps grow (f_c is continuous and
    /// piecewise smooth along the path, so the Riemann sums of its gradient converge).
    func testIntegratedGradientsCompleteness() throws {
        var rng = SplitMix(seed: 53)
        for psi in try nets(rng: &rng) {
            for head in heads(features: psi.outputCount, rng: &rng) {
                let model = DeepClusteringDecision(head: head, psi: psi)
                for _ in 0..<3 {
                    let x = image(&rng)
                    let c = model.assign(x)
                    let target = model.logit(x, cluster: c) - model.logit([Double](repeating: 0, count: 108), cluster: c)
                    var errors: [Double] = []
                    for steps in [4, 1500] {
                        let r = Explainer.relevance(.ig, x: x, cluster: c, model: model, settings: ExplainerSettings(beta: 1, steps: steps),
                                                    rng: &rng)
                        errors.append(abs(r.reduce(0, +) - target))
                    }
                    XCTAssertLessThan(errors[1], 5e-3 * max(1, abs(target)), "\(head.logits) \(head.mode)")
                    XCTAssertLessThanOrEqual(errors[1], errors[0] + 1e-9)
                }
            }
        }
    }

    /// NEON is the pipeline's: the same numbers as DeepEngine (targets [nil], the assigned cluster)
    /// on the same row, and as HeadReference + LRP through Psi; HeadEngine without Psi.
    func testNeonIsThePipelineEngine() throws {
        var rng = SplitMix(seed: 54)
        let psi = try nets(rng: &rng)[0]
        for head in heads(features: psi.outputCount, rng: &rng) {
            let model = DeepClusteringDecision(head: head, psi: psi)
            let engine = DeepEngine<Double>(psi: psi, head: head)
            let n = 8
            let x = image(&rng, count: n * 108)
            var batch = [Double](repeating: 0, count: n * 108), a = [Int64](repeating: 0, count: n), f = [Double](repeating: 0, count: n)
            x.withUnsafeBufferPointer { engine.explain($0.baseAddress!, rows: n, beta: 1.3, relevance: &batch, assignment: &a, logit: &f) }
            for row in 0..<n {
                let xi = Array(x[(row * 108)..<((row + 1) * 108)])
                let c = model.assign(xi)
                XCTAssertEqual(Int64(c), a[row])
                XCTAssertEqual(model.logit(xi, cluster: c), f[row], accuracy: 1e-10 * max(1, abs(f[row])))
                let r = model.neon(xi, cluster: c, beta: 1.3)
                var one = [Double](repeating: 0, count: 108), a1: Int64 = 0, f1 = 0.0
                xi.withUnsafeBufferPointer { engine.explain($0.baseAddress!, rows: 1, beta: 1.3, relevance: &one, assignment: &a1, logit: &f1) }
                XCTAssertEqual(r, one, "the engine on this row")
                let inTile = Array(batch[(row * 108)..<((row + 1) * 108)])
                XCTAssertLessThan(zip(r, inTile).map { abs($0 - $1) }.max()!, 1e-12 * max(1, inTile.map(abs).max()!), "a tile of 8")
                // The composition: head network, then LRP through Psi.
                let ws = psi.makeWorkspace()
                let ap = xi.withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
                let e = HeadReference.explain(Array(UnsafeBufferPointer(start: ap, count: 5)), head: head, beta: 1.3, cluster: c)
                var rx = [Double](repeating: 0, count: 108)
                e.relevance.withUnsafeBufferPointer { psi.backward(relevance: $0.baseAddress!, ws, into: &rx) }
                XCTAssertLessThan(zip(r, rx).map { abs($0 - $1) }.max()!, 1e-9 * max(1, rx.map(abs).max()!))
            }
        }
        // No Psi: HeadEngine on the row, for a target that is not the assigned cluster too.
        let head = heads(features: 5, rng: &rng)[1]
        let model = DeepClusteringDecision(head: head, psi: nil)
        let x = (0..<5).map { _ in rng.normal() }
        for c in 0..<4 {
            var r = [Double](repeating: 0, count: 5), a: Int64 = 0, f = 0.0
            x.withUnsafeBufferPointer {
                HeadEngine<Double>(head: head, targets: [c]).explain($0.baseAddress!, rows: 1, beta: 0.8, relevance: &r, assignment: &a, logit: &f)
            }
            XCTAssertEqual(model.neon(x, cluster: c, beta: 0.8), r)
        }
    }

    /// The beta "auto" sum is the pipeline engine's logits summed in row order.
    func testLogitSumIsThePipelines() throws {
        var rng = SplitMix(seed: 55)
        let psi = try nets(rng: &rng)[1]
        let head = heads(features: psi.outputCount, rng: &rng)[0]
        let model = DeepClusteringDecision(head: head, psi: psi)
        let n = 19
        let x = image(&rng, count: n * 108)
        var a = [Int64](repeating: 0, count: n), f = [Double](repeating: 0, count: n)
        x.withUnsafeBufferPointer { DeepEngine<Double>(psi: psi, head: head).logits($0.baseAddress!, rows: n, assignment: &a, logit: &f) }
        XCTAssertEqual(model.logitSum(x, rows: n), f.reduce(0, +))
    }

    /// Algorithm 1 on channels with zero imputation. Psi = global average pooling of (4, 2, 2)
    /// maps, a deep k-means head whose centroids differ on channels 0 and 1 only: mu_0 = (2, 2, 0, 0),
    /// mu_1 = (-1, -1, 0, 0). A sample with channel means (2 + u, 2 + v, 5, 5) is in cluster 0;
    /// with channels 0 and 1 missing (zero) it is in cluster 1, with either of them known in
    /// cluster 0. A perfect ranking (NEON, sensitivity, IG, PDA0: nothing on channels 2 and 3)
    /// scores 100; x2 puts channels 2 and 3 first and scores 50; a random order puts the first
    /// decisive channel at position T with P(T = 1, 2, 3) = 1/2, 1/3, 1/6, so E[AUC] =
    /// 100 (4 P1 + 3 P2 + 2 P3) / 4 = 83.33.
    func testPerfectChannelExplanationBeatsRandomWhichMeetsItsExpectation() throws {
        let psi = try PsiNetwork<Double>(layers: [.globalAvgPool], input: .image(channels: 4, height: 2, width: 2))
        let head = ClusterHead(clusters: 2, features: 4, centroids: [2, 2, 0, 0, -1, -1, 0, 0], logits: .distance(stiffness: 1))
        let model = DeepClusteringDecision(head: head, psi: psi)
        XCTAssertEqual(model.missingFeatures, .zero)
        XCTAssertEqual(model.featureGroups, FeatureGroups(count: 4, size: 4))
        let methods: [ExplanationMethod] = [.neon, .random, .x2, .sensitivity, .ig, .pda0]
        let plan = EvaluationPlan(model: model, methods: methods, repeats: 10, seed: 9, settings: ExplainerSettings(beta: 1))
        var rng = SplitMix(seed: 56)
        var sums = [Double](repeating: 0, count: methods.count), sq = sums
        var count = 0
        for n in 0..<200 {
            let means = [2 + 0.2 * rng.normal(), 2 + 0.2 * rng.normal(), 5, 5]
            var z: [Double] = []
            for ch in 0..<4 { let d = 0.3 * rng.normal(); z += [means[ch] + d, means[ch] - d, means[ch] + 2 * d, means[ch] - 2 * d] }
            XCTAssertEqual(model.assign(z), 0)
            let r = plan.evaluate(z, sample: n)
            XCTAssertEqual(r.curveCounts.map(\.count), [Int](repeating: 4, count: methods.count), "one point per channel")
            for m in methods.indices { for v in r.auc[m] { sums[m] += v; sq[m] += v * v } }
            count += 10
        }
        let mean = sums.map { $0 / Double(count) }
        XCTAssertEqual(mean[0], 100, "NEON")
        XCTAssertEqual(mean[3], 100, "sensitivity")
        XCTAssertEqual(mean[4], 100, "IG")
        XCTAssertEqual(mean[5], 100, "PDA0 (a channel set to zero)")
        XCTAssertEqual(mean[2], 50, "x2")
        let se = ((sq[1] / Double(count) - mean[1] * mean[1]) / Double(count)).squareRoot()
        XCTAssertEqual(mean[1], 100 * (4.0 / 2 + 3.0 / 3 + 2.0 / 6) / 4, accuracy: 4 * se)
        XCTAssertLessThan(mean[1], 90)
    }

    /// Group relevance: per-channel sums of additive methods; PDA0 removes a whole channel.
    func testGroupRelevance() throws {
        var rng = SplitMix(seed: 57)
        let psi = try nets(rng: &rng)[1]
        let model = DeepClusteringDecision(head: heads(features: psi.outputCount, rng: &rng)[2], psi: psi)
        let x = image(&rng)
        let c = model.assign(x)
        let s = ExplainerSettings(beta: 1)
        for method in [ExplanationMethod.neon, .x2, .sensitivity, .ig] {
            let r = Explainer.relevance(method, x: x, cluster: c, model: model, settings: s, rng: &rng)
            let g = Explainer.groupRelevance(method, x: x, cluster: c, model: model, settings: s, rng: &rng)
            XCTAssertEqual(g, (0..<3).map { ch in r[(ch * 36)..<((ch + 1) * 36)].reduce(0, +) })
        }
        let pda = Explainer.groupRelevance(.pda0, x: x, cluster: c, model: model, settings: s, rng: &rng)
        for ch in 0..<3 {
            var y = x
            for i in (ch * 36)..<((ch + 1) * 36) { y[i] = 0 }
            XCTAssertEqual(pda[ch], model.logit(x, cluster: c) - model.logit(y, cluster: c))
        }
        var r1 = SplitMix(seed: 3), r2 = SplitMix(seed: 3)
        XCTAssertEqual(Explainer.groupRelevance(.random, x: x, cluster: c, model: model, settings: s, rng: &r1),
                       (0..<3).map { _ in Double.random(in: 0..<1, using: &r2) })
    }
}
