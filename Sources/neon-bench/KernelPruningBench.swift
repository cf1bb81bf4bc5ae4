import Dispatch
import Foundation
import NeonCore
import Storage

/// neon-bench --kernel: kernel k-means NEON (float32, beta "auto") on generated clustered data,
/// unpruned (the dense fast path) and pruned (explain.pruning), in one process:
///   data: G groups of K / G clusters (group centres ~ N(0, S^2 I), cluster centres = group
///   centre + N(0, s^2 I)), p support vectors per cluster (centre + N(0, w^2 I)), samples =
///   a random support vector + N(0, sigma^2 I); --flat: no groups (cluster centres ~ N(0, S^2 I)).
///   gamma = 1 / median over 64 samples of the squared distance to the nearest support vector.
/// Prints samples/s of both (beta pass + explain pass), the kept fractions, the largest relevance
/// error of pruned vs unpruned relative to |f_c| (max_f and L1) with the certified bound, and the
/// GFLOP/s actually computed over the sgemm ceiling measured in this process.
enum KernelPruningBench {
    struct Settings {
        var rows = 20_000, clusters = 1000, perCluster = 50, features = 256, groups = 50
        var groupSpread = 5.0, clusterSpread = 1.0, within = 0.5, noise = 0.5
        var tolerance = 1e-4, repeats = 2
        var flat = false
        /// Profiling: run the pruned path only (beta from its own logits).
        var prunedOnly = false
        /// Write the data, the model and two jobs (unpruned, pruned) to this folder instead.
        var write: String? = nil
    }

    static func data(_ s: Settings) -> (model: KernelKMeansModel, x: [Float]) {
        var rng = SplitMix64(seed: 11)
        let (K, p, d) = (s.clusters, s.perCluster, s.features)
        let group = (0..<(max(1, s.groups) * d)).map { _ in s.groupSpread * rng.normal() }
        var centre = [Double](repeating: 0, count: K * d)
        for k in 0..<K {
            for f in 0..<d {
                centre[k * d + f] = s.flat ? s.groupSpread * rng.normal()
                    : group[(k % s.groups) * d + f] + s.clusterSpread * rng.normal()
            }
        }
        var sv = [Double](repeating: 0, count: K * p * d), cl = [Int](repeating: 0, count: K * p)
        for j in 0..<(K * p) {
            cl[j] = j / p
            for f in 0..<d { sv[j * d + f] = centre[(j / p) * d + f] + s.within * rng.normal() }
        }
        var x = [Float](repeating: 0, count: s.rows * d)
        for n in 0..<s.rows {
            let j = Int.random(in: 0..<(K * p), using: &rng)
            for f in 0..<d { x[n * d + f] = Float(sv[j * d + f] + s.noise * rng.normal()) }
        }
        let gamma = medianNearestGamma(x, rows: s.rows, features: d, supportVectors: sv, count: K * p)
        return (try! KernelKMeansModel(features: d, supportVectors: sv, supportCluster: cl, gamma: gamma), x)
    }

    /// CPU time of this process (all threads), for comparisons on a shared machine.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func best(_ reps: Int, _ body: () -> Void) -> Double { BenchmarkTiming.best(reps, body) }

    /// Every thread its own sgemm (4096 x d) @ (d x 1000), best of 5 (as the k-means benchmark).
    static func ceiling(features d: Int) -> Double {
        BenchmarkTiming.sgemmCeiling(features: d, threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// data.h5 (features, float32), model.h5, job.json (unpruned) and job_pruned.json in `dir`.
    static func write(_ s: Settings, to dir: String) throws {
        let (model, x) = data(s)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let f = try H5WriteFile(creating: dir + "/data.h5", communicator: nil)
        try f.write("features", element: .float32, rows: s.rows, columns: s.features, values: x)
        try f.close()
        try ModelFile.writeKernelKMeans(path: dir + "/model.h5", features: s.features, supportVectors: model.supportVectors,
                                        supportCluster: model.supportCluster, gamma: model.gamma, transform: nil, attributes: [])
        for (name, extra) in [("job", ""), ("job_pruned", ", \"pruning\": {\"tolerance\": \(s.tolerance)}")] {
            let job = """
                {
                  "input": {"file": "data.h5", "dataset": "features"},
                  "model": {"file": "model.h5"},
                  "output": {"file": "\(name == "job" ? "out" : "out_pruned").h5", "overwrite": true},
                  "explain": {"beta": "auto"\(extra)},
                  "execution": {"block_rows": 8192}
                }

                """
            try job.write(toFile: dir + "/\(name).json", atomically: true, encoding: .utf8)
        }
        print("neon-bench: wrote \(dir)/data.h5 (\(s.rows) x \(s.features) float32), model.h5 (kernel_kmeans, K = \(s.clusters), M = \(model.count), gamma = \(model.gamma)), job.json, job_pruned.json")
    }

    static func run(_ s: Settings, extraLibraries: [String] = []) {
        let peak = HardwareReport.print(features: s.features, columns: 1000,
                                        threads: ProcessInfo.processInfo.activeProcessorCount, extraLibraries: extraLibraries)
        let ceiling = { Self.ceiling(features: s.features) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (model, x) = data(s)
        let (N, d, M, K) = (s.rows, s.features, model.count, s.clusters)
        print(String(format: "neon-bench --kernel: %@ data, N=%d d=%d K=%d p=%d (M=%d) float32, gamma %.4g (%.1f s to generate)",
                     s.flat ? "flat" : "grouped (\(s.groups) groups)", N, d, K, s.perCluster, M, model.gamma,
                     Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        if !s.flat {
            print(String(format: "  groups: S = %g, clusters within a group s = %g, support vectors w = %g, samples sigma = %g",
                         s.groupSpread, s.clusterSpread, s.within, s.noise))
        } else {
            print(String(format: "  cluster centres S = %g, support vectors w = %g, samples sigma = %g", s.groupSpread, s.within, s.noise))
        }
        let ceilBefore = ceiling()
        var relD = [Float](repeating: 0, count: N * d), relP = relD
        var aD = [Int64](repeating: 0, count: N), aP = aD
        var fD = [Double](repeating: 0, count: N), fP = fD
        var bounds = [Double](repeating: 0, count: N)
        let dense = KernelKMeansFastPath<Float>(model: model)
        var beta = 0.0
        if s.prunedOnly {
            let pruned = KernelKMeansPrunedPath<Float>(model: model, tolerance: s.tolerance)
            let tl = best(s.repeats) {
                pruned.logits(x, rows: N, assignment: &aP, logit: &fP)
                beta = 1 / (fP.reduce(0, +) / Double(N))
            }
            let cpu0 = cpuSeconds()
            let te = best(s.repeats) { pruned.explain(x, rows: N, beta: beta, relevance: &relP, assignment: &aP, logit: &fP) }
            print(String(format: "  explain: %.3f CPU s per pass", (cpuSeconds() - cpu0) / Double(s.repeats)))
            let st = pruned.statistics()
            print(String(format: "  pruned only: beta pass %.3f s + explain %.3f s, %.0f samples/s; kept %.2f%% (relevance %.2f%%), dense rows %d, bound max %.3g",
                         tl, te, Double(N) / (tl + te), 100 * st.forwardFraction, 100 * st.relevanceFraction,
                         st.denseRows / s.repeats, st.maxBound))
            return
        }
        // Interleaved rounds (dense beta pass, dense explain, pruned beta pass, pruned explain):
        // the best wall time of each phase, and its CPU time (all threads) in that round.
        let pruned = KernelKMeansPrunedPath<Float>(model: model, tolerance: s.tolerance)
        var wall = [Double](repeating: .infinity, count: 4), cpu = wall
        var betaP = 0.0
        var logitStats = KernelPruningStatistics()
        var ceilBest = ceilBefore
        for _ in 0..<s.repeats {
            ceilBest = max(ceilBest, ceiling())
            let phases: [() -> Void] = [
                {
                    dense.logits(x, rows: N, assignment: &aD, logit: &fD)
                    beta = 1 / (fD.reduce(0, +) / Double(N))
                },
                { dense.explain(x, rows: N, beta: beta, relevance: &relD, assignment: &aD, logit: &fD) },
                {
                    pruned.resetStatistics()
                    pruned.logits(x, rows: N, assignment: &aP, logit: &fP)
                    betaP = 1 / (fP.reduce(0, +) / Double(N))
                    logitStats = pruned.statistics(logits: true)
                    pruned.resetStatistics()
                },
                { pruned.explain(x, rows: N, beta: beta, relevance: &relP, assignment: &aP, logit: &fP, bounds: &bounds) },
            ]
            for (i, phase) in phases.enumerated() {
                let (w0, c0) = (DispatchTime.now().uptimeNanoseconds, cpuSeconds())
                phase()
                let w = Double(DispatchTime.now().uptimeNanoseconds - w0) / 1e9
                if w < wall[i] { (wall[i], cpu[i]) = (w, cpuSeconds() - c0) }
            }
        }
        let (tlD, teD, tlP, teP) = (wall[0], wall[1], wall[2], wall[3])
        let st = pruned.statistics()
        let ceil = max(ceilBest, ceiling())   // (the best of before, every round and after: the machine is noisy)
        // errors of pruned vs unpruned, relative to |f_c|
        var maxF = 0.0, maxL1 = 0.0, sameAssign = 0, maxLogit = 0.0, maxBound = 0.0
        for n in 0..<N {
            if aD[n] == aP[n] { sameAssign += 1 }
            maxLogit = max(maxLogit, abs(fD[n] - fP[n]) / abs(fD[n]))
            guard fD[n] > 0 else { continue }
            var l1 = 0.0, mx = 0.0
            for f in 0..<d {
                let e = abs(Double(relP[n * d + f]) - Double(relD[n * d + f]))
                l1 += e
                mx = max(mx, e)
            }
            maxF = max(maxF, mx / fD[n])
            maxL1 = max(maxL1, l1 / fD[n])
            maxBound = max(maxBound, bounds[n])
        }
        let denseFlops = Double(N) * (dense.logitFlopsPerSample + dense.explainFlopsPerSample)
        let prunedFlops = 2 * 2 * Double(d * K) * Double(N)                              // centre GEMMs, both passes
            + 2 * Double(d) * Double(logitStats.forwardPaths)                            // beta pass GEMMs
            + 2 * Double(d) * Double(st.forwardPaths) + 4 * Double(d) * Double(st.relevancePaths)
        let (tD, tP) = (tlD + teD, tlP + teP)
        print(String(format: "  sgemm ceiling: %.1f GFLOP/s (%d threads)", ceil, ProcessInfo.processInfo.activeProcessorCount))
        print(String(format: "  beta (auto) %.4g unpruned, %.4g pruned; pruning tolerance %g", beta, betaP, s.tolerance))
        print(String(format: "  unpruned: beta pass %.3f s + explain %.3f s = %.3f s, %.0f samples/s, %.1f GFLOP/s = %.1f%% of the ceiling%@",
                     tlD, teD, tD, Double(N) / tD, denseFlops / tD / 1e9, 100 * denseFlops / tD / 1e9 / ceil,
                     HardwareReport.share(denseFlops / tD / 1e9, peak)))
        print(String(format: "  pruned:   beta pass %.3f s + explain %.3f s = %.3f s, %.0f samples/s, %.1f GFLOP/s computed = %.1f%% of the ceiling",
                     tlP, teP, tP, Double(N) / tP, prunedFlops / tP / 1e9, 100 * prunedFlops / tP / 1e9 / ceil))
        print(String(format: "  speed-up pruned / unpruned: %.2fx (explain pass alone %.2fx, beta pass %.2fx); in CPU time %.2fx (%.2f vs %.2f CPU s)",
                     tD / tP, teD / teP, tlD / tlP, (cpu[0] + cpu[1]) / (cpu[2] + cpu[3]), cpu[0] + cpu[1], cpu[2] + cpu[3]))
        print(String(format: "  paths kept: beta pass %.2f%%, explain forward %.2f%%, relevance %.2f%%; rows of dense tiles %d of %d",
                     100 * logitStats.forwardFraction, 100 * st.forwardFraction, 100 * st.relevanceFraction,
                     st.denseRows, N))
        print(String(format: "  pruned vs unpruned: assignments equal %d / %d, max |df_c| / f_c %.2g; relevance max_f |dR_f| / |f_c| %.3g, max |dR|_1 / |f_c| %.3g; certified bound (|dR|_1 / |f_c|, float64 arithmetic) max %.3g, mean %.3g",
                     sameAssign, N, maxLogit, maxF, maxL1, maxBound, st.sumBound / Double(max(1, st.rows))))
        // The same in float64 on the first rows: the pruning error alone, and the float32 noise floor.
        let n64 = min(N, 512)
        let x64 = x[0..<(n64 * d)].map { Double($0) }
        var r64 = [Double](repeating: 0, count: n64 * d), rp64 = r64, b64 = [Double](repeating: 0, count: n64)
        var a64 = [Int64](repeating: 0, count: n64), f64 = [Double](repeating: 0, count: n64), fp64 = f64
        KernelKMeansFastPath<Double>(model: model).explain(x64, rows: n64, beta: beta, relevance: &r64, assignment: &a64, logit: &f64)
        KernelKMeansPrunedPath<Double>(model: model, tolerance: s.tolerance)
            .explain(x64, rows: n64, beta: beta, relevance: &rp64, assignment: &a64, logit: &fp64, bounds: &b64)
        var prune64 = (0.0, 0.0), noise32 = (0.0, 0.0), within = true
        for n in 0..<n64 where f64[n] > 0 {
            var e = (0.0, 0.0), z = (0.0, 0.0)
            for f in 0..<d {
                let pe = abs(rp64[n * d + f] - r64[n * d + f]), ne = abs(Double(relD[n * d + f]) - r64[n * d + f])
                e = (max(e.0, pe), e.1 + pe)
                z = (max(z.0, ne), z.1 + ne)
            }
            prune64 = (max(prune64.0, e.0 / f64[n]), max(prune64.1, e.1 / f64[n]))
            noise32 = (max(noise32.0, z.0 / f64[n]), max(noise32.1, z.1 / f64[n]))
            if e.1 / f64[n] > b64[n] * (1 + 1e-9) + 1e-15 { within = false }
        }
        print(String(format: "  float64, first %d rows: pruning error max_f %.3g, L1 %.3g (%@ the per-sample bound, max %.3g); float32 noise of the unpruned path max_f %.3g, L1 %.3g",
                     n64, prune64.0, prune64.1, within ? "within" : "NOT within", b64.max() ?? 0, noise32.0, noise32.1))
    }
}
