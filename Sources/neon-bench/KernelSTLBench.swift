import Dispatch
import Foundation
import NeonCore

/// neon-bench --kernel-stl [--headroom] [--rows 2000] [--clusters 1000] [--per-cluster 50] [--features 256]:
/// kernel k-means figures on STL-10 scale data like ../shared/bench/make_bench_data.py's kernel_stl
/// (K clusters x p support vectors, samples around individual support vectors, gamma = 1 / median
/// nearest squared distance): the fast path's throughput under both kernel rules, or with
/// --headroom what pruning could keep (formerly NeonCoreTests' KernelKMeansBenchmarkTests).
enum KernelSTLBench {
    struct Settings {
        var rows = 2000, clusters = 1000, perCluster = 50, features = 256
    }

    struct Data {
        let model: KernelKMeansModel
        let x: [Float]
        let rows: Int
    }

    static func stlLike(K: Int, p: Int, d: Int, N: Int, seed: UInt64) -> Data {
        var rng = SplitMix64(seed: seed)
        let relu: (Double) -> Double = { max(0, $0) }
        let centres = (0..<(K * d)).map { _ in 0.5 + 3 * rng.normal() }
        var pre = [Double](repeating: 0, count: K * p * d), cl = [Int](repeating: 0, count: K * p)
        for j in 0..<(K * p) {
            cl[j] = j / p
            for f in 0..<d { pre[j * d + f] = centres[(j / p) * d + f] + 1.5 * rng.normal() }
        }
        var x = [Float](repeating: 0, count: N * d)
        for n in 0..<N {
            let j = Int.random(in: 0..<(K * p), using: &rng)
            for f in 0..<d { x[n * d + f] = Float(relu(pre[j * d + f] + rng.normal())) }
        }
        let sv = pre.map(relu)
        let gamma = medianNearestGamma(x, rows: N, features: d, supportVectors: sv, count: K * p)
        let model = try! KernelKMeansModel(features: d, supportVectors: sv, supportCluster: cl, gamma: gamma)
        return Data(model: model, x: x, rows: N)
    }

    /// What pruning at tolerance eps could keep, from exact float64 quantities on a probe of samples:
    /// the oracle (weights known) and the triangle-inequality bound D_k >= (|x - centre_k| - radius_k)^2.
    static func headroom(_ s: Settings) {
        let (K, p, d, probe, eps) = (s.clusters, s.perCluster, s.features, 48, 1e-4)
        let data = stlLike(K: K, p: p, d: d, N: probe, seed: 7)
        let model = data.model, g = model.gamma
        // cluster centres and radii
        var centre = [Double](repeating: 0, count: K * d), radius = [Double](repeating: 0, count: K)
        for k in 0..<K {
            for j in model.members[k] { for f in 0..<d { centre[k * d + f] += model.supportVectors[j * d + f] / Double(p) } }
            for j in model.members[k] {
                var s = 0.0
                for f in 0..<d { let t = model.supportVectors[j * d + f] - centre[k * d + f]; s += t * t }
                radius[k] = max(radius[k], s.squareRoot())
            }
        }
        let origin = model.meanSupportVector
        let uinf = (0..<model.count).map { j in (0..<d).map { abs(model.supportVectors[j * d + $0] - origin[$0]) }.max()! }
        struct Row { var D: [Double]; var dmin: [Double]; var lower: [Double]; var b: [[Double]]; var xinf: Double }
        var rows = [Row?](repeating: nil, count: probe)
        DispatchQueue.concurrentPerform(iterations: probe) { n in
            let x = (0..<d).map { Double(data.x[n * d + $0]) }
            let dist = model.squaredDistances(x)
            var D = [Double](), dmin = [Double](), lower = [Double](), b = [[Double]]()
            for k in 0..<K {
                let dk = model.members[k].map { dist[$0] }
                D.append(LogMeanExp.value(dk, g: -g))
                dmin.append(dk.min()!)
                b.append(LogMeanExp.weights(dk, g: -g))
                var s = 0.0
                for f in 0..<d { let t = x[f] - centre[k * d + f]; s += t * t }
                lower.append(pow(max(0, s.squareRoot() - radius[k]), 2))
            }
            let r = Row(D: D, dmin: dmin, lower: lower, b: b, xinf: (0..<d).map { abs(x[$0] - origin[$0]) }.max()!)
            rows.withUnsafeMutableBufferPointer { $0[n] = r }
        }
        let all = rows.map { $0! }
        let fs = all.map { r -> Double in let s = r.D.sorted(); return s[1] - s[0] }
        let beta = 1 / (fs.reduce(0, +) / Double(probe))
        let tols = [1e-3, 1e-4]
        var gemm2Kept = [0.0, 0.0]
        var keptClusters = 0.0, keptSV = 0.0, boundClusters = 0.0, ownKept = 0.0, fOverGap = 0.0
        for (r, f) in zip(all, fs) {
            let c = r.D.indices.min { r.D[$0] < r.D[$1] }!
            let e = r.D.indices.map { $0 == c ? 0 : exp(-beta * (r.D[$0] - r.D[c] - f)) }
            let total = e.reduce(0, +)
            for k in 0..<K where k != c {
                let w = e[k] / total                                   // R_k / f_c
                if w >= eps { keptClusters += 1; keptSV += Double(r.b[k].filter { w * $0 >= eps }.count) }
                // bound: R_k / f_c <= exp(-beta (D_k^lb - D_c - f_c)) (the nearest competitor has e = 1)
                if exp(-beta * (r.lower[k] - r.D[c] - f)) >= eps { boundClusters += 1 }
            }
            ownKept += Double(r.b[c].filter { $0 >= eps }.count) / Double(p)
            // GEMM 2 pruning with a rigorous bound: dropping support vector j changes R_f by
            // W_j (u_jf^2 - 2 x_f u_jf), |.| <= |W_j| |u_j|_inf (|u_j|_inf + 2 |x|_inf) =: t_j.
            // Drop the smallest t_j while their sum stays <= tol |f_c|.
            var A = [Double](repeating: 0, count: K)
            for k in 0..<K where k != c { A[k] = e[k] / total * f / (r.D[k] - r.D[c]) }
            A[c] = -A.reduce(0, +)
            var t: [Double] = []
            for k in 0..<K { for (q, j) in model.members[k].enumerated() { t.append(abs(A[k] * r.b[k][q]) * uinf[j] * (uinf[j] + 2 * r.xinf)) } }
            t.sort()
            for (ti, tol) in tols.enumerated() {
                var acc = 0.0, dropped = 0
                for v in t { if acc + v > tol * f { break }; acc += v; dropped += 1 }
                gemm2Kept[ti] += Double(t.count - dropped) / Double(t.count)
            }
            let second = r.D.indices.filter { $0 != c }.map { r.D[$0] }
            fOverGap += f / (second.max()! - second.min()!)
        }
        let n = Double(probe), comp = Double(K - 1)
        print(String(format: "pruning headroom at eps %.0e (K=%d, p=%d, gamma %.4g, beta %.3g, %d samples):", eps, K, p, g, beta, probe))
        print(String(format: "  oracle: competitor clusters with R_k/f_c >= eps %.1f%%, support vectors with R_k b_j / f_c >= eps %.1f%% of M, own a_i >= eps %.1f%%",
                     100 * keptClusters / (n * comp), 100 * keptSV / (n * comp * Double(p)), 100 * ownKept / n))
        print(String(format: "  triangle bound keeps %.1f%% of the competitor clusters; mean f_c / (max - min competitor D_k) = %.2f",
                     100 * boundClusters / (n * comp), fOverGap / n))
        for (ti, tol) in tols.enumerated() {
            print(String(format: "  GEMM 2 pruned with a rigorous max_f |dR_f| <= %.0e |f_c| bound keeps %.1f%% of the support vectors",
                         tol, 100 * gemm2Kept[ti] / n))
        }
    }

    /// Both kernel rules' fast path on the data: beta pass and explain pass times, GFLOP/s against
    /// the sgemm ceiling measured in this process, and how conservative the explanations are.
    static func throughput(_ s: Settings) {
        let (K, p, N, d) = (s.clusters, s.perCluster, s.rows, s.features)
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let t0 = DispatchTime.now().uptimeNanoseconds
        let data = stlLike(K: K, p: p, d: d, N: N, seed: 7)
        print(String(format: "data: K=%d p=%d d=%d N=%d gamma=%.4g (%.1f s to generate)", K, p, d, N, data.model.gamma,
                     Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        let ceiling = BenchmarkTiming.sgemmCeiling(features: d, threads: threads, rounds: 3)
        for rule in KernelRule.allCases {
            let engine = KernelKMeansFastPath<Float>(model: data.model, rule: rule)
            var rel = [Float](repeating: 0, count: N * d)
            var asg = [Int64](repeating: 0, count: N), lg = [Double](repeating: 0, count: N)
            var beta = 0.0
            let tl = BenchmarkTiming.best(2) {
                engine.logits(data.x, rows: N, assignment: &asg, logit: &lg)
                beta = 1 / (lg.reduce(0, +) / Double(N))
            }
            let te = BenchmarkTiming.best(2) {
                engine.explain(data.x, rows: N, beta: beta, relevance: &rel, assignment: &asg, logit: &lg)
            }
            let flops = Double(N) * (engine.logitFlopsPerSample + engine.explainFlopsPerSample)
            let g = flops / (tl + te) / 1e9
            print(String(format: "%@: beta %.3g; logits %.3f s (%.1f GFLOP/s), explain %.3f s (%.1f GFLOP/s); "
                         + "%.0f samples/s, %.1f GFLOP/s = %.0f%% of the sgemm ceiling %.1f GFLOP/s (%d threads, tiles of %d)",
                         rule.rawValue, beta, tl, Double(N) * engine.logitFlopsPerSample / tl / 1e9, te,
                         Double(N) * engine.explainFlopsPerSample / te / 1e9, Double(N) / (tl + te), g,
                         100 * g / ceiling, ceiling, threads, KernelKMeansFastPath<Float>.tileRows))
            if !rel.allSatisfy({ $0.isFinite }) { print("  \(rule.rawValue): NON-FINITE RELEVANCE") }
            // sum_f R_f / f_c (1 for a conservative explanation) and max_f |R_f| / f_c, percentiles over rows
            var ratio: [Double] = [], peak: [Double] = []
            for n in 0..<N where lg[n] > 0 {
                let r = rel[(n * d)..<((n + 1) * d)].map { Double($0) }
                ratio.append(r.reduce(0, +) / lg[n])
                peak.append(r.map(abs).max()! / lg[n])
            }
            ratio.sort(); peak.sort()
            let pc: ([Double], Double) -> Double = { $0[min($0.count - 1, Int($1 * Double($0.count)))] }
            print(String(format: "  %@: sum_f R_f / f_c p5 %.3f p50 %.3f p95 %.3f; max_f |R_f| / f_c p50 %.3f p95 %.3f max %.3g",
                         rule.rawValue, pc(ratio, 0.05), pc(ratio, 0.5), pc(ratio, 0.95), pc(peak, 0.5), pc(peak, 0.95),
                         peak.last ?? 0))
        }
    }
}
