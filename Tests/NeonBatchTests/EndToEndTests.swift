import Foundation
import NeonCore
import Storage
import XCTest

/// The whole pipeline under mpirun: identical results for 1, 2 and 3 ranks, agreement with the
/// layer-by-layer reference, and the output format.
final class EndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    struct Output {
        let relevance: [Double], assignment: [Int64], logit: [Double]
        let beta: Double?, status: String?, ranks: Double?
    }

    func readOutput(_ path: String) throws -> Output {
        let s = try StoredFile(path: path)
        return Output(relevance: try s.doubles("relevance"), assignment: try s.int64s("assignment"),
                      logit: try s.doubles("logit"), beta: s.numberAttribute("beta"),
                      status: try s.stringAttribute("status"), ranks: s.numberAttribute("ranks"))
    }

    func testOneTwoAndThreeRanksGiveIdenticalResults() throws {
        // N = 1001 is divisible by neither 2 nor 3; blocks of 300 rows split into a full and a partial tile.
        let (n, d, k) = (1001, 7, 6)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 7)
        try fx.writeInput(rows: n, features: d, values: data.x)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        var outs: [Output] = []
        for p in 1...3 {
            let job = try fx.writeJob("job\(p).json", output: "out\(p).h5")
            let r = try NeonBatchProcess.run([job, "--quiet"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "", "--quiet prints nothing")
            outs.append(try readOutput(fx.path("out\(p).h5")))
        }
        for (p, o) in outs.enumerated() {
            XCTAssertEqual(o.status, "complete")
            XCTAssertEqual(o.ranks, Double(p + 1))
            XCTAssertEqual(o.assignment.count, n)
            XCTAssertEqual(o.relevance.count, n * d)
        }
        for o in outs.dropFirst() {
            XCTAssertEqual(o.beta, outs[0].beta, "beta identical for every P")
            XCTAssertEqual(o.assignment, outs[0].assignment)
            XCTAssertEqual(o.logit, outs[0].logit)
            let scale = outs[0].relevance.map(abs).max()!
            XCTAssertLessThanOrEqual(zip(o.relevance, outs[0].relevance).map { abs($0 - $1) }.max()!, 1e-6 * scale)
        }
        // beta "auto" is 1 / mean f_c (Eq. 3) of the logits written
        let meanF = outs[0].logit.reduce(0, +) / Double(n)
        XCTAssertEqual(outs[0].beta!, 1 / meanF, accuracy: 1e-9 / meanF)

        // ... and the numbers are the paper's: compare with the layer-by-layer reference.
        let model = KMeansModel(clusters: k, features: d, centroids: data.centroids)
        let x32 = data.x.map { Double(Float($0)) }
        var maxRel = 0.0
        for r in 0..<n {
            let x = Array(x32[(r * d)..<((r + 1) * d)])
            let ref = ReferenceExplainer.explain(x, model: model, beta: outs[0].beta!)
            XCTAssertEqual(Int(outs[0].assignment[r]), ref.cluster, "row \(r)")
            XCTAssertEqual(outs[0].logit[r], ref.logit, accuracy: 1e-3 * max(1, abs(ref.logit)))
            let got = Array(outs[0].relevance[(r * d)..<((r + 1) * d)])
            let scale = max(ref.relevance.map(abs).max()!, 1e-3 * max(ref.logit, 1))
            maxRel = max(maxRel, zip(got, ref.relevance).map { abs($0 - $1) }.max()! / scale)
        }
        XCTAssertLessThan(maxRel, 5e-3, "float32 fast path vs float64 reference")
    }

    /// execution.cache_mb: the beta pass's scores kept for all blocks (default), for some blocks
    /// (1 MiB per rank), or none: the same output bits each time.
    func testKeptScoresGiveTheSameOutput() throws {
        let (n, d, k) = (1001, 8, 1000)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 5)
        try fx.writeInput(rows: n, features: d, values: data.x)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        var logs: [String] = []
        for (name, mb) in [("all", nil), ("first", 1), ("none", 0)] as [(String, Int?)] {
            let extra = mb.map { #", "execution": {"block_rows": 300, "cache_mb": \#($0)}"# } ?? ""
            var job = try fx.writeJob("\(name).json", output: "\(name).h5")
            if !extra.isEmpty {
                let text = try String(contentsOfFile: job, encoding: .utf8)
                    .replacingOccurrences(of: #""execution": {"block_rows": 300}"#, with: String(extra.dropFirst(2)))
                try text.write(toFile: job, atomically: true, encoding: .utf8)
                job = fx.path("\(name).json")
            }
            let r = try NeonBatchProcess.run([job] + (name == "all" ? ["--verbose"] : []), ranks: 2)
            XCTAssertEqual(r.status, 0, r.stderr)
            logs.append(r.stderr)
        }
        XCTAssertTrue(logs[0].contains("keeping the beta pass's scores of 1001 of 1001 rows"), logs[0])
        // without --verbose, said only when not all rows fit (a larger cache_mb would save work)
        let quietAll = try NeonBatchProcess.run([try fx.writeJob("quiet.json", output: "quiet.h5")], ranks: 2)
        XCTAssertEqual(quietAll.status, 0, quietAll.stderr)
        XCTAssertFalse(quietAll.stderr.contains("keeping"), quietAll.stderr)
        // 1 MiB per rank holds 262 rows of 1000 float32 scores: whole blocks of each rank's rows
        // (tiles of 256 rows: 256 + 44 rows of the first block of 300) while they fit.
        let kept = logs[1].components(separatedBy: "scores of ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
        XCTAssertNotNil(kept, logs[1])
        XCTAssertTrue((300..<1001).contains(kept ?? 0), logs[1])
        XCTAssertFalse(logs[2].contains("keeping"), logs[2])
        let differ: Set = ["created", "elapsed_seconds", "job", "job_file"]
        try assertSameOutput(fx.path("all.h5"), fx.path("none.h5"), ignoring: differ)
        try assertSameOutput(fx.path("first.h5"), fx.path("none.h5"), ignoring: differ)
    }

    func testFewerRowsThanRanks() throws {
        let data = Fixture.blobs(rows: 2, features: 3, clusters: 3, seed: 8)
        try fx.writeInput(rows: 2, features: 3, values: data.x)
        try fx.writeModel(clusters: 3, features: 3, centroids: data.centroids)
        let job1 = try fx.writeJob("j1.json", output: "o1.h5")
        let job3 = try fx.writeJob("j3.json", output: "o3.h5")
        XCTAssertEqual(try NeonBatchProcess.run([job1, "-q"], ranks: 1).status, 0)
        let r = try NeonBatchProcess.run([job3, "-q"], ranks: 3)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try readOutput(fx.path("o1.h5")), b = try readOutput(fx.path("o3.h5"))
        XCTAssertEqual(b.status, "complete")
        XCTAssertEqual(a.relevance, b.relevance)
        XCTAssertEqual(a.assignment, b.assignment)
    }

    func testFloat64InputIsExplainedInDoublePrecision() throws {
        let (n, d, k) = (500, 5, 4)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 9)
        try fx.writeInput(rows: n, features: d, values: data.x, float32: false)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        let job = try fx.writeJob(beta: "0.05", blockRows: 128)
        let r = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("explained 500 samples x 5 features (kmeans, K = 4) on 2 ranks"), r.stdout)
        XCTAssertTrue(r.stdout.contains("beta:         0.05 (fixed)"), r.stdout)
        let o = try readOutput(fx.path("out.h5"))
        XCTAssertEqual(o.beta, 0.05)
        let model = KMeansModel(clusters: k, features: d, centroids: data.centroids)
        for row in 0..<n {
            let x = Array(data.x[(row * d)..<((row + 1) * d)])
            let ref = ReferenceExplainer.explain(x, model: model, beta: 0.05)
            XCTAssertEqual(Int(o.assignment[row]), ref.cluster)
            let got = Array(o.relevance[(row * d)..<((row + 1) * d)])
            let scale = max(ref.relevance.map(abs).max()!, 1e-12)
            XCTAssertLessThan(zip(got, ref.relevance).map { abs($0 - $1) }.max()! / scale, 1e-8, "row \(row)")
            // conservation (Sec. II-B): sum_i R_i = f_c
            XCTAssertEqual(got.reduce(0, +), o.logit[row], accuracy: 1e-8 * max(1, abs(o.logit[row])))
        }
    }

    func testProvenanceAttributes() throws {
        let data = Fixture.blobs(rows: 50, features: 3, clusters: 3, seed: 10)
        try fx.writeInput(rows: 50, features: 3, values: data.x)
        try fx.writeModel(clusters: 3, features: 3, centroids: data.centroids)
        let job = try fx.writeJob()
        XCTAssertEqual(try NeonBatchProcess.run(["run", job, "-q"], ranks: 2).status, 0)
        let s = try StoredFile(path: fx.path("out.h5"))
        XCTAssertEqual(try s.stringAttribute("job"), try String(contentsOfFile: job, encoding: .utf8))
        XCTAssertEqual(try s.stringAttribute("model_kind"), "kmeans")
        XCTAssertEqual(try s.stringAttribute("software_version"), "0.1.0")
        XCTAssertEqual(try s.stringAttribute("beta_mode"), "auto")
        XCTAssertEqual(try s.stringAttribute("input_file"), fx.path("data.h5"))
        XCTAssertEqual(s.numberAttribute("ranks"), 2)
        XCTAssertEqual(s.numberAttribute("clusters"), 3)
    }

    func testValidateAndHelp() throws {
        let data = Fixture.blobs(rows: 20, features: 3, clusters: 3, seed: 11)
        try fx.writeInput(rows: 20, features: 3, values: data.x)
        try fx.writeModel(clusters: 3, features: 3, centroids: data.centroids)
        let job = try fx.writeJob()
        let v = try NeonBatchProcess.run(["validate", job])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.hasPrefix("\(job): valid"), v.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.h5")), "validate writes nothing")
        let bad = try fx.writeJob("bad.json", beta: "0")
        let b = try NeonBatchProcess.run(["validate", bad])
        XCTAssertEqual(b.status, 1)
        XCTAssertEqual(b.errorLines, ["neon-batch: error: \(bad): explain.beta must be \"auto\" or a positive finite number"])
        let h = try NeonBatchProcess.run(["--help"])
        XCTAssertEqual(h.status, 0)
        for word in ["run", "validate", "demo", "JOB.json"] { XCTAssertTrue(h.stdout.contains(word), word) }
    }

    func testDemoCommandWritesARunnableJob() throws {
        let demo = fx.path("demo")
        let w = try NeonBatchProcess.run(["demo", demo, "--rows", "700", "--features", "4", "--clusters", "3"])
        XCTAssertEqual(w.status, 0, w.stderr)
        let r = try NeonBatchProcess.run([demo + "/job.json"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("output:       \(demo)/out.h5 (status complete)"), r.stdout)
        XCTAssertEqual(try StoredFile(path: demo + "/out.h5").stringAttribute("status"), "complete")
        // existing demo files are kept unless --force
        let before = try Data(contentsOf: URL(fileURLWithPath: demo + "/data.h5"))
        let again = try NeonBatchProcess.run(["demo", demo, "--rows", "50"])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.errorLines, ["neon-batch: error: \(demo): data.h5, model.h5, job.json already exist; use --force to overwrite, or another folder"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: demo + "/data.h5")), before)
        XCTAssertEqual(try NeonBatchProcess.run(["demo", demo, "--rows", "50", "--force"]).status, 0)
        XCTAssertEqual(try StoredFile(path: demo + "/data.h5").shape("features"), [50, 32])
        let file = demo + "/job.json"
        let onFile = try NeonBatchProcess.run(["demo", file])
        XCTAssertEqual(onFile.status, 1)
        XCTAssertEqual(onFile.errorLines, ["neon-batch: error: \(file): is a file, not a folder; give demo a folder (new or existing) to write data.h5, model.h5 and job.json into"])
    }
}
