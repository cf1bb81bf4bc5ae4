import Foundation
import FoundationXML
import NeonCore
import Storage
import XCTest

/// `neon-batch evaluate` (Algorithm 1) and explain.method through the whole pipeline: the same
/// numbers as NeonCore computes in-process, identical for 1, 2, 3 ranks, reports that agree with
/// the HDF5 output, exact messages for bad jobs.
final class EvaluateTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    func writeJob(_ name: String, output: String, explain: String = #"{"beta": "auto"}"#, evaluate: String,
                  model: String = "model.h5", input: String = "data.h5", overwrite: Bool = false,
                  rows: String? = nil) throws -> String {
        let range = rows.map { #", "rows": "# + $0 } ?? ""
        let text = """
            {"input": {"file": "\(input)", "dataset": "features"\(range)}, "model": {"file": "\(model)"},
             "output": {"file": "\(output)", "overwrite": \(overwrite)}, "explain": \(explain),
             "evaluate": \(evaluate), "execution": {"block_rows": 16}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    func kmeansData(rows n: Int = 48, features d: Int = 4, clusters K: Int = 3) throws -> (x: [Double], model: KMeansModel) {
        let (x, c) = Fixture.blobs(rows: n, features: d, clusters: K, seed: 41)
        try fx.writeInput(rows: n, features: d, values: x, float32: false)
        try fx.writeModel(clusters: K, features: d, centroids: c)
        return (x, KMeansModel(clusters: K, features: d, centroids: c))
    }

    func testEvaluationMatchesNeonCoreAndIsTheSameForOneTwoThreeRanks() throws {
        let (n, d) = (48, 4)
        let (x, km) = try kmeansData(rows: n, features: d)
        var results: [[Double]] = []
        for p in 1...3 {
            let job = try writeJob("e\(p).json", output: "o\(p).h5", evaluate: #"{"repeats": 2, "seed": 17}"#)
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "")
            let f = try StoredFile(path: fx.path("o\(p).evaluation.h5"))
            XCTAssertEqual(try f.stringAttribute("status"), "complete")
            XCTAssertEqual(f.numberAttribute("ranks"), Double(p))
            XCTAssertEqual(try f.strings(dataset: "methods"), ExplanationMethod.allCases.map(\.rawValue))
            XCTAssertEqual(f.shape("auc"), [n, 8, 2])
            results.append(try f.doubles("auc") + f.doubles("insertion_curve") + f.int64s("assignment").map(Double.init)
                           + [f.numberAttribute("sigma")!, f.numberAttribute("beta")!])
        }
        XCTAssertEqual(results[1], results[0])
        XCTAssertEqual(results[2], results[0])

        // The same numbers in-process: sigma (Eq. 42), beta (Eq. 3), Algorithm 1 per sample.
        let decision = KMeansDecision(model: km)
        let sigma = BandwidthFixedPoint(reference: x, rows: n, features: d).solve(tolerance: 1e-6, maxIterations: 300).sigma
        let rows = (0..<n).map { Array(x[($0 * d)..<(($0 + 1) * d)]) }
        var assignment = [Int64](repeating: 0, count: n), logit = [Double](repeating: 0, count: n)
        KMeansFastPath<Double>(model: km).logits(x, rows: n, assignment: &assignment, logit: &logit)
        let beta = MinTakesMost.heuristicStiffness(logitSum: logit.reduce(0, +), count: n)!
        let f = try StoredFile(path: fx.path("o1.evaluation.h5"))
        XCTAssertEqual(f.numberAttribute("sigma"), sigma)
        XCTAssertEqual(f.numberAttribute("beta"), beta)
        let plan = EvaluationPlan(model: decision, methods: ExplanationMethod.allCases, repeats: 2, seed: 17,
                                  settings: ExplainerSettings(beta: f.numberAttribute("beta")!,
                                                              density: KernelDensity(reference: x, rows: n, features: d, sigma: sigma)))
        let auc = try f.doubles("auc")
        for s in [0, 13, 47] {
            let r = plan.evaluate(rows[s], sample: s)
            XCTAssertEqual(Array(auc[(s * 16)..<((s + 1) * 16)]), r.auc.flatMap { $0 }, "sample \(s)")
        }
    }

    /// evaluate.samples (and input.rows): a seeded subset of rows gets exactly the AUCs those rows
    /// get in a run over all rows (streams keyed by the input row; beta "auto" over the whole
    /// input, the same reference set and sigma).
    func testSampleSubsetHasTheSameAUCsAsTheFullRun() throws {
        _ = try kmeansData()
        let all = try writeJob("all.json", output: "all.h5", evaluate: #"{"seed": 5, "repeats": 2}"#)
        XCTAssertEqual(try NeonBatchProcess.run(["evaluate", all, "-q"]).status, 0)
        let full = try StoredFile(path: fx.path("all.evaluation.h5"))
        XCTAssertEqual(try full.int64s("sample_index"), (0..<48).map(Int64.init))
        let fullAUC = try full.doubles("auc")
        var subsets: [[Double]] = []
        for p in [1, 3] {
            let job = try writeJob("sub\(p).json", output: "sub\(p).h5",
                                   evaluate: #"{"seed": 5, "repeats": 2, "samples": 11}"#, rows: "[10, 40]")
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let f = try StoredFile(path: fx.path("sub\(p).evaluation.h5"))
            let index = try f.int64s("sample_index").map(Int.init)
            XCTAssertEqual(index.count, 11)
            XCTAssertEqual(index, Array(Set(index)).sorted())
            XCTAssertTrue(index.allSatisfy { (10..<40).contains($0) })
            XCTAssertEqual(f.numberAttribute("samples"), 11)
            let auc = try f.doubles("auc")
            for (k, row) in index.enumerated() {
                XCTAssertEqual(Array(auc[(k * 16)..<((k + 1) * 16)]), Array(fullAUC[(row * 16)..<((row + 1) * 16)]), "row \(row)")
            }
            subsets.append(auc)
        }
        XCTAssertEqual(subsets[1], subsets[0])
    }

    func testReportsAgreeWithTheOutput() throws {
        _ = try kmeansData()
        let job = try writeJob("e.json", output: "o.h5", evaluate: #"{"methods": ["random", "neon", "x2"], "repeats": 3}"#)
        let r = try NeonBatchProcess.run(["evaluate", job])
        XCTAssertEqual(r.status, 0, r.stderr)
        let f = try StoredFile(path: fx.path("o.evaluation.h5"))
        let perSample = try f.doubles("auc_mean"), mean = try f.doubles("summary/mean"), se = try f.doubles("summary/standard_error")
        XCTAssertEqual(try f.strings(dataset: "methods"), ["random", "neon", "x2"])
        for m in 0..<3 {
            let v = (0..<48).map { perSample[$0 * 3 + m] }
            let mu = v.reduce(0, +) / 48
            XCTAssertEqual(mean[m], mu, accuracy: 1e-9)
            XCTAssertEqual(se[m], (v.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / 47).squareRoot() / 48.0.squareRoot(), accuracy: 1e-9)
            XCTAssertTrue(v.allSatisfy { $0 >= 25 && $0 <= 100 }, "AUC in [100/d, 100]")
        }
        let csv = try String(contentsOfFile: fx.path("o.evaluation.summary.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "method,mean_auc,standard_error,samples,repeats")
        for (m, name) in ["random", "neon", "x2"].enumerated() {
            let cells = csv[m + 1].split(separator: ",").map(String.init)
            XCTAssertEqual(cells[0], name)
            XCTAssertEqual(Double(cells[1])!, mean[m], accuracy: 1e-6)
            XCTAssertEqual(Double(cells[2])!, se[m], accuracy: 1e-6)
            XCTAssertEqual(cells[3...], ["48", "3"])
        }
        let md = try String(contentsOfFile: fx.path("o.evaluation.summary.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| \(fx.dir.lastPathComponent)/data.h5:features | 48 | 4 | 3 | kmeans | "), md)
        XCTAssertTrue(r.stdout.contains(md), "the table is printed")
        let svg = try Data(contentsOf: URL(fileURLWithPath: fx.path("o.evaluation.curves.svg")))
        XCTAssertTrue(SVGText(svg).wellFormed)
        XCTAssertEqual(String(decoding: svg, as: UTF8.self).components(separatedBy: "<polyline").count - 1, 3)
        // The mean insertion curve ends at 1: x = z is assigned to c.
        let curve = try f.doubles("insertion_curve")
        XCTAssertEqual([curve[3], curve[7], curve[11]], [1, 1, 1])
    }

    func writeKernelModel(features d: Int, clusters K: Int) throws -> KernelKMeansModel {
        var rng = SplitMix64(seed: 8)
        var ids: [Int64] = [], u: [Double] = []
        for k in 0..<K { for _ in 0..<(2 + k) { ids.append(Int64(k)); u += (0..<d).map { _ in Double(k) * 3 + rng.normal() } } }
        let f = try H5WriteFile(creating: fx.path("kernel.h5"), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", 0.4)
        try f.write("support_vectors", element: .float64, rows: ids.count, columns: d, values: u)
        try f.write("support_cluster", element: .int64, dims: [ids.count], values: ids)
        try f.close()
        return try KernelKMeansModel(features: d, supportVectors: u, supportCluster: ids.map { Int($0) }, gamma: 0.4)
    }

    func testKernelModelEvaluationWithReferenceSampleAndFixedSigma() throws {
        _ = try writeKernelModel(features: 3, clusters: 3)
        var rng = SplitMix64(seed: 9)
        try fx.writeInput(rows: 40, features: 3, values: (0..<120).map { _ in 3 * rng.uniform() }, float32: true)
        var outs: [[Double]] = []
        for p in [1, 2] {
            let job = try writeJob("k\(p).json", output: "k\(p).h5", evaluate: #"{"reference_rows": 25, "seed": 3}"#, model: "kernel.h5")
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let f = try StoredFile(path: fx.path("k\(p).evaluation.h5"))
            XCTAssertEqual(try f.strings(dataset: "methods"), ["neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs"])
            XCTAssertEqual(f.numberAttribute("reference_rows"), 25)
            outs.append(try f.doubles("auc") + [f.numberAttribute("sigma")!])
        }
        XCTAssertEqual(outs[1], outs[0])
        let job = try writeJob("s.json", output: "s.h5", evaluate: #"{"sigma": 0.5, "methods": ["pdacs"]}"#, model: "kernel.h5")
        XCTAssertEqual(try NeonBatchProcess.run(["evaluate", job, "-q"]).status, 0)
        let f = try StoredFile(path: fx.path("s.evaluation.h5"))
        XCTAssertEqual(f.numberAttribute("sigma"), 0.5)
        XCTAssertEqual(try f.stringAttribute("sigma_mode"), "fixed")
        XCTAssertEqual(try f.stringAttribute("beta_mode"), "unused")
    }

    func testBadEvaluationJobs() throws {
        _ = try kmeansData()
        _ = try writeKernelModel(features: 4, clusters: 2)
        var job = try writeJob("a.json", output: "o.h5", evaluate: #"{"methods": ["nca"]}"#, model: "kernel.h5")
        var r = try NeonBatchProcess.run(["evaluate", job], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): evaluate.methods: "nca" applies to k-means models only (the model is kernel_kmeans)"#])

        job = try writeJob("b.json", output: "o.h5", evaluate: #"{"methods": ["neon", "shap"]}"#)
        r = try NeonBatchProcess.run(["evaluate", job], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): evaluate.methods[1] must be one of "neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca""#])

        try "x".write(toFile: fx.path("o.evaluation.summary.md"), atomically: true, encoding: .utf8)
        job = try writeJob("c.json", output: "o.h5", evaluate: "{}")
        r = try NeonBatchProcess.run(["evaluate", job])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("o.evaluation.summary.md")): output file exists; set output.overwrite to true to replace it"])
        job = try writeJob("c2.json", output: "o.h5", evaluate: #"{"file": "data.h5"}"#)
        r = try NeonBatchProcess.run(["evaluate", job])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("data.h5")): output file is the input file (output.file)"])

        // Every row twice: the leave-one-out bandwidth collapses to 0 (each row's twin explains it).
        let (x, _) = Fixture.blobs(rows: 10, features: 4, clusters: 3, seed: 41)
        try fx.writeInput("twice.h5", rows: 20, features: 4, values: x + x, float32: false)
        job = try writeJob("d.json", output: "d.h5", evaluate: #"{"methods": ["x2"]}"#, input: "twice.h5")
        r = try NeonBatchProcess.run(["evaluate", job], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines.count, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("twice.h5")): dataset 'features': the leave-one-out KDE bandwidth (Eq. 42) collapses to 0 (the reference set repeats rows); set evaluate.sigma to a number"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("d.evaluation.h5")))

        // Non-finite input.
        try fx.writeInput("nan.h5", rows: 2, features: 4, values: [1, 2, 3, 4, 5, .nan, 7, 8], float32: true)
        job = try writeJob("n.json", output: "n.h5", evaluate: "{}", input: "nan.h5")
        r = try NeonBatchProcess.run(["evaluate", job], ranks: 3)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("nan.h5")): dataset 'features' row 1 holds NaN or Inf"])
    }

    /// explain.method: every baseline through the run pipeline equals NeonCore's explainer on the
    /// same row and stream, for 1 and 3 ranks; NCA is refused for kernel k-means.
    func testRunWithEveryMethod() throws {
        let (n, d) = (40, 4)
        let (x, km) = try kmeansData(rows: n, features: d)
        let decision = KMeansDecision(model: km)
        let kde = KernelDensity(reference: x, rows: n, features: d, sigma: 0.8)
        for method in ExplanationMethod.allCases where method != .neon {
            var outs: [[Double]] = []
            for p in [1, 3] {
                let job = try writeJob("\(method)\(p).json", output: "\(method)\(p).h5",
                                       explain: #"{"method": "\#(method.rawValue)", "seed": 4, "steps": 7, "samples": 3}"#,
                                       evaluate: #"{"sigma": 0.8}"#)
                let r = try NeonBatchProcess.run([job, "-q"], ranks: p)
                XCTAssertEqual(r.status, 0, r.stderr)
                let f = try StoredFile(path: fx.path("\(method)\(p).h5"))
                XCTAssertEqual(try f.stringAttribute("method"), method.rawValue)
                XCTAssertEqual(try f.stringAttribute("resume_key:explain.method"), method.rawValue)
                outs.append(try f.doubles("relevance"))
            }
            XCTAssertEqual(outs[1], outs[0], "\(method)")
            for row in [0, 17, 39] {
                let z = Array(x[(row * d)..<((row + 1) * d)])
                var rng = EvaluationPlan.explainerStream(seed: 4, sample: row, repeat: 0, method: method)
                let expected = Explainer.relevance(method, x: z, cluster: km.assign(z), model: decision,
                                                   settings: ExplainerSettings(beta: 0, steps: 7, samples: 3, density: kde), rng: &rng)
                XCTAssertEqual(Array(outs[0][(row * d)..<((row + 1) * d)]), expected, "\(method) row \(row)")
            }
        }
        _ = try writeKernelModel(features: d, clusters: 2)
        let job = try writeJob("nca.json", output: "nca.h5", explain: #"{"method": "nca"}"#, evaluate: "{}", model: "kernel.h5")
        let r = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(r.errorLines, [#"neon-batch: error: \#(job): explain.method "nca" applies to k-means models only (the model is kernel_kmeans)"#])
    }

    /// A row range (input.rows) gets the same random and pdacs relevance as those rows of a run
    /// over all rows: streams and the KDE reference set do not depend on the range.
    func testRowRangeGetsTheRowsOfTheFullRun() throws {
        _ = try kmeansData(rows: 40, features: 4)
        for method in ["random", "pdacs"] {
            let full = try writeJob("\(method)-all.json", output: "\(method)-all.h5", explain: #"{"method": "\#(method)", "seed": 2}"#,
                                    evaluate: #"{"reference_rows": 30}"#)
            let part = try writeJob("\(method)-part.json", output: "\(method)-part.h5", explain: #"{"method": "\#(method)", "seed": 2}"#,
                                    evaluate: #"{"reference_rows": 30}"#, rows: "[16, 37]")
            XCTAssertEqual(try NeonBatchProcess.run([full, "-q"]).status, 0)
            let r = try NeonBatchProcess.run([part, "-q"], ranks: 2)
            XCTAssertEqual(r.status, 0, r.stderr)
            let a = try StoredFile(path: fx.path("\(method)-all.h5")).doubles("relevance")
            let b = try StoredFile(path: fx.path("\(method)-part.h5")).doubles("relevance")
            XCTAssertEqual(b, Array(a[(16 * 4)..<(37 * 4)]), method)
        }
    }

    /// evaluate applies the model's standardisation (Appendix H) as run does: a standardised model
    /// on raw rows gets the AUCs, sigma and beta of the plain model on standardised rows.
    func testEvaluateAppliesTheModelStandardization() throws {
        let n = 40, d = 4
        let (raw, centroids) = Fixture.blobs(rows: n, features: d, clusters: 3, seed: 65)
        let mean = [20.0, 19, 21, 20.5], std = [4.0, 3, 5, 2]
        let scaled = (0..<(n * d)).map { (raw[$0] - mean[$0 % d]) * (1 / std[$0 % d]) }
        let muScaled = (0..<(3 * d)).map { (centroids[$0] - mean[$0 % d]) / std[$0 % d] }
        try fx.writeInput("raw.h5", rows: n, features: d, values: raw, float32: false)
        try fx.writeInput("scaled.h5", rows: n, features: d, values: scaled, float32: false)
        try fx.writeModel("plain.h5", clusters: 3, features: d, centroids: muScaled)
        let f = try H5WriteFile(creating: fx.path("std.h5"), communicator: nil)
        try f.setAttribute("kind", "kmeans")
        try f.write("centroids", element: .float64, rows: 3, columns: d, values: muScaled)
        try f.write("standardize_mean", element: .float64, dims: [d], values: mean)
        try f.write("standardize_std", element: .float64, dims: [d], values: std)
        try f.close()
        var outs: [[Double]] = []
        for (name, model, input) in [("a", "std.h5", "raw.h5"), ("b", "plain.h5", "scaled.h5")] {
            let job = try writeJob("\(name).json", output: "\(name).h5", evaluate: #"{"repeats": 2}"#, model: model, input: input)
            let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: 2)
            XCTAssertEqual(r.status, 0, r.stderr)
            let out = try StoredFile(path: fx.path("\(name).evaluation.h5"))
            XCTAssertEqual(out.numberAttribute("standardized"), name == "a" ? 1 : nil)
            outs.append(try out.doubles("auc") + out.doubles("insertion_curve") + [out.numberAttribute("sigma")!, out.numberAttribute("beta")!])
        }
        XCTAssertEqual(outs[0], outs[1])
    }

    /// The method list in the job parser is NeonCore's.
    func testJobParserKnowsEveryMethod() {
        XCTAssertEqual(JobSpec.methodNames, ExplanationMethod.allCases.map(\.rawValue))
    }
}

extension SplitMix64 {
    mutating func uniform() -> Double { Double.random(in: 0..<1, using: &self) }
}
