// neon-bench: compute throughput of the k-means fast path against the GEMM ceiling, both
// measured in this process on the same threads (a ratio, robust to machine noise).
//
//   neon-bench [DATA.h5 MODEL.h5] [--rows N] [--repeats R]
//   neon-bench --vgg [--rows 256] [--clusters 100] [--targets T] [--repeats 2]   (deep clustering, VGGBench.swift)
//   neon-bench --kernel [--rows 20000] [--groups 50 | --flat] [--group-spread 5] [--tolerance 1e-4] [--repeats 2]
//              [--pruned-only] [--write DIR]
//              (kernel k-means, unpruned vs pruned, KernelPruningBench.swift; --write: files for neon-batch)
//   neon-bench --kernel-stl [--headroom] [--rows 2000] [--clusters 1000] [--per-cluster 50] [--features 256]
//              (kernel k-means on STL-10 scale data: throughput of both rules, or pruning headroom; KernelSTLBench.swift)
//   --blas-lib PATH (repeatable): another BLAS library to measure the sgemm ceiling of.
//
// Every run first prints the CPU, its measured FMA peak, the linked BLAS with its kernel and the sgemm
// ceiling of every BLAS installed (HardwareCeiling.swift); figures are given against both.
// Without files it generates N x 256 float32 samples and K = 1000 centroids.

import Dispatch
import Foundation
import NeonCore
import NeonPipeline
import Storage

setvbuf(stdout, nil, _IOLBF, 0)
// As neon-batch does: a kernel too weak for this CPU is corrected before the first BLAS call.
switch BLASKernelCheck.correctBeforeFirstUse() {
case .corrected(let note), .kept(let note), .warn(let note): print("neon-bench: \(note)")
case .keep, .reexec: break
}
BLASThreads.useOneThread()
HDF5Library.silenceErrorStack()

var args = Array(CommandLine.arguments.dropFirst())
var extraLibraries: [String] = []
while let i = args.firstIndex(of: "--blas-lib"), i + 1 < args.count {
    extraLibraries.append(args[i + 1])
    args.removeSubrange(i...(i + 1))
}
func option(_ name: String, _ def: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return def }
    args.removeSubrange(i...(i + 1))
    return v
}
if let i = args.firstIndex(of: "--vgg") {
    // neon-bench --vgg [--rows 256] [--clusters 100] [--targets 1] [--repeats 2]
    args.remove(at: i)
    VGGBench.run(rows: option("--rows", 256), clusters: option("--clusters", 100), repeats: option("--repeats", 2),
                 targets: option("--targets", 1), extraLibraries: extraLibraries)
    exit(0)
}
if let i = args.firstIndex(of: "--kernel-stl") {
    args.remove(at: i)
    let headroom = args.firstIndex(of: "--headroom").map { args.remove(at: $0) } != nil
    let s = KernelSTLBench.Settings(rows: option("--rows", 2000), clusters: option("--clusters", 1000),
                                    perCluster: option("--per-cluster", 50), features: option("--features", 256))
    if headroom { KernelSTLBench.headroom(s) } else { KernelSTLBench.throughput(s) }
    exit(0)
}
if let i = args.firstIndex(of: "--kernel") {
    args.remove(at: i)
    var s = KernelPruningBench.Settings()
    if let j = args.firstIndex(of: "--flat") { args.remove(at: j); s.flat = true; s.groupSpread = 3 }
    if let j = args.firstIndex(of: "--pruned-only") { args.remove(at: j); s.prunedOnly = true }
    for (name, path) in [("--tolerance", \KernelPruningBench.Settings.tolerance),
                         ("--group-spread", \KernelPruningBench.Settings.groupSpread)] {
        if let j = args.firstIndex(of: name), j + 1 < args.count, let v = Double(args[j + 1]) {
            s[keyPath: path] = v
            args.removeSubrange(j...(j + 1))
        }
    }
    s.rows = option("--rows", s.rows)
    s.groups = option("--groups", s.groups)
    s.clusters = option("--clusters", s.clusters)
    s.perCluster = option("--per-cluster", s.perCluster)
    s.repeats = option("--repeats", s.repeats)
    if let j = args.firstIndex(of: "--write"), j + 1 < args.count {
        try KernelPruningBench.write(s, to: args[j + 1])
    } else {
        KernelPruningBench.run(s, extraLibraries: extraLibraries)
    }
    exit(0)
}
let rowsWanted = option("--rows", 100_000)
let repeats = option("--repeats", 3)
let threads = ProcessInfo.processInfo.activeProcessorCount

// Data: the benchmark files, or generated blobs of the same shape.
var x: [Float]
var model: KMeansModel
var kernel: KernelKMeansModel?
if args.count >= 2 {
    let input = try InputDataset(path: args[0], dataset: "features")
    let n = min(rowsWanted, input.rows)
    x = [Float](repeating: 0, count: n * input.features)
    try x.withUnsafeMutableBytes { try input.read(rows: 0, count: n, into: $0.baseAddress!) }
    let stored = try ModelKinds.load(path: args[1]).base
    if let m = stored as? KMeansModel {
        model = m
    } else if let k = stored as? KernelKMeansModel {
        kernel = k
        model = KMeansModel(clusters: 2, features: k.features, centroids: [Double](repeating: 0, count: 2 * k.features))
    } else {
        print("neon-bench: soft/deep clustering models: run neon-bench --vgg (generated VGG-16 blocks 4-5 workload)")
        exit(2)
    }
} else {
    var rng = SplitMix64(seed: 1)
    let (d, K) = (256, 1000)
    let c = (0..<(K * d)).map { _ in max(0, rng.normal()) * 2 }
    model = KMeansModel(clusters: K, features: d, centroids: c)
    x = (0..<(rowsWanted * d)).map { i in Float(max(0, c[(i / d % K) * d + i % d] + 0.5 * rng.normal())) }
}
let d = model.features, K = kernel.map { $0.count } ?? model.clusters, N = x.count / d

func best(_ reps: Int, _ body: () -> Void) -> Double { BenchmarkTiming.best(reps, body) }

// 1. The ceilings: the CPU's FMA peak, and every thread running its own sgemm (4096 x d) @ (d x K),
// as numpy's ceiling does, with every BLAS installed and again with the linked one.
let gK = min(K, 1000), gm = 4096, gemmReps = 5
let peak = HardwareReport.print(features: d, columns: gK, threads: threads, extraLibraries: extraLibraries)
func measureCeiling() -> Double {
    BenchmarkTiming.sgemmCeiling(features: d, columns: gK, threads: threads, rounds: 5, callsPerThread: gemmReps)
}
let tCeilBefore = measureCeiling()

// 2. The fast path: the beta pass (logits) and the explain pass, as a beta "auto" job does.
let engine: any ExplainerEngine = kernel.map { KernelKMeansFastPath<Float>(model: $0) as any ExplainerEngine }
    ?? KMeansFastPath<Float>(model: model)
func logitsAny<E: ExplainerEngine>(_ e: E, _ x: [Float], _ n: Int, _ a: inout [Int64], _ l: inout [Double]) {
    x.withUnsafeBufferPointer { xp in
        xp.baseAddress!.withMemoryRebound(to: E.Scalar.self, capacity: x.count) { e.logits($0, rows: n, assignment: &a, logit: &l) }
    }
}
func explainAny<E: ExplainerEngine>(_ e: E, _ x: [Float], _ n: Int, _ beta: Double, _ r: inout [Float],
                                    _ a: inout [Int64], _ l: inout [Double]) {
    x.withUnsafeBufferPointer { xp in
        r.withUnsafeMutableBufferPointer { rp in
            xp.baseAddress!.withMemoryRebound(to: E.Scalar.self, capacity: x.count) { xq in
                rp.baseAddress!.withMemoryRebound(to: E.Scalar.self, capacity: rp.count) { rq in
                    e.explain(xq, rows: n, beta: beta, relevance: rq, assignment: &a, logit: &l)
                }
            }
        }
    }
}
var rel = [Float](repeating: 0, count: N * d)
var asg = [Int64](repeating: 0, count: N)
var lg = [Double](repeating: 0, count: N)
var beta = 0.0
let tLogits = best(repeats) {
    logitsAny(engine, x, N, &asg, &lg)
    beta = 1 / (lg.reduce(0, +) / Double(N))
}
let tExplain = best(repeats) {
    explainAny(engine, x, N, beta, &rel, &asg, &lg)
}
// The ceiling again after the work: the better of the two counts (the machine is noisy).
let ceiling = max(tCeilBefore, measureCeiling())
let flops = Double(N) * (engine.logitFlopsPerSample + engine.explainFlopsPerSample)
let gflops = flops / (tLogits + tExplain) / 1e9

print(String(format: "neon-bench: %@ N=%d d=%d %@=%d float32, %d threads (Dispatch tiles of 256 rows, 1 BLAS thread each)",
             kernel == nil ? "kmeans" : "kernel_kmeans", N, d, kernel == nil ? "K" : "M", K, threads))
print(String(format: "  sgemm ceiling (%d x %d @ %d x %d per thread): %.1f GFLOP/s", gm, d, d, gK, ceiling))
print(String(format: "  beta pass (2d x K/sample):    %.3f s  %.1f GFLOP/s", tLogits,
             Double(N) * engine.logitFlopsPerSample / tLogits / 1e9))
print(String(format: "  explain pass (6d x K/sample): %.3f s  %.1f GFLOP/s", tExplain,
             Double(N) * engine.explainFlopsPerSample / tExplain / 1e9))
print(String(format: "  compute (8d x K/sample): %.3f s, %.0f samples/s, %.1f GFLOP/s = %.1f%% of the sgemm ceiling%@",
             tLogits + tExplain, Double(N) / (tLogits + tExplain), gflops, 100 * gflops / ceiling,
             HardwareReport.share(gflops, peak)))

// 3. With the beta pass's scores kept (execution.cache_mb, k-means): the explain pass skips GEMM 1
// (6dK -> 4dK FLOPs per sample); the same bits as above.
if kernel == nil {
    let km = KMeansFastPath<Float>(model: model)
    var kept = [Float](repeating: 0, count: N * km.scoresPerRow)
    var relC = [Float](repeating: 0, count: N * d)
    var tKeep = Double.infinity, tCached = Double.infinity
    for _ in 0..<repeats {          // kept scores are consumed: each round keeps them again
        let t0 = Date()
        km.logits(x, rows: N, assignment: &asg, logit: &lg, keepingScores: &kept)
        let t1 = Date()
        km.explain(x, rows: N, beta: beta, relevance: &relC, assignment: &asg, logit: &lg, cachedScores: &kept)
        let t2 = Date()
        tKeep = min(tKeep, t1.timeIntervalSince(t0))
        tCached = min(tCached, t2.timeIntervalSince(t1))
    }
    let same = relC == rel
    let work = Double(N) * 6 * Double(d) * Double(K)          // FLOPs actually done: 2dK + 4dK
    print(String(format: "  with kept scores: beta pass %.3f s + explain (4d x K/sample) %.3f s = %.3f s, %.0f samples/s, %.1f GFLOP/s done = %.1f%% of the ceiling%@; %.2fx the compute without; relevance %@",
                 tKeep, tCached, tKeep + tCached, Double(N) / (tKeep + tCached), work / (tKeep + tCached) / 1e9,
                 100 * work / (tKeep + tCached) / 1e9 / ceiling, HardwareReport.share(work / (tKeep + tCached) / 1e9, peak),
                 (tLogits + tExplain) / (tKeep + tCached),
                 same ? "bit-identical" : "DIFFERS"))
}
