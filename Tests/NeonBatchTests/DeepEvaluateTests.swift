import Foundation
import NeonCore
import Storage
import XCTest

/// `neon-batch evaluate` and explain.method for soft and deep models (Sec. IV, VII): channels of
/// (C, H, W) inputs with zero imputation, KDE imputation for soft k-means on vectors, the same
/// numbers as NeonCore in-process and for 1, 2, 3 ranks, and exact messages for refused methods.
final class DeepEvaluateTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    func writeJob(_ name: String, output: String, explain: String = #"{"beta": "auto"}"#, evaluate: String = "{}",
                  model: String = "model.h5", input: String = "data.h5") throws -> String {
        let text = """
            {"input": {"file": "\(input)", "dataset": "features"}, "model": {"file": "\(model)"},
             "output": {"file": "\(output)", "overwrite": true}, "explain": \(explain),
             "evaluate": \(evaluate), "execution": {"block_rows": 16}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    /// conv 3x3 (3 -> 4 channels, padding 1), relu, 2x2 max pooling: (3, 6, 6) -> (4, 3, 3), D = 36.
    static func layers(seed: UInt64) -> [PsiLayer] {
        var rng = SplitMix64(seed: seed)
        let conv = Conv2DLayer(outChannels: 4, inChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
                               weight: (0..<108).map { _ in rng.normal() / 5 }, bias: (0..<4).map { _ in 0.05 * rng.normal() })
        return [.conv2d(conv), .relu, .maxPool2d(kernel: 2, stride: 2)]
    }

    func deepModel(kind: String = "deep_kmeans", rows n: Int) throws -> (x: [Double], layers: [PsiLayer], mu: [Double]) {
        let layers = Self.layers(seed: 61)
        let x = try fx.writeSamples(rows: n, shape: [3, 6, 6], seed: 62)
        var rng = SplitMix64(seed: 63)
        let mu = (0..<(4 * 36)).map { _ in abs(rng.normal()) * 0.4 }
        try fx.writeHeadModel(kind: kind, layers: layers, centroids: mu, clusters: 4, features: 36)
        return (x, layers, mu)
    }

    func testDeepEvaluationScoresChannelsAndIsTheSameForOneTwoThreeRanks() throws {
        let n = 30, d = 108
        let (x, layers, mu) = try deepModel(rows: n)
        let methods = ["neon", "random", "x2", "sensitivity", "ig", "pda0"]
        var results: [[Double]] = []
        for p in 1...3 {
            let job = try writeJob("e\(p).json", output: "o\(p).h5", evaluate: #"{"repeats": 2, "seed": 7}"#)
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let f = try StoredFile(path: fx.path("o\(p).evaluation.h5"))
            XCTAssertEqual(try f.stringAttribute("status"), "complete")
            XCTAssertEqual(try f.strings(dataset: "methods"), methods, "pdacs and nca do not apply")
            XCTAssertEqual(f.shape("auc"), [n, 6, 2])
            XCTAssertEqual(f.shape("insertion_curve"), [6, 3], "one point per channel")
            XCTAssertEqual(f.numberAttribute("features"), 3)
            XCTAssertEqual(try f.stringAttribute("feature_unit"), "channel")
            XCTAssertEqual(f.numberAttribute("values_per_feature"), 36)
            XCTAssertEqual(try f.stringAttribute("sigma_mode"), "unused")
            XCTAssertEqual(f.numberAttribute("reference_rows"), 0)
            XCTAssertEqual(try f.stringAttribute("imputation"), "zero (missing channels of activations, Sec. VII-A)")
            let auc = try f.doubles("auc")
            XCTAssertTrue(auc.allSatisfy { [100.0 / 3, 200.0 / 3, 100].contains($0) }, "AUC = 100 k / 3")
            results.append(try auc + f.doubles("insertion_curve") + f.int64s("assignment").map(Double.init) + [f.numberAttribute("beta")!])
        }
        XCTAssertEqual(results[1], results[0])
        XCTAssertEqual(results[2], results[0])

        // beta "auto" is the one `run` computes for the same job (Eq. 3, the pipeline's logits).
        let runJob = try writeJob("run.json", output: "run.h5")
        XCTAssertEqual(try NeonBatchProcess.run([runJob, "-q"], ranks: 2).status, 0)
        let runBeta = try StoredFile(path: fx.path("run.h5")).numberAttribute("beta")!
        let f = try StoredFile(path: fx.path("o1.evaluation.h5"))
        XCTAssertEqual(f.numberAttribute("beta"), runBeta)

        // The same numbers in-process.
        let psi = try PsiNetwork<Double>(layers: layers, input: .image(channels: 3, height: 6, width: 6), rules: LRPRules())
        let model = DeepClusteringDecision(head: ClusterHead(clusters: 4, features: 36, centroids: mu, logits: .distance(stiffness: 1)),
                                           psi: psi)
        let plan = EvaluationPlan(model: model, methods: methods.map { ExplanationMethod(rawValue: $0)! }, repeats: 2, seed: 7,
                                  settings: ExplainerSettings(beta: runBeta))
        let auc = try f.doubles("auc")
        for s in [0, 11, 29] {
            let r = plan.evaluate(Array(x[(s * d)..<((s + 1) * d)]), sample: s)
            XCTAssertEqual(Array(auc[(s * 12)..<((s + 1) * 12)]), r.auc.flatMap { $0 }, "sample \(s)")
        }
        let md = try String(contentsOfFile: fx.path("o1.evaluation.summary.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("d = channels, missing channels set to zero"), md)
        XCTAssertTrue(md.contains("| \(fx.dir.lastPathComponent)/data.h5:features | 30 | 3 | 4 | deep_kmeans | "), md)
    }

    func testRefusedMethodsForChannels() throws {
        _ = try deepModel(rows: 10)
        var job = try writeJob("a.json", output: "a.h5", evaluate: #"{"methods": ["neon", "pdacs"]}"#)
        var r = try NeonBatchProcess.run(["evaluate", job], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): evaluate.methods: "pdacs" applies to vector inputs only (the input samples are (3, 6, 6): missing channels of activations are set to zero, where PDAcs equals PDA0)"#])
        job = try writeJob("b.json", output: "b.h5", evaluate: #"{"methods": ["nca"]}"#)
        r = try NeonBatchProcess.run(["evaluate", job])
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): evaluate.methods: "nca" applies to k-means models only (the model is deep_kmeans)"#])
        job = try writeJob("c.json", output: "c.h5", explain: #"{"method": "pdacs"}"#)
        r = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): explain.method "pdacs" applies to vector inputs only (the input samples are (3, 6, 6): missing channels of activations are set to zero, where PDAcs equals PDA0)"#])
        job = try writeJob("d.json", output: "d.h5", explain: #"{"method": "nca"}"#)
        r = try NeonBatchProcess.run([job])
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): explain.method "nca" applies to k-means models only (the model is deep_kmeans)"#])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("a.evaluation.h5")))
    }

    /// explain.method on a deep model: per-value relevance as NeonCore computes it, channel sums,
    /// the same for 1 and 2 ranks (absolute mode of a deep_soft model).
    func testRunBaselinesOnDeepModels() throws {
        let n = 20, d = 108
        let (x, layers, mu) = try deepModel(kind: "deep_soft", rows: n)
        let psi = try PsiNetwork<Double>(layers: layers, input: .image(channels: 3, height: 6, width: 6))
        let model = DeepClusteringDecision(head: ClusterHead(clusters: 4, features: 36, centroids: mu, logits: .dot, mode: .absolute(theta: 0.3)),
                                           psi: psi)
        for method in [ExplanationMethod.sensitivity, .ig, .pda0, .random] {
            var outs: [[Double]] = []
            for p in [1, 2] {
                let job = try writeJob("\(method)\(p).json", output: "\(method)\(p).h5",
                                       explain: #"{"method": "\#(method.rawValue)", "mode": "absolute", "theta": 0.3, "steps": 5, "seed": 3}"#)
                let r = try NeonBatchProcess.run([job, "-q"], ranks: p)
                XCTAssertEqual(r.status, 0, r.stderr)
                let f = try StoredFile(path: fx.path("\(method)\(p).h5"))
                XCTAssertEqual(f.shape("relevance"), [n, 3, 6, 6])
                let rel = try f.doubles("relevance"), ch = try f.doubles("relevance_channels")
                for row in 0..<n { for c in 0..<3 { XCTAssertEqual(ch[row * 3 + c], rel[(row * d + c * 36)..<(row * d + (c + 1) * 36)].reduce(0, +), accuracy: 1e-9) } }
                outs.append(try rel + f.int64s("assignment").map(Double.init))
            }
            XCTAssertEqual(outs[1], outs[0], "\(method)")
            for row in [0, 13] {
                let z = Array(x[(row * d)..<((row + 1) * d)])
                var rng = EvaluationPlan.explainerStream(seed: 3, sample: row, repeat: 0, method: method)
                let expected = Explainer.relevance(method, x: z, cluster: model.assign(z), model: model,
                                                   settings: ExplainerSettings(beta: 0, steps: 5), rng: &rng)
                XCTAssertEqual(Array(outs[0][(row * d)..<((row + 1) * d)]), expected, "\(method) row \(row)")
            }
        }
    }

    /// soft k-means on vectors: tabular data, KDE imputation feature by feature, every method but NCA.
    func testSoftKMeansOnVectorsImputesByKDE() throws {
        let n = 40, d = 3
        let x = try fx.writeSamples(rows: n, shape: [d], seed: 64, offset: 0)
        let mu = [1.0, 0, 0, -1, 0.5, 0, 0, -1, 1]
        try fx.writeHeadModel(kind: "soft_kmeans", layers: [], centroids: mu, clusters: 3, features: d, stiffness: 2)
        var results: [[Double]] = []
        for p in [1, 2] {
            let job = try writeJob("s\(p).json", output: "s\(p).h5", evaluate: #"{"seed": 2, "reference_rows": 30}"#)
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let f = try StoredFile(path: fx.path("s\(p).evaluation.h5"))
            XCTAssertEqual(try f.strings(dataset: "methods"), ["neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs"])
            XCTAssertEqual(f.shape("insertion_curve"), [7, d])
            XCTAssertEqual(try f.stringAttribute("sigma_mode"), "loo")
            XCTAssertFalse(f.attributeNames().contains("feature_unit"))
            results.append(try f.doubles("auc") + [f.numberAttribute("sigma")!, f.numberAttribute("beta")!])
        }
        XCTAssertEqual(results[1], results[0])
        let f = try StoredFile(path: fx.path("s1.evaluation.h5"))
        let ref = try StoredFile(path: fx.path("s1.evaluation.h5")).numberAttribute("reference_rows")
        XCTAssertEqual(ref, 30)
        let index = EvaluationRunnerIndex.sample(count: n, wanted: 30, seed: 2, purpose: "reference")
        let reference = index.flatMap { x[($0 * d)..<(($0 + 1) * d)] }
        let model = DeepClusteringDecision(head: ClusterHead(clusters: 3, features: d, centroids: mu, logits: .distance(stiffness: 2)), psi: nil)
        let plan = EvaluationPlan(model: model, methods: ExplanationMethod.allCases.filter { $0 != .nca }, repeats: 1, seed: 2,
                                  settings: ExplainerSettings(beta: f.numberAttribute("beta")!,
                                                              density: KernelDensity(reference: reference, rows: 30, features: d,
                                                                                     sigma: f.numberAttribute("sigma")!)))
        let auc = try f.doubles("auc")
        for s in [0, 21, 39] {
            XCTAssertEqual(Array(auc[(s * 7)..<((s + 1) * 7)]), plan.evaluate(Array(x[(s * d)..<((s + 1) * d)]), sample: s).auc.flatMap { $0 })
        }
    }
}

/// EvaluationRunner.sampleRows, restated (the executable's types are not importable): all rows,
/// or `wanted` distinct rows drawn with the seed, sorted.
enum EvaluationRunnerIndex {
    static func sample(count: Int, wanted: Int, seed: UInt64, purpose: String) -> [Int] {
        guard wanted < count else { return Array(0..<count) }
        var rng = SampleStream.make(seed: seed, sample: -1, purpose: SampleStream.tag(purpose))
        var idx = Array(0..<count)
        for i in 0..<wanted { idx.swapAt(i, Int.random(in: i..<count, using: &rng)) }
        return idx[0..<wanted].sorted()
    }

}

extension DeepEvaluateTests {
    /// Resume applies to deep models too: an evaluation of channels stopped by SIGTERM and
    /// resumed on 3 ranks equals an uninterrupted run.
    func testDeepEvaluationStoppedBySigtermResumesToTheSameOutput() throws {
        _ = try deepModel(rows: 900)
        let evaluate = #"{"methods": ["neon", "x2", "pda0", "ig"], "block_samples": 10}"#
        let ref = try writeJob("ref.json", output: "ref.h5", evaluate: evaluate)
        let full = try NeonBatchProcess.run(["evaluate", ref, "-q"], ranks: 2, timeout: 300)
        XCTAssertEqual(full.status, 0, full.stderr)
        let job = try writeJob("job.json", output: "out.h5", evaluate: evaluate)
        let text = try String(contentsOfFile: job, encoding: .utf8).replacingOccurrences(of: #""overwrite": true"#, with: #""overwrite": false"#)
        try text.write(toFile: job, atomically: true, encoding: .utf8)
        let (r, sent) = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: 2, timeout: 300, job: job,
                                                 output: fx.path("out.evaluation.h5"),
                                                 progress: EvaluationOutput.blockDoneDataset, afterBlocks: 3) { pids in
            pids.forEach { kill($0, SIGTERM) }
        }
        XCTAssertTrue(sent, "the evaluation ended before it could be interrupted")
        XCTAssertEqual(r.status, 75, r.stderr)
        XCTAssertEqual(try StoredFile(path: fx.path("out.evaluation.h5")).stringAttribute("status"), "incomplete")
        let resumed = try NeonBatchProcess.run(["evaluate", job, "--resume", "-q"], ranks: 3, timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameEvaluation(fx.path("ref.evaluation.h5"), fx.path("out.evaluation.h5"))
    }
}
