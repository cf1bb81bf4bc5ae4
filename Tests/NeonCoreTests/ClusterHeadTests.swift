import Foundation
import NeonCore
import XCTest

/// Soft and deep clustering heads (Sec. IV, Appendix E): the Lemma 3 / 4 identities, the fast
/// path against the layer-by-layer network, targets, and deep engines against their composition.
final class ClusterHeadTests: XCTestCase {
    func softmax(_ z: [Double]) -> [Double] {
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func heads(rng: inout SplitMix, K: Int = 5, D: Int = 4) -> [ClusterHead] {
        let mu = (0..<(K * D)).map { _ in rng.normal() }
        return [ClusterHead(clusters: K, features: D, centroids: mu, logits: .distance(stiffness: 0.7)),
                ClusterHead(clusters: K, features: D, centroids: mu, logits: .distance(stiffness: 0.7), mode: .absolute(theta: 0.3)),
                ClusterHead(clusters: K, features: D, centroids: mu, logits: .dot),
                ClusterHead(clusters: K, features: D, centroids: mu, logits: .dot, mode: .absolute(theta: 0.8))]
    }

    /// Lemma 3: f_c = log(p_c / max_{k != c} p_k), > 0 iff c = argmax p; Lemma 4: f_c =
    /// log(p_c / (1 - p_c)) + log((1 - theta) / theta), for every cluster c.
    func testRelativeAndAbsoluteLogitIdentities() {
        var rng = SplitMix(seed: 11)
        for head in heads(rng: &rng) {
            for _ in 0..<20 {
                let a = (0..<4).map { _ in 1.5 * rng.normal() }
                let p = softmax(head.logitValues(a))
                let argmax = p.indices.max { p[$0] < p[$1] }!
                for c in 0..<5 {
                    let f = HeadReference.explain(a, head: head, beta: 1, cluster: c).logit
                    switch head.mode {
                    case .relative:
                        let other = p.indices.filter { $0 != c }.map { p[$0] }.max()!
                        XCTAssertEqual(f, log(p[c] / other), accuracy: 1e-9)
                        XCTAssertEqual(f > 0, c == argmax)
                    case .absolute(let theta):
                        XCTAssertEqual(f, log(p[c] / (1 - p[c])) + log((1 - theta) / theta), accuracy: 1e-9)
                        XCTAssertEqual(f > 0, p[c] > theta)
                    }
                }
            }
        }
    }

    /// The midpoint rule conserves: sum_i R_i = sum_k R_k, which is f_c in relative mode.
    func testReferenceConservation() {
        var rng = SplitMix(seed: 12)
        for head in heads(rng: &rng) where head.mode == .relative {
            for _ in 0..<10 {
                let a = (0..<4).map { _ in rng.normal() }
                for c in 0..<5 {
                    let e = HeadReference.explain(a, head: head, beta: 0.8, cluster: c)
                    XCTAssertEqual(e.relevance.reduce(0, +), e.logit, accuracy: 1e-9 * max(1, abs(e.logit)))
                }
            }
        }
    }

    func testFastPathMatchesTheNetworkForEveryTarget() {
        var rng = SplitMix(seed: 13)
        let n = 300, D = 4
        let x = (0..<(n * D)).map { _ in 1.5 * rng.normal() }
        for head in heads(rng: &rng) {
            for targets: [Int?] in [[nil], [nil, 3, 0], (0..<5).map { $0 }] {
                let engine = HeadEngine<Double>(head: head, targets: targets)
                let got = explainFast(engine, x, rows: n, beta: 0.6)
                for row in stride(from: 0, to: n, by: 7) {
                    let a = Array(x[(row * D)..<((row + 1) * D)])
                    XCTAssertEqual(got.c[row], Int64(head.assign(a)))
                    for (j, t) in targets.enumerated() {
                        let ref = HeadReference.explain(a, head: head, beta: 0.6, cluster: t)
                        let p = row * targets.count + j
                        XCTAssertEqual(got.f[p], ref.logit, accuracy: 1e-9 * max(1, abs(ref.logit)))
                        let r = Array(got.r[(p * D)..<((p + 1) * D)])
                        XCTAssertLessThan(zip(r, ref.relevance).map { abs($0 - $1) }.max()!,
                                          1e-9 * max(1, ref.relevance.map(abs).max()!), "\(head.mode) \(head.logits) row \(row) target \(String(describing: t))")
                    }
                }
                // float32 agrees to float precision
                let f32 = explainFast(HeadEngine<Float>(head: head, targets: targets), x, rows: n, beta: 0.6)
                XCTAssertLessThan(relativeError(f32.r, got.r), 1e-3)
            }
        }
    }

    /// k-means as a head (distance logits, tau = 1): the assigned target equals the k-means fast path.
    func testKMeansHeadEqualsKMeansFastPath() {
        var rng = SplitMix(seed: 14)
        let model = randomModel(clusters: 6, features: 5, rng: &rng)
        let n = 400
        let x = (0..<(n * 5)).map { _ in 3 * rng.normal() }
        let head = ClusterHead(clusters: 6, features: 5, centroids: model.centroids, logits: .distance(stiffness: 1))
        let got = explainFast(HeadEngine<Double>(head: head, targets: (0..<6).map { $0 }), x, rows: n, beta: 0.2)
        let km = KMeansFastPath<Double>(model: model)
        var r = [Double](repeating: 0, count: n * 5), c = [Int64](repeating: 0, count: n), f = [Double](repeating: 0, count: n)
        x.withUnsafeBufferPointer { km.explain($0.baseAddress!, rows: n, beta: 0.2, relevance: &r, assignment: &c, logit: &f) }
        XCTAssertEqual(got.c, c)
        for row in 0..<n {
            let p = row * 6 + Int(c[row])
            XCTAssertEqual(got.f[p], f[row], accuracy: 1e-9 * max(1, abs(f[row])))
            for i in 0..<5 { XCTAssertEqual(got.r[p * 5 + i], r[row * 5 + i], accuracy: 1e-8 * max(1, abs(f[row]))) }
        }
    }

    /// Deep engine = Psi forward, the head network, LRP backward, sample by sample.
    func testDeepEngineMatchesComposition() throws {
        var rng = SplitMix(seed: 15)
        let conv = Conv2DLayer(outChannels: 6, inChannels: 3, kernelHeight: 3, kernelWidth: 3, padding: 1,
                               weight: (0..<162).map { _ in 0.3 * rng.normal() }, bias: nil)
        let layers: [PsiLayer] = [.conv2d(conv), .relu, .maxPool2d(kernel: 2, stride: 2), .globalAvgPool]
        let input = TensorShape.image(channels: 3, height: 6, width: 6)
        let psiD = try PsiNetwork<Double>(layers: layers, input: input, rules: LRPRules(convGamma: 0.1, epsilon: 1e-12))
        let n = 21, d = 108
        let x = (0..<(n * d)).map { _ in abs(rng.normal()) }
        let mu = (0..<(4 * 6)).map { _ in abs(rng.normal()) }
        for head in [ClusterHead(clusters: 4, features: 6, centroids: mu, logits: .distance(stiffness: 1)),
                     ClusterHead(clusters: 4, features: 6, centroids: mu, logits: .dot),
                     ClusterHead(clusters: 4, features: 6, centroids: mu, logits: .dot, mode: .absolute(theta: 0.4))] {
            let targets: [Int?] = [nil, 2]
            let engine = DeepEngine<Double>(psi: psiD, head: head, targets: targets)
            var r = [Double](repeating: 0, count: n * 2 * d), c = [Int64](repeating: 0, count: n), f = [Double](repeating: 0, count: n * 2)
            x.withUnsafeBufferPointer { engine.explain($0.baseAddress!, rows: n, beta: 0.9, relevance: &r, assignment: &c, logit: &f) }
            for row in 0..<n {
                let xi = Array(x[(row * d)..<((row + 1) * d)])
                let ws = psiD.makeWorkspace()
                let aPtr = xi.withUnsafeBufferPointer { psiD.forward($0.baseAddress!, ws) }
                let a = Array(UnsafeBufferPointer(start: aPtr, count: 6))
                XCTAssertEqual(c[row], Int64(head.assign(a)))
                for (j, t) in targets.enumerated() {
                    let e = HeadReference.explain(a, head: head, beta: 0.9, cluster: t)
                    var rx = [Double](repeating: 0, count: d)
                    e.relevance.withUnsafeBufferPointer { psiD.backward(relevance: $0.baseAddress!, ws, into: &rx) }
                    let p = row * 2 + j
                    XCTAssertEqual(f[p], e.logit, accuracy: 1e-9)
                    XCTAssertLessThan(zip(r[(p * d)..<((p + 1) * d)], rx).map { abs($0 - $1) }.max()!, 1e-9 * max(1, abs(e.logit)))
                    if head.mode == .relative {
                        // bias-free Psi with LRP-gamma, midpoint/bias-free head: sum_i R_i = f_c, less
                        // the relevance of all-zero maps (global pooling passes none down from them)
                        let dropped = zip(a, e.relevance).filter { $0.0 == 0 }.reduce(0) { $0 + $1.1 }
                        XCTAssertEqual(e.relevance.reduce(0, +), e.logit, accuracy: 1e-9 * max(1, abs(e.logit)))
                        XCTAssertEqual(rx.reduce(0, +), e.logit - dropped, accuracy: 1e-5 * max(1, abs(e.logit)))
                    }
                }
            }
        }
    }
}
