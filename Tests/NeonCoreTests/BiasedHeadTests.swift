import Foundation
import NeonCore
import XCTest

/// A trained softmax head sigma(W a + b) (`ClusterHead.Logits.affine`): z_k = w_k . a + b_k,
/// h_k = (w_c - w_k) . a + (b_c - b_k) (+ b0 in absolute mode), explained with the midpoint rule
/// (Eq. 4) at the root r_k = -(b_c - b_k + b0) (w_c - w_k) / |w_c - w_k|^2, the point of h_k = 0
/// nearest 0 (Props. 6-7, Lemmas 3-4).
final class BiasedHeadTests: XCTestCase {
    let K = 5, D = 4

    func softmax(_ z: [Double]) -> [Double] {
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func weights(_ rng: inout SplitMix, K: Int, D: Int) -> [Double] { (0..<(K * D)).map { _ in rng.normal() } }

    /// Biases large enough to move the decisions (|b| ~ 2 against |w . a| ~ 2-3).
    func bias(_ rng: inout SplitMix, K: Int) -> [Double] { (0..<K).map { _ in 2 * rng.normal() } }

    func affineHeads(_ rng: inout SplitMix, K: Int = 5, D: Int = 4) -> [ClusterHead] {
        let w = weights(&rng, K: K, D: D), b = bias(&rng, K: K)
        return [ClusterHead(clusters: K, features: D, centroids: w, logits: .affine(bias: b)),
                ClusterHead(clusters: K, features: D, centroids: w, logits: .affine(bias: b), mode: .absolute(theta: 0.3))]
    }

    func psi<T: NeonScalar>(_: T.Type, seed: UInt64) throws -> PsiNetwork<T> {
        var rng = SplitMix(seed: seed)
        let conv = Conv2DLayer(outChannels: 6, inChannels: 3, kernelHeight: 3, kernelWidth: 3, padding: 1,
                               weight: (0..<162).map { _ in 0.3 * rng.normal() }, bias: nil)
        let layers: [PsiLayer] = [.conv2d(conv), .relu, .maxPool2d(kernel: 2, stride: 2), .globalAvgPool]
        return try PsiNetwork<T>(layers: layers, input: .image(channels: 3, height: 6, width: 6),
                                 rules: LRPRules(convGamma: 0.1, epsilon: 1e-12))
    }

    func deepExplain<T: NeonScalar>(_ engine: DeepEngine<T>, _ x: [Double], rows n: Int, beta: Double)
        -> (r: [Double], c: [Int64], f: [Double]) {
        let t = engine.targetCount, d = engine.features
        let xs = x.map { T($0) }
        var r = [T](repeating: 0, count: n * t * d), c = [Int64](repeating: -1, count: n), f = [Double](repeating: .nan, count: n * t)
        xs.withUnsafeBufferPointer { engine.explain($0.baseAddress!, rows: n, beta: beta, relevance: &r, assignment: &c, logit: &f) }
        return (r.map { Double($0) }, c, f)
    }

    // MARK: - A zero bias is today's bias-free head

    /// `.affine(bias: 0)` = `.dot`, bit for bit: logits, the reference, HeadEngine (float64 and
    /// float32, several targets), DeepEngine, and the decision's logit, gradient and NEON.
    func testZeroBiasIsTheDotHeadBitForBit() throws {
        var rng = SplitMix(seed: 71)
        let w = weights(&rng, K: K, D: D), n = 40
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        let targets: [Int?] = [nil, 2, 0]
        for mode in [ClusterHead.Mode.relative, .absolute(theta: 0.3)] {
            let dot = ClusterHead(clusters: K, features: D, centroids: w, logits: .dot, mode: mode)
            let zero = ClusterHead(clusters: K, features: D, centroids: w, logits: .affine(bias: [Double](repeating: 0, count: K)), mode: mode)
            for row in 0..<n {
                let a = Array(x[(row * D)..<((row + 1) * D)])
                XCTAssertEqual(zero.logitValues(a), dot.logitValues(a))
                for c in 0..<K {
                    let e0 = HeadReference.explain(a, head: zero, beta: 0.7, cluster: c), e = HeadReference.explain(a, head: dot, beta: 0.7, cluster: c)
                    XCTAssertEqual(e0.logit, e.logit)
                    XCTAssertEqual(e0.relevance, e.relevance)
                }
            }
            let d64 = explainFast(HeadEngine<Double>(head: dot, targets: targets), x, rows: n, beta: 0.7)
            let z64 = explainFast(HeadEngine<Double>(head: zero, targets: targets), x, rows: n, beta: 0.7)
            XCTAssertEqual(z64.r, d64.r)
            XCTAssertEqual(z64.c, d64.c)
            XCTAssertEqual(z64.f, d64.f)
            let d32 = explainFast(HeadEngine<Float>(head: dot, targets: targets), x, rows: n, beta: 0.7)
            let z32 = explainFast(HeadEngine<Float>(head: zero, targets: targets), x, rows: n, beta: 0.7)
            XCTAssertEqual(z32.r, d32.r)
            XCTAssertEqual(z32.f, d32.f)

            // With Psi: the engine, and the decision's logit, gradient and NEON.
            let p = try psi(Double.self, seed: 72), p32 = try psi(Float.self, seed: 72)
            let wd = (0..<(K * 6)).map { _ in rng.normal() }
            let deepDot = ClusterHead(clusters: K, features: 6, centroids: wd, logits: .dot, mode: mode)
            let deepZero = ClusterHead(clusters: K, features: 6, centroids: wd, logits: .affine(bias: [Double](repeating: 0, count: K)), mode: mode)
            let img = (0..<(9 * 108)).map { _ in abs(rng.normal()) }
            let e0 = deepExplain(DeepEngine<Double>(psi: p, head: deepZero, targets: targets), img, rows: 9, beta: 0.7)
            let e1 = deepExplain(DeepEngine<Double>(psi: p, head: deepDot, targets: targets), img, rows: 9, beta: 0.7)
            XCTAssertEqual(e0.r, e1.r)
            XCTAssertEqual(e0.f, e1.f)
            XCTAssertEqual(e0.c, e1.c)
            let f0 = deepExplain(DeepEngine<Float>(psi: p32, head: deepZero, targets: targets), img, rows: 9, beta: 0.7)
            let f1 = deepExplain(DeepEngine<Float>(psi: p32, head: deepDot, targets: targets), img, rows: 9, beta: 0.7)
            XCTAssertEqual(f0.r, f1.r)
            XCTAssertEqual(f0.f, f1.f)
            let m0 = DeepClusteringDecision(head: deepZero, psi: p), m1 = DeepClusteringDecision(head: deepDot, psi: p)
            let xi = Array(img[0..<108])
            for c in [m1.assign(xi), 3] {
                XCTAssertEqual(m0.logit(xi, cluster: c), m1.logit(xi, cluster: c))
                XCTAssertEqual(m0.logitGradient(xi, cluster: c), m1.logitGradient(xi, cluster: c))
                XCTAssertEqual(m0.neon(xi, cluster: c, beta: 0.7), m1.neon(xi, cluster: c, beta: 0.7))
            }
        }
    }

    /// The bias is not ignored: a nonzero bias changes the logits and the relevance.
    func testTheBiasMatters() {
        var rng = SplitMix(seed: 73)
        let w = weights(&rng, K: K, D: D), b = bias(&rng, K: K)
        let dot = ClusterHead(clusters: K, features: D, centroids: w, logits: .dot)
        let biased = ClusterHead(clusters: K, features: D, centroids: w, logits: .affine(bias: b))
        let a = (0..<D).map { _ in rng.normal() }
        let z = dot.logitValues(a)
        XCTAssertEqual(biased.logitValues(a), zip(z, b).map { $0 + $1 })
        let x = (0..<(10 * D)).map { _ in rng.normal() }
        XCTAssertGreaterThan(relativeError(explainFast(HeadEngine<Double>(head: biased), x, rows: 10, beta: 1).r,
                                           explainFast(HeadEngine<Double>(head: dot), x, rows: 10, beta: 1).r), 1e-3)
    }

    // MARK: - Relative mode (Prop. 6, Lemma 3)

    /// sum_i R_i = f_c per sample and target (float64 tight, float32 loose), f_c = log(p_c / max_{k != c} p_k)
    /// with p = softmax(W a + b), and f_c > 0 iff c = argmax z: reference and fast path.
    func testRelativeModeConservesAndSignsTheAssignment() {
        var rng = SplitMix(seed: 74)
        let head = affineHeads(&rng)[0], n = 200
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        let targets: [Int?] = (0..<K).map { $0 }
        let f64 = explainFast(HeadEngine<Double>(head: head, targets: targets), x, rows: n, beta: 0.9)
        let f32 = explainFast(HeadEngine<Float>(head: head, targets: targets), x, rows: n, beta: 0.9)
        var positive = 0
        for row in 0..<n {
            let a = Array(x[(row * D)..<((row + 1) * D)])
            let z = head.logitValues(a), p = softmax(z)
            let argmax = z.indices.max { z[$0] < z[$1] }!
            XCTAssertEqual(f64.c[row], Int64(argmax))
            for c in 0..<K {
                let e = HeadReference.explain(a, head: head, beta: 0.9, cluster: c)
                let other = p.indices.filter { $0 != c }.map { p[$0] }.max()!
                XCTAssertEqual(e.logit, log(p[c] / other), accuracy: 1e-9)
                XCTAssertEqual(e.logit > 0, c == argmax)
                XCTAssertEqual(e.relevance.reduce(0, +), e.logit, accuracy: 1e-12 * max(1, e.relevance.map(abs).reduce(0, +)))
                let q = row * K + c
                let r64 = f64.r[(q * D)..<((q + 1) * D)], r32 = f32.r[(q * D)..<((q + 1) * D)]
                XCTAssertEqual(f64.f[q] > 0, c == argmax)
                XCTAssertEqual(r64.reduce(0, +), f64.f[q], accuracy: 1e-12 * max(1, r64.map(abs).reduce(0, +)))
                XCTAssertEqual(r32.reduce(0, +), f32.f[q], accuracy: 1e-5 * max(1, r32.map(abs).reduce(0, +)))
                if c == argmax { positive += 1 }
            }
        }
        XCTAssertEqual(positive, n)
    }

    /// K = 2: f_c = z_c - z_k exactly, and R = (a - r) * (w_c - w_k) with r = -(b_c - b_k) (w_c - w_k) /
    /// |w_c - w_k|^2 on the boundary, whatever beta (one competitor takes all).
    func testTwoClustersByHand() {
        var rng = SplitMix(seed: 75)
        let D = 3
        let w = weights(&rng, K: 2, D: D), b = [0.8, -1.1]
        let head = ClusterHead(clusters: 2, features: D, centroids: w, logits: .affine(bias: b))
        let n = 30
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        let fast = explainFast(HeadEngine<Double>(head: head, targets: [0, 1]), x, rows: n, beta: 2.5)
        let fast32 = explainFast(HeadEngine<Float>(head: head, targets: [0, 1]), x, rows: n, beta: 2.5)
        for row in 0..<n {
            let a = Array(x[(row * D)..<((row + 1) * D)])
            for c in 0..<2 {
                let k = 1 - c
                let wd = (0..<D).map { w[c * D + $0] - w[k * D + $0] }, bd = b[c] - b[k]
                let norm = wd.reduce(0) { $0 + $1 * $1 }
                let root = wd.map { -bd * $0 / norm }
                XCTAssertEqual(zip(wd, root).reduce(bd) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-14)
                let zc = (0..<D).reduce(b[c]) { $0 + w[c * D + $1] * a[$1] }, zk = (0..<D).reduce(b[k]) { $0 + w[k * D + $1] * a[$1] }
                let expected = (0..<D).map { (a[$0] - root[$0]) * wd[$0] }
                for beta in [0.0, 2.5] {
                    let e = HeadReference.explain(a, head: head, beta: beta, cluster: c)
                    XCTAssertEqual(e.logit, zc - zk, accuracy: 1e-13)
                    XCTAssertLessThan(zip(e.relevance, expected).map { abs($0 - $1) }.max()!, 1e-13)
                }
                let q = row * 2 + c
                XCTAssertEqual(fast.f[q], zc - zk, accuracy: 1e-13)
                XCTAssertLessThan(zip(fast.r[(q * D)..<((q + 1) * D)], expected).map { abs($0 - $1) }.max()!, 1e-12)
                XCTAssertLessThan(zip(fast32.r[(q * D)..<((q + 1) * D)], expected).map { abs($0 - $1) }.max()!, 1e-4)
            }
        }
    }

    // MARK: - Absolute mode (Prop. 7, Lemma 4)

    /// K = 3 by hand: h_k = (w_c - w_k) . a + b_c - b_k + b0, f_c = LME^-1 h_k (= Lemma 4), p_k the
    /// soft-min weights with beta, R_i = sum_k p_k (a - r_k)_i (w_c - w_k)_i with
    /// r_k = -(b_c - b_k + b0) (w_c - w_k) / |w_c - w_k|^2, so sum_i R_i = sum_k p_k h_k.
    func testAbsoluteModeByHand() {
        var rng = SplitMix(seed: 76)
        let K = 3, D = 2, theta = 0.35, beta = 1.7
        let w = [1.0, 0.5, -0.7, 1.2, 0.3, -1.4], b = [0.4, -0.9, 1.3]
        let head = ClusterHead(clusters: K, features: D, centroids: w, logits: .affine(bias: b), mode: .absolute(theta: theta))
        let b0 = -log(Double(K - 1)) + log((1 - theta) / theta)
        XCTAssertEqual(head.offset, b0)
        let n = 25
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        let fast = explainFast(HeadEngine<Double>(head: head, targets: [0, 1, 2]), x, rows: n, beta: beta)
        for row in 0..<n {
            let a = Array(x[(row * D)..<((row + 1) * D)])
            let z = (0..<K).map { k in b[k] + w[k * D] * a[0] + w[k * D + 1] * a[1] }
            let p = softmax(z)
            for c in 0..<K {
                let ks = (0..<K).filter { $0 != c }
                let h = ks.map { z[c] - z[$0] + b0 }
                let f = -log(h.map { exp(-$0) }.reduce(0, +) / 2)
                XCTAssertEqual(f, log(p[c] / (1 - p[c])) + log((1 - theta) / theta), accuracy: 1e-12)
                let e = h.map { exp(-beta * $0) }, s = e.reduce(0, +)
                var expected = [0.0, 0.0]
                for (j, k) in ks.enumerated() {
                    let wd = [w[c * D] - w[k * D], w[c * D + 1] - w[k * D + 1]]
                    let shift = b[c] - b[k] + b0, norm = wd[0] * wd[0] + wd[1] * wd[1]
                    for i in 0..<D { expected[i] += e[j] / s * (a[i] + shift * wd[i] / norm) * wd[i] }
                }
                let ref = HeadReference.explain(a, head: head, beta: beta, cluster: c)
                XCTAssertEqual(ref.logit, f, accuracy: 1e-12)
                XCTAssertLessThan(zip(ref.relevance, expected).map { abs($0 - $1) }.max()!, 1e-12)
                XCTAssertEqual(ref.relevance.reduce(0, +), zip(e, h).reduce(0) { $0 + $1.0 / s * $1.1 }, accuracy: 1e-12)
                let q = row * K + c
                XCTAssertEqual(fast.f[q], f, accuracy: 1e-12)
                XCTAssertLessThan(zip(fast.r[(q * D)..<((q + 1) * D)], expected).map { abs($0 - $1) }.max()!, 1e-11)
            }
        }
    }

    // MARK: - Fast path against the reference

    /// HeadEngine (float64 and float32, several target lists) against HeadReference, both modes.
    func testFastPathMatchesTheReference() {
        var rng = SplitMix(seed: 77)
        let n = 300
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        for head in affineHeads(&rng) {
            for targets: [Int?] in [[nil], [nil, 3, 0], (0..<K).map { $0 }] {
                let got = explainFast(HeadEngine<Double>(head: head, targets: targets), x, rows: n, beta: 0.6)
                let got32 = explainFast(HeadEngine<Float>(head: head, targets: targets), x, rows: n, beta: 0.6)
                for row in 0..<n {
                    let a = Array(x[(row * D)..<((row + 1) * D)])
                    XCTAssertEqual(got.c[row], Int64(head.assign(a)))
                    for (j, t) in targets.enumerated() {
                        let ref = HeadReference.explain(a, head: head, beta: 0.6, cluster: t)
                        let p = row * targets.count + j, scale = max(1, ref.relevance.map(abs).max()!)
                        XCTAssertEqual(got.f[p], ref.logit, accuracy: 1e-12 * max(1, abs(ref.logit)))
                        XCTAssertLessThan(zip(got.r[(p * D)..<((p + 1) * D)], ref.relevance).map { abs($0 - $1) }.max()!, 1e-11 * scale,
                                          "\(head.mode) row \(row) target \(String(describing: t))")
                        XCTAssertEqual(got32.f[p], ref.logit, accuracy: 1e-5 * max(1, abs(ref.logit)))
                        XCTAssertLessThan(zip(got32.r[(p * D)..<((p + 1) * D)], ref.relevance).map { abs($0 - $1) }.max()!, 1e-4 * scale)
                    }
                }
            }
        }
    }

    /// A Psi in front: DeepEngine = Psi forward, HeadReference on a, LRP backward, per sample and
    /// target, both modes; the decision's NEON is the engine's; relative mode conserves at a.
    func testDeepEngineWithABiasMatchesTheComposition() throws {
        var rng = SplitMix(seed: 78)
        let p = try psi(Double.self, seed: 79)
        let n = 13, d = 108, targets: [Int?] = [nil, 2]
        let x = (0..<(n * d)).map { _ in abs(rng.normal()) }
        for head in affineHeads(&rng, K: 4, D: 6) {
            let got = deepExplain(DeepEngine<Double>(psi: p, head: head, targets: targets), x, rows: n, beta: 0.9)
            let model = DeepClusteringDecision(head: head, psi: p)
            for row in 0..<n {
                let xi = Array(x[(row * d)..<((row + 1) * d)])
                let ws = p.makeWorkspace()
                let aPtr = xi.withUnsafeBufferPointer { p.forward($0.baseAddress!, ws) }
                let a = Array(UnsafeBufferPointer(start: aPtr, count: 6))
                XCTAssertEqual(got.c[row], Int64(head.assign(a)))
                for (j, t) in targets.enumerated() {
                    let e = HeadReference.explain(a, head: head, beta: 0.9, cluster: t)
                    var rx = [Double](repeating: 0, count: d)
                    e.relevance.withUnsafeBufferPointer { p.backward(relevance: $0.baseAddress!, ws, into: &rx) }
                    let q = row * targets.count + j, r = Array(got.r[(q * d)..<((q + 1) * d)])
                    XCTAssertEqual(got.f[q], e.logit, accuracy: 1e-12 * max(1, abs(e.logit)))
                    XCTAssertLessThan(zip(r, rx).map { abs($0 - $1) }.max()!, 1e-10 * max(1, rx.map(abs).max()!))
                    XCTAssertEqual(model.logit(xi, cluster: t ?? head.assign(a)), e.logit, accuracy: 1e-12 * max(1, abs(e.logit)))
                    if t == 2 {
                        // the engine on this row alone: the same up to the GEMMs' batch width
                        let one = model.neon(xi, cluster: 2, beta: 0.9)
                        XCTAssertLessThan(zip(one, r).map { abs($0 - $1) }.max()!, 1e-12 * max(1, r.map(abs).max()!))
                    }
                    if head.mode == .relative {
                        XCTAssertEqual(e.relevance.reduce(0, +), e.logit, accuracy: 1e-12 * max(1, e.relevance.map(abs).reduce(0, +)))
                    }
                }
            }
        }
    }

    // MARK: - The baselines' gradient

    /// grad f_c (DeepClusteringDecision.logitGradient: the bias moves h_k, not its gradient)
    /// against central differences, with and without Psi, both modes, assigned and another cluster.
    func testGradientWithABiasMatchesFiniteDifferences() throws {
        var rng = SplitMix(seed: 80)
        let p = try psi(Double.self, seed: 81)
        var checked = 0
        let cases: [(features: Int, psi: PsiNetwork<Double>?)] = [(6, p), (5, nil)]
        for (features, net) in cases {
            for head in affineHeads(&rng, K: 4, D: features) {
                let model = DeepClusteringDecision(head: head, psi: net)
                for _ in 0..<5 {
                    let x = (0..<model.features).map { _ in net == nil ? 1.5 * rng.normal() : abs(rng.normal()) }
                    for c in [model.assign(x), 2] {
                        if head.mode == .relative {
                            // skip kinks of the min (the two smallest h_k within 1e-3)
                            let a = net.map { psi -> [Double] in
                                let ws = psi.makeWorkspace()
                                let ptr = x.withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
                                return Array(UnsafeBufferPointer(start: ptr, count: 6))
                            } ?? x
                            let z = head.logitValues(a)
                            let h = (0..<4).filter { $0 != c }.map { z[c] - z[$0] }.sorted()
                            if h[1] - h[0] < 1e-3 { continue }
                        }
                        let g = model.logitGradient(x, cluster: c)
                        let fd = (0..<x.count).map { i -> Double in
                            var u = x, v = x
                            u[i] += 1e-6
                            v[i] -= 1e-6
                            return (model.logit(u, cluster: c) - model.logit(v, cluster: c)) / 2e-6
                        }
                        XCTAssertLessThan(relativeError(g, fd), 1e-6, "\(head.mode) psi \(net != nil)")
                        XCTAssertGreaterThan(g.map(abs).max()!, 0)
                        checked += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }

    // MARK: - Rules text

    /// Today's texts for the existing heads, unchanged; the biased head names its root.
    func testMidpointRuleSummaries() {
        XCTAssertEqual(ClusterHead.Logits.dot.midpointRuleSummary, ", bias-free midpoint rule (root 0)")
        XCTAssertEqual(ClusterHead.Logits.distance(stiffness: 0.5).midpointRuleSummary, ", midpoint rule (Eq. 4)")
        XCTAssertEqual(ClusterHead.Logits.affine(bias: [1, 2]).midpointRuleSummary,
                       ", midpoint rule with a bias (root: the point of h_k = 0 nearest 0)")
    }
}
