import Foundation
import NeonCore
import XCTest

/// Psi (Sec. IV feature extractors): im2col/GEMM convolution against a direct loop, the full forward
/// against a layer-by-layer reference, and the LRP identities of the backward pass.
final class PsiNetworkTests: XCTestCase {
    func randomConv(_ o: Int, _ i: Int, _ k: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                    rng: inout SplitMix) -> Conv2DLayer {
        Conv2DLayer(outChannels: o, inChannels: i, kernelHeight: k, kernelWidth: k, stride: stride, padding: padding,
                    weight: (0..<(o * i * k * k)).map { _ in rng.normal() / Double(k * k * i).squareRoot() },
                    bias: bias ? (0..<o).map { _ in 0.1 * rng.normal() } : nil)
    }

    func run(_ psi: PsiNetwork<Double>, _ x: [Double]) -> [Double] {
        let ws = psi.makeWorkspace()
        let y = x.withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
        return Array(UnsafeBufferPointer(start: y, count: psi.outputCount))
    }

    func lrp(_ psi: PsiNetwork<Double>, _ x: [Double], relevance: [Double]) -> [Double] {
        let ws = psi.makeWorkspace()
        x.withUnsafeBufferPointer { _ = psi.forward($0.baseAddress!, ws) }
        var out = [Double](repeating: .nan, count: psi.inputCount)
        relevance.withUnsafeBufferPointer { r in out.withUnsafeMutableBufferPointer { psi.backward(relevance: r.baseAddress!, ws, into: $0.baseAddress!) } }
        return out
    }

    func testConvolutionMatchesDirectLoop() throws {
        var rng = SplitMix(seed: 1)
        for (stride, padding, h, w) in [(1, 1, 7, 5), (2, 1, 9, 8), (1, 0, 6, 6), (3, 2, 10, 7)] {
            let conv = randomConv(4, 3, 3, stride: stride, padding: padding, rng: &rng)
            let x = (0..<(3 * h * w)).map { _ in rng.normal() }
            let psi = try PsiNetwork<Double>(layers: [.conv2d(conv)], input: .image(channels: 3, height: h, width: w))
            let ref = NaiveConvolution.forward(x, channels: 3, height: h, width: w, layer: conv)
            XCTAssertEqual(psi.outputCount, ref.count)
            XCTAssertLessThan(relativeError(run(psi, x), ref), 1e-12, "stride \(stride) padding \(padding)")
            // float32 path
            let psiF = try PsiNetwork<Float>(layers: [.conv2d(conv)], input: .image(channels: 3, height: h, width: w))
            let wsF = psiF.makeWorkspace()
            let xf = x.map { Float($0) }
            let yf = xf.withUnsafeBufferPointer { psiF.forward($0.baseAddress!, wsF) }
            let got = (0..<ref.count).map { Double(yf[$0]) }
            XCTAssertLessThan(relativeError(got, ref), 1e-5)
        }
    }

    /// conv -> relu -> maxpool -> conv -> relu -> avgpool -> flatten -> linear against loops.
    func testForwardMatchesLayerByLayerReference() throws {
        var rng = SplitMix(seed: 2)
        let c1 = randomConv(5, 3, 3, padding: 1, rng: &rng), c2 = randomConv(4, 5, 3, padding: 1, rng: &rng)
        let lin = LinearLayer(outFeatures: 6, inFeatures: 4 * 2 * 2, weight: (0..<96).map { _ in rng.normal() },
                              bias: (0..<6).map { _ in rng.normal() })
        let layers: [PsiLayer] = [.conv2d(c1), .relu, .maxPool2d(kernel: 2, stride: 2), .conv2d(c2), .relu,
                                  .avgPool2d(kernel: 2, stride: 2), .flatten, .linear(lin)]
        let psi = try PsiNetwork<Double>(layers: layers, input: .image(channels: 3, height: 8, width: 8))
        XCTAssertEqual(psi.shapes.last, .vector(6))
        let x = (0..<(3 * 64)).map { _ in rng.normal() }
        var a = NaiveConvolution.forward(x, channels: 3, height: 8, width: 8, layer: c1).map { max($0, 0) }
        a = pool(a, channels: 5, size: 8, isMax: true)
        a = NaiveConvolution.forward(a, channels: 5, height: 4, width: 4, layer: c2).map { max($0, 0) }
        a = pool(a, channels: 4, size: 4, isMax: false)
        let y = (0..<6).map { o in (0..<16).reduce(lin.bias[o]) { $0 + lin.weight[o * 16 + $1] * a[$1] } }
        XCTAssertLessThan(relativeError(run(psi, x), y), 1e-12)
    }

    func pool(_ a: [Double], channels: Int, size: Int, isMax: Bool) -> [Double] {
        let o = size / 2
        var out = [Double]()
        for c in 0..<channels {
            for y in 0..<o {
                for x in 0..<o {
                    let v = [(0, 0), (0, 1), (1, 0), (1, 1)].map { a[(c * size + 2 * y + $0.0) * size + 2 * x + $0.1] }
                    out.append(isMax ? v.max()! : v.reduce(0, +) / 4)
                }
            }
        }
        return out
    }

    /// A bias-free ReLU network (conv, relu, maxpool, avgpool, global pool, linear).
    func biasFreeNet(rng: inout SplitMix, gamma: Double, epsilon: Double = 0) throws -> PsiNetwork<Double> {
        let c1 = randomConv(4, 2, 3, padding: 1, bias: false, rng: &rng), c2 = randomConv(5, 4, 3, padding: 1, bias: false, rng: &rng)
        let lin = LinearLayer(outFeatures: 3, inFeatures: 5, weight: (0..<15).map { _ in rng.normal() })
        return try PsiNetwork<Double>(layers: [.conv2d(c1), .relu, .maxPool2d(kernel: 2, stride: 2), .conv2d(c2), .relu,
                                               .avgPool2d(kernel: 2, stride: 1), .globalAvgPool, .linear(lin)],
                                      input: .image(channels: 2, height: 6, width: 6),
                                      rules: LRPRules(convGamma: gamma, linearRule: .epsilon, epsilon: epsilon))
    }

    /// LRP-0 on a bias-free ReLU network is gradient x input (with R = y * v at the top).
    func testLRPZeroIsGradientTimesInput() throws {
        var rng = SplitMix(seed: 3)
        let psi = try biasFreeNet(rng: &rng, gamma: 0)
        let x = (0..<72).map { _ in abs(rng.normal()) + 0.1 }
        let v = [0.7, -1.3, 0.4]
        let y = run(psi, x)
        let r = lrp(psi, x, relevance: zip(y, v).map { $0 * $1 })
        // The network is piecewise linear: central differences are exact away from kinks.
        let h = 1e-6
        let grad = (0..<x.count).map { i -> Double in
            var xp = x, xm = x
            xp[i] += h
            xm[i] -= h
            let fp = zip(run(psi, xp), v).reduce(0) { $0 + $1.0 * $1.1 }
            let fm = zip(run(psi, xm), v).reduce(0) { $0 + $1.0 * $1.1 }
            return (fp - fm) / (2 * h)
        }
        XCTAssertLessThan(relativeError(r, zip(grad, x).map { $0 * $1 }), 1e-6)
        XCTAssertGreaterThan(r.map(abs).max()!, 0.01)
    }

    /// LRP-gamma with gamma -> 0 tends to LRP-0, and both conserve relevance in bias-free layers.
    func testGammaZeroIsLRPZeroAndConservation() throws {
        var rng = SplitMix(seed: 4)
        let net0 = try biasFreeNet(rng: &rng, gamma: 0)
        var rng2 = SplitMix(seed: 4)
        let netTiny = try biasFreeNet(rng: &rng2, gamma: 1e-12)
        var rng3 = SplitMix(seed: 4)
        let netG = try biasFreeNet(rng: &rng3, gamma: 0.25)
        let x = (0..<72).map { _ in abs(rng.normal()) }
        let top = [0.5, 1.5, -0.25]
        let r0 = lrp(net0, x, relevance: top), rt = lrp(netTiny, x, relevance: top), rg = lrp(netG, x, relevance: top)
        XCTAssertLessThan(relativeError(rt, r0), 1e-9)
        XCTAssertGreaterThan(relativeError(rg, r0), 1e-3)    // gamma changes the map ...
        for r in [r0, rg] {                                  // ... but not the total
            XCTAssertEqual(r.reduce(0, +), top.reduce(0, +), accuracy: 1e-9)
        }
    }

    /// The gamma rule of one conv layer against the paper's formula evaluated with loops, on
    /// non-negative inputs with relevance on the positive outputs only (as after a ReLU), where the
    /// generalised rule is that formula (LRPRuleTests covers the other outputs).
    func testGammaRuleMatchesFormula() throws {
        var rng = SplitMix(seed: 5)
        let gamma = 0.3, eps = 1e-6
        let conv = randomConv(3, 2, 3, stride: 2, padding: 1, rng: &rng)
        let (h, w) = (7, 6)
        let psi = try PsiNetwork<Double>(layers: [.conv2d(conv)], input: .image(channels: 2, height: h, width: w),
                                         rules: LRPRules(convGamma: gamma, epsilon: eps))
        let x = (0..<(2 * h * w)).map { _ in abs(rng.normal()) }
        let y = NaiveConvolution.forward(x, channels: 2, height: h, width: w, layer: conv)
        let rOut = y.map { $0 > 0 ? rng.normal() : 0 }
        XCTAssert(rOut.contains { $0 != 0 } && y.contains { $0 < 0 })
        let modified = Conv2DLayer(outChannels: 3, inChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1,
                                   weight: conv.weight.map { $0 + gamma * max($0, 0) },
                                   bias: conv.bias.map { $0 + gamma * max($0, 0) })
        let z = NaiveConvolution.forward(x, channels: 2, height: h, width: w, layer: modified)
        let (ho, wo) = ((h + 2 - 3) / 2 + 1, (w + 2 - 3) / 2 + 1)
        var expected = [Double](repeating: 0, count: x.count)
        for o in 0..<3 { for oy in 0..<ho { for ox in 0..<wo {
            let j = (o * ho + oy) * wo + ox
            let s = rOut[j] / (z[j] + (z[j] >= 0 ? eps : -eps))
            for c in 0..<2 { for i in 0..<3 { for jj in 0..<3 {
                let yy = oy * 2 + i - 1, xx = ox * 2 + jj - 1
                guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                let idx = (c * h + yy) * w + xx
                expected[idx] += x[idx] * modified.weight[((o * 2 + c) * 3 + i) * 3 + jj] * s
            } } }
        } } }
        XCTAssertLessThan(relativeError(lrp(psi, x, relevance: rOut), expected), 1e-12)
    }

    func testMaxPoolRoutesRelevanceToTheWinner() throws {
        var rng = SplitMix(seed: 6)
        let psi = try PsiNetwork<Double>(layers: [.maxPool2d(kernel: 2, stride: 2)], input: .image(channels: 2, height: 4, width: 6))
        let x = (0..<48).map { _ in rng.normal() }
        let rOut = (0..<psi.outputCount).map { _ in rng.normal() }
        let r = lrp(psi, x, relevance: rOut)
        for c in 0..<2 { for oy in 0..<2 { for ox in 0..<3 {
            let idx = [(0, 0), (0, 1), (1, 0), (1, 1)].map { (c * 4 + 2 * oy + $0.0) * 6 + 2 * ox + $0.1 }
            let winner = idx.max { x[$0] < x[$1] }!
            XCTAssertEqual(r[winner], rOut[(c * 2 + oy) * 3 + ox])
            for i in idx where i != winner { XCTAssertEqual(r[i], 0) }
        } } }
    }

    /// The batched path (one GEMM per conv layer for several samples) equals the per-sample path.
    func testBatchedPassesEqualPerSamplePasses() throws {
        var rng = SplitMix(seed: 8)
        let c1 = randomConv(4, 3, 3, stride: 2, padding: 1, rng: &rng), c2 = randomConv(5, 4, 3, padding: 1, rng: &rng)
        let psi = try PsiNetwork<Double>(layers: [.conv2d(c1), .relu, .conv2d(c2), .relu, .maxPool2d(kernel: 2, stride: 2), .flatten],
                                         input: .image(channels: 3, height: 9, width: 9), rules: LRPRules(convGamma: 0.2))
        let n = 3
        let xs = (0..<n).map { _ in (0..<psi.inputCount).map { _ in abs(rng.normal()) } }
        let rs = (0..<n).map { _ in (0..<psi.outputCount).map { _ in rng.normal() } }
        let ws = (0..<n).map { _ in psi.makeWorkspace() }, scratch = (0..<n).map { _ in psi.makeScratch() }
        let batch = psi.makeBatch(samples: n)
        let xp = xs.map { x -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: x.count); p.initialize(from: x, count: x.count); return p }
        let rp = rs.map { r -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: r.count); p.initialize(from: r, count: r.count); return p }
        let outs = (0..<n).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: psi.inputCount) }
        defer { (xp + rp + outs).forEach { $0.deallocate() } }
        psi.forward(batch: xp.map { UnsafePointer($0) }, ws, batch)
        psi.backward(batch: rp.map { UnsafePointer($0) }, activations: ws, scratch: scratch, into: outs, batch)
        for s in 0..<n {
            let a = Array(UnsafeBufferPointer(start: psi.activation(psi.layers.count, in: ws[s]), count: psi.outputCount))
            XCTAssertLessThan(relativeError(a, run(psi, xs[s])), 1e-12)
            XCTAssertLessThan(relativeError(Array(UnsafeBufferPointer(start: outs[s], count: psi.inputCount)),
                                            lrp(psi, xs[s], relevance: rs[s])), 1e-12)
        }
    }

    func testShapesThatDoNotChainAreRefused() {
        var rng = SplitMix(seed: 7)
        let c1 = randomConv(4, 3, 3, rng: &rng), c2 = randomConv(4, 5, 3, rng: &rng)
        XCTAssertThrowsError(try PsiNetwork<Double>(layers: [.conv2d(c1), .relu, .conv2d(c2)], input: .image(channels: 3, height: 8, width: 8))) {
            XCTAssertEqual("\($0)", "psi layer 2 (conv2d) expects 5 input channels but psi layer 1 (relu) gives (4, 6, 6)")
        }
        XCTAssertThrowsError(try PsiNetwork<Double>(layers: [.conv2d(c1)], input: .image(channels: 2, height: 8, width: 8))) {
            XCTAssertEqual("\($0)", "psi layer 0 (conv2d) expects 3 input channels but the input samples give (2, 8, 8)")
            XCTAssertEqual(($0 as? PsiShapeError)?.layer, 0)
        }
        let lin = LinearLayer(outFeatures: 2, inFeatures: 3, weight: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try PsiNetwork<Double>(layers: [.globalAvgPool, .linear(lin)], input: .image(channels: 4, height: 2, width: 2))) {
            XCTAssertEqual("\($0)", "psi layer 1 (linear) expects 3 input features but psi layer 0 (global_avg_pool) gives (4)")
        }
        XCTAssertThrowsError(try PsiNetwork<Double>(layers: [.maxPool2d(kernel: 3, stride: 3)], input: .image(channels: 1, height: 2, width: 2)))
    }
}
