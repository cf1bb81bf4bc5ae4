import Foundation
import NeonCore
import Storage
import XCTest

/// explain.pruning through the whole pipeline: identical outputs for 1, 2, 3 ranks, the same
/// decisions as the unpruned run and relevance within the recorded bound, the recorded kept
/// fractions, and the jobs it refuses.
final class KernelPruningEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// 20 clusters in 5 groups of 8, 4, 3, 2, 3 clusters (groups far apart), 5 support vectors
    /// each; samples around them (so rows keep different numbers of clusters).
    func writeClustered(rows n: Int, features d: Int = 8) throws -> KernelKMeansModel {
        var rng = SplitMix64(seed: 41)
        let groups = (0..<5).map { _ in (0..<d).map { _ in 12 * rng.normal() } }
        let groupOf = [0, 1, 0, 2, 0, 3, 0, 4, 0, 1, 0, 2, 0, 3, 0, 4, 1, 2, 1, 4]
        var u: [Double] = [], c: [Int64] = []
        for k in 0..<20 {
            let centre = groups[groupOf[k]].map { $0 + 2 * rng.normal() }
            for _ in 0..<5 {
                u += centre.map { $0 + 0.7 * rng.normal() }
                c.append(Int64(k))
            }
        }
        let f = try H5WriteFile(creating: fx.path("model.h5"), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", 0.3)
        try f.write("support_vectors", element: .float64, rows: c.count, columns: d, values: u)
        try f.write("support_cluster", element: .int64, dims: [c.count], values: c)
        try f.close()
        var x: [Double] = []
        for _ in 0..<n {
            let j = Int.random(in: 0..<c.count, using: &rng)
            x += (0..<d).map { u[j * d + $0] + 0.4 * rng.normal() }
        }
        try fx.writeInput(rows: n, features: d, values: x, float32: false)
        return try KernelKMeansModel(features: d, supportVectors: u, supportCluster: c.map { Int($0) }, gamma: 0.3)
    }

    func testPrunedRunsAgreeAcrossRanksAndStayWithinTheRecordedBound() throws {
        let (n, d) = (4600, 8)          // blocks of 4096 rows: two tiles of 2048 (several ranks busy)
        _ = try writeClustered(rows: n, features: d)
        let pruning = #", "pruning": {"tolerance": 0.05}"#
        var outputs: [String] = []
        var summary = ""
        for p in 1...3 {
            let job = try fx.writeJob("p\(p).json", output: "p\(p).h5", blockRows: 4096, explainExtra: pruning)
            let r = try NeonBatchProcess.run([job], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            if p == 2 { summary = r.stdout }
            outputs.append(fx.path("p\(p).h5"))
        }
        for o in outputs.dropFirst() {
            try assertSameOutput(o, outputs[0], ignoring: ["created", "elapsed_seconds", "ranks", "job", "job_file"])
        }
        let job = try fx.writeJob("full.json", output: "full.h5", blockRows: 4096)
        XCTAssertEqual(try NeonBatchProcess.run([job, "-q"], ranks: 2).status, 0)
        let pruned = try StoredFile(path: outputs[0]), full = try StoredFile(path: fx.path("full.h5"))
        XCTAssertEqual(pruned.numberAttribute("pruning_tolerance"), 0.05)
        XCTAssertEqual(pruned.numberAttribute("beta")!, full.numberAttribute("beta")!, accuracy: 1e-12 * full.numberAttribute("beta")!)
        let kept = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction"))
        let keptRelevance = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction_relevance"))
        let keptBeta = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction_beta_pass"))
        let bound = try XCTUnwrap(pruned.numberAttribute("pruning_error_bound"))
        XCTAssertEqual(pruned.numberAttribute("pruning_dense_rows"), 0)
        XCTAssertGreaterThan(kept, 0.1)
        XCTAssertLessThan(kept, 0.5)
        XCTAssertLessThan(keptRelevance, kept)
        XCTAssertLessThanOrEqual(keptBeta, kept)
        XCTAssertNil(full.numberAttribute("pruning_kept_fraction"))
        XCTAssertEqual(try pruned.int64s("assignment"), try full.int64s("assignment"))
        let (fp, ff) = (try pruned.doubles("logit"), try full.doubles("logit"))
        let (rp, rf) = (try pruned.doubles("relevance"), try full.doubles("relevance"))
        var worst = 0.0
        for i in 0..<n {
            XCTAssertEqual(fp[i], ff[i], accuracy: 1e-10 * max(1, abs(ff[i])))   // (distances ~1e3: float64 rounding)
            guard ff[i] > 0 else { continue }
            let l1 = (0..<d).reduce(0.0) { $0 + abs(rp[i * d + $1] - rf[i * d + $1]) }
            worst = max(worst, l1 / ff[i])
        }
        XCTAssertLessThanOrEqual(worst, bound * (1 + 1e-9) + 1e-9)     // (float64 rounding of both runs: ~1e-11)
        XCTAssertGreaterThan(worst, 1e-6)
        XCTAssertTrue(summary.contains(String(format: "  pruning:      tolerance 0.05: %.2f%% of the (sample, support vector) paths evaluated", 100 * kept)), summary)
    }

    /// Parts of a pruned export join into the single run's file; the kept fractions are the
    /// row-weighted means of the parts' and the bound their maximum.
    func testPrunedPartsJoinIntoTheSingleRun() throws {
        _ = try writeClustered(rows: 4600)
        let pruning = #", "pruning": {"tolerance": 1e-3}"#
        let single = try fx.writeJob("single.json", output: "single.h5", blockRows: 2048, explainExtra: pruning)
        XCTAssertEqual(try NeonBatchProcess.run([single, "-q"], ranks: 2).status, 0)
        let job = try fx.writeJob("parts.json", output: "joined.h5", blockRows: 2048, explainExtra: pruning)
        for i in 0..<2 {
            let r = try NeonBatchProcess.run([job, "--part", "\(i)/2", "-q"], ranks: 1 + i)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let joined = try NeonBatchProcess.run(["join", job, "--parts", "2"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        let fractions = ["pruning_kept_fraction", "pruning_kept_fraction_relevance"]
        try assertSameOutput(fx.path("joined.h5"), fx.path("single.h5"),
                             ignoring: Set(["created", "elapsed_seconds", "job", "job_file", "ranks"] + fractions))
        let (a, b) = (try StoredFile(path: fx.path("joined.h5")), try StoredFile(path: fx.path("single.h5")))
        let p0 = try StoredFile(path: fx.path("joined.part-0-of-2.h5"))
        XCTAssertNotEqual(p0.numberAttribute("pruning_kept_fraction"), b.numberAttribute("pruning_kept_fraction"))
        for name in fractions {
            XCTAssertEqual(a.numberAttribute(name)!, b.numberAttribute(name)!, accuracy: 1e-12, name)
        }
    }

    func testPruningRefusals() throws {
        try fx.writeInput(rows: 30, features: 8, values: (0..<240).map { Double($0 % 7) })
        let pruning = #", "pruning": {"tolerance": 1e-4}"#
        try fx.writeModel("kmeans.h5", clusters: 3, features: 8, centroids: (0..<24).map { Double($0 % 5) })
        let onKMeans = try fx.writeJob("kmeans.json", model: "kmeans.h5", explainExtra: pruning)
        var r = try NeonBatchProcess.run([onKMeans], ranks: 2, timeout: 60)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(onKMeans): explain.pruning applies to kernel_kmeans models; \(fx.path("kmeans.h5")) is kmeans"], r.stderr)
        _ = try writeClustered(rows: 30)
        let targets = try fx.writeJob("all.json", target: "\"all\"", explainExtra: pruning)
        r = try NeonBatchProcess.run([targets], ranks: 1, timeout: 60)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(targets): explain.pruning explains the assigned cluster only; set explain.target to "assigned""#], r.stderr)
        let baseline = try fx.writeJob("x2.json", explainExtra: pruning + #", "method": "x2""#)
        r = try NeonBatchProcess.run([baseline], ranks: 1, timeout: 60)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(baseline): explain.pruning applies to explain.method "neon" (the method is "x2")"#], r.stderr)
        let evaluate = try fx.writeJob("evaluate.json", explainExtra: pruning)
        r = try NeonBatchProcess.run(["evaluate", evaluate], ranks: 1, timeout: 60)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(evaluate): neon-batch evaluate explains without pruning; remove explain.pruning"], r.stderr)
        let bad = try fx.writeJob("bad.json", explainExtra: #", "pruning": {"tolerance": 0}"#)
        r = try NeonBatchProcess.run([bad], ranks: 2, timeout: 60)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(bad): explain.pruning.tolerance must be a number in (0, 1)"], r.stderr)
    }
}
