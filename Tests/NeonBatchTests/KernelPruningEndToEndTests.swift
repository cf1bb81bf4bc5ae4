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

    /// 5 groups of 4 clusters (groups far apart), 5 support vectors each; samples around them.
    func writeClustered(rows n: Int, features d: Int = 8) throws -> KernelKMeansModel {
        var rng = SplitMix64(seed: 41)
        let groups = (0..<5).map { _ in (0..<d).map { _ in 12 * rng.normal() } }
        var u: [Double] = [], c: [Int64] = []
        for k in 0..<20 {
            let centre = groups[k % 5].map { $0 + 2 * rng.normal() }
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
        let (n, d) = (2300, 8)
        _ = try writeClustered(rows: n, features: d)
        let pruning = #", "pruning": {"tolerance": 1e-3}"#
        var outputs: [String] = []
        var summary = ""
        for p in 1...3 {
            let job = try fx.writeJob("p\(p).json", output: "p\(p).h5", blockRows: 2048, explainExtra: pruning)
            let r = try NeonBatchProcess.run([job], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            if p == 2 { summary = r.stdout }
            outputs.append(fx.path("p\(p).h5"))
        }
        for o in outputs.dropFirst() {
            try assertSameOutput(o, outputs[0], ignoring: ["created", "elapsed_seconds", "ranks", "job", "job_file"])
        }
        let job = try fx.writeJob("full.json", output: "full.h5", blockRows: 2048)
        XCTAssertEqual(try NeonBatchProcess.run([job, "-q"], ranks: 2).status, 0)
        let pruned = try StoredFile(path: outputs[0]), full = try StoredFile(path: fx.path("full.h5"))
        XCTAssertEqual(pruned.numberAttribute("pruning_tolerance"), 1e-3)
        XCTAssertEqual(pruned.numberAttribute("beta")!, full.numberAttribute("beta")!, accuracy: 1e-12 * full.numberAttribute("beta")!)
        let kept = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction"))
        let keptRelevance = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction_relevance"))
        let keptBeta = try XCTUnwrap(pruned.numberAttribute("pruning_kept_fraction_beta_pass"))
        let bound = try XCTUnwrap(pruned.numberAttribute("pruning_error_bound"))
        XCTAssertEqual(pruned.numberAttribute("pruning_dense_rows"), 0)
        XCTAssertGreaterThan(kept, 0.1)
        XCTAssertLessThan(kept, 0.5)
        XCTAssertLessThanOrEqual(keptRelevance, kept)
        XCTAssertLessThanOrEqual(keptBeta, kept)
        XCTAssertNil(full.numberAttribute("pruning_kept_fraction"))
        XCTAssertEqual(try pruned.int64s("assignment"), try full.int64s("assignment"))
        let (fp, ff) = (try pruned.doubles("logit"), try full.doubles("logit"))
        let (rp, rf) = (try pruned.doubles("relevance"), try full.doubles("relevance"))
        var worst = 0.0
        for i in 0..<n {
            XCTAssertEqual(fp[i], ff[i], accuracy: 1e-12 * abs(ff[i]))
            guard ff[i] > 0 else { continue }
            let l1 = (0..<d).reduce(0.0) { $0 + abs(rp[i * d + $1] - rf[i * d + $1]) }
            worst = max(worst, l1 / ff[i])
        }
        XCTAssertLessThanOrEqual(worst, bound * (1 + 1e-9) + 1e-12)
        XCTAssertGreaterThan(worst, 0)
        XCTAssertTrue(summary.contains(String(format: "  pruning:      tolerance 0.001: %.2f%% of the (sample, support vector) paths evaluated", 100 * kept)), summary)
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
