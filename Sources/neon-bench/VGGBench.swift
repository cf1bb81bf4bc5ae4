import Dispatch
import Foundation
import NeonCore

/// neon-bench --vgg: the deep clustering workload of the paper's Table I: VGG-16 blocks 4-5 (six
/// 3x3 convolutions with 512 channels, two 2x2 max pools) on 256 x 12 x 12 float32 block-3
/// features, global average pooling, a K-cluster deep k-means head, LRP-gamma (0.1) in the convs.
/// Weights are He-initialised at random (the cost does not depend on their values); centroids are
/// the activations of K samples. Prints images/s and the achieved GFLOP/s over the sgemm ceiling
/// of the conv GEMM shape (512 x 4608 @ 4608 x 144), measured in this process.
enum VGGBench {
    static func layers(rng: inout SplitMix64) -> [PsiLayer] {
        func conv(_ o: Int, _ i: Int) -> PsiLayer {
            let std = (2.0 / Double(i * 9)).squareRoot()
            return .conv2d(Conv2DLayer(outChannels: o, inChannels: i, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
                                       weight: (0..<(o * i * 9)).map { _ in std * rng.normal() },
                                       bias: (0..<o).map { _ in 0.01 * rng.normal() }))
        }
        return [conv(512, 256), .relu, conv(512, 512), .relu, conv(512, 512), .relu, .maxPool2d(kernel: 2, stride: 2),
                conv(512, 512), .relu, conv(512, 512), .relu, conv(512, 512), .relu, .maxPool2d(kernel: 2, stride: 2),
                .globalAvgPool]
    }

    static func run(rows N: Int, clusters K: Int, repeats: Int, targets: Int, extraLibraries: [String] = []) {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let peak = HardwareReport.print(features: 256, columns: 1000, threads: threads, extraLibraries: extraLibraries)
        var rng = SplitMix64(seed: 7)
        let input = TensorShape.image(channels: 256, height: 12, width: 12)
        let psi = try! PsiNetwork<Float>(layers: layers(rng: &rng), input: input, rules: LRPRules(convGamma: 0.1))
        let d = input.count
        let x = (0..<(N * d)).map { _ in Float(max(0, rng.normal())) }
        // Centroids: a = Psi(x) of K samples (with a little noise).
        let ws = psi.makeWorkspace()
        var mu: [Double] = []
        for k in 0..<K {
            let a = x.withUnsafeBufferPointer { psi.forward($0.baseAddress! + (k % N) * d, ws) }
            mu += (0..<psi.outputCount).map { Double(a[$0]) * (1 + 0.05 * rng.normal()) }
        }
        let head = ClusterHead(clusters: K, features: psi.outputCount, centroids: mu, logits: .distance(stiffness: 1))
        let target: [Int?] = targets <= 1 ? [nil] : (0..<targets).map { $0 % K }
        let engine = DeepEngine<Float>(psi: psi, head: head, targets: target)

        // The ceiling: every thread runs the dominant conv GEMM (O x I kh kw @ I kh kw x H W).
        let (gm, gk, gn) = (512, 4608, 144)
        let a = [Float](repeating: 0.5, count: gm * gk), b = [Float](repeating: 0.25, count: gk * gn)
        let c = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: gm * gn) }
        let gemmReps = 20
        func ceilingTime() -> Double {
            best(5) {
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    for _ in 0..<gemmReps {
                        Float.gemm(m: gm, n: gn, k: gk, alpha: 1, a: a, lda: gk, b: b, ldb: gn, transposeB: false,
                                   beta: 0, c: c[t], ldc: gn)
                    }
                }
            }
        }
        let tc0 = ceilingTime()

        var asg = [Int64](repeating: 0, count: N), lg = [Double](repeating: 0, count: N * target.count)
        var rel = [Float](repeating: 0, count: N * target.count * d)
        var beta = 0.0
        let tLogits = best(repeats) {
            x.withUnsafeBufferPointer { engine.logits($0.baseAddress!, rows: N, assignment: &asg, logit: &lg) }
            beta = 1 / (lg.prefix(N).reduce(0, +) / Double(N))
        }
        let tExplain = best(repeats) {
            x.withUnsafeBufferPointer { engine.explain($0.baseAddress!, rows: N, beta: beta, relevance: &rel, assignment: &asg, logit: &lg) }
        }
        let ceiling = Double(threads * gemmReps) * 2 * Double(gm * gk * gn) / min(tc0, ceilingTime()) / 1e9
        let gExplain = Double(N) * engine.explainFlopsPerSample / tExplain / 1e9
        let gTotal = Double(N) * (engine.logitFlopsPerSample + engine.explainFlopsPerSample) / (tLogits + tExplain) / 1e9
        var sums = [Double](repeating: 0, count: N * target.count)
        Float.rowSums(rel, rows: N * target.count, features: d, into: &sums)
        let conservation = zip(sums, lg).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        print(String(format: "neon-bench --vgg: VGG-16 blocks 4-5 + GAP + deep k-means K=%d, N=%d x 256x12x12 float32, %d target(s), %d threads",
                     K, N, target.count, threads))
        print(String(format: "  sgemm ceiling (%d x %d @ %d x %d per thread): %.1f GFLOP/s", gm, gk, gk, gn, ceiling))
        print(String(format: "  forward only (beta pass):    %.3f s  %.1f images/s  %.1f GFLOP/s (%.2f GFLOP/image)", tLogits,
                     Double(N) / tLogits, Double(N) * engine.logitFlopsPerSample / tLogits / 1e9, engine.logitFlopsPerSample / 1e9))
        print(String(format: "  forward + relevance:         %.3f s  %.1f images/s  %.1f GFLOP/s = %.1f%% of the ceiling (%.2f GFLOP/image)",
                     tExplain, Double(N) / tExplain, gExplain, 100 * gExplain / ceiling, engine.explainFlopsPerSample / 1e9))
        print(String(format: "  beta auto job (both passes): %.1f images/s, %.1f GFLOP/s = %.1f%% of the ceiling%@",
                     Double(N) / (tLogits + tExplain), gTotal, 100 * gTotal / ceiling, HardwareReport.share(gTotal, peak)))
        print(String(format: "  max |sum R - f_c| / max(1, |f_c|) = %.2e (conv biases absorb some relevance)", conservation))
        // FNV-1a over the relevance's and logits' bits: equal checksums = bit-identical results
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in rel { h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
        for v in lg { h = (h ^ v.bitPattern) &* 0x100_0000_01b3 }
        print(String(format: "  checksum of R and f_c (bits): %016llx", h))
    }

    static func best(_ reps: Int, _ body: () -> Void) -> Double { BenchmarkTiming.best(reps, body) }
}
