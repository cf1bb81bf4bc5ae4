import Foundation
import NeonCore
import NeonTestSupport
import Storage
import XCTest

/// Softmax heads (issue 21) under mpirun: `fit` with fit.algorithm "softmax" gives the same model
/// bit for bit on 1, 2 and 3 ranks and recovers planted blobs; the model file is explained by
/// `run` (assignment = argmax z, relative mode conserves f_c) and scored by `evaluate`; IIC takes
/// its second views from input.pairs; bad settings get one-line messages.
final class SoftmaxHeadEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// Well-separated blobs (labels planted) and, for IIC, a second view of every row.
    func writeBlobs(rows n: Int, features d: Int, clusters K: Int, pairs: Bool = false) throws -> [Int] {
        var rng = SplitMix64(seed: 77)
        let centres = (0..<(K * d)).map { _ in 6 * rng.normal() }
        var x = [Double](), view = [Double](), labels = [Int]()
        for _ in 0..<n {
            let k = Int.random(in: 0..<K, using: &rng)
            labels.append(k)
            for i in 0..<d {
                x.append(centres[k * d + i] + rng.normal())
                view.append(centres[k * d + i] + rng.normal())
            }
        }
        try HDF5Fixtures.write(fx.path("data.h5")) { f in
            try f.write("features", element: .float32, rows: n, columns: d, values: x.map { Float($0) })
            if pairs { try f.write("views", element: .float32, rows: n, columns: d, values: view.map { Float($0) }) }
            try f.write("short", element: .float32, rows: n - 1, columns: d, values: Array(x.prefix((n - 1) * d)).map { Float($0) })
        }
        return labels
    }

    func writeFit(_ name: String, output: String, fit: String, input: String = "") throws -> String {
        let text = """
            {"input": {"file": "data.h5", "dataset": "features"\(input)},
             "output": {"file": "\(output)"}, "fit": {\(fit)}, "execution": {"block_rows": 300}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    /// argmax_k z_k = w_k . x + b_k of the stored head for every row.
    func argmax(_ model: StoredFile, _ x: [Float], features d: Int) throws -> [Int] {
        let w = try model.doubles("weight"), b = try model.doubles("bias"), K = b.count
        return stride(from: 0, to: x.count, by: d).map { r in
            let z = (0..<K).map { k in (0..<d).reduce(b[k]) { $0 + w[k * d + $1] * Double(x[r + $1]) } }
            return z.indices.max { z[$0] < z[$1] || (z[$0] == z[$1] && $0 > $1) }!
        }
    }

    func testSameModelOnOneTwoThreeRanksThenRunAndEvaluate() throws {
        let (n, d, K) = (1500, 8, 4)
        let labels = try writeBlobs(rows: n, features: d, clusters: K)
        var weights: [[Double]] = []
        for p in 1...3 {
            let job = try writeFit("fit\(p).json", output: "head\(p).h5",
                                   fit: #""algorithm": "softmax", "clusters": 4, "seed": 3, "max_iter": 60"#)
            let r = try NeonBatchProcess.run(["fit", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let m = try StoredFile(path: fx.path("head\(p).h5"))
            XCTAssertEqual(try m.stringAttribute("kind"), "softmax_head")
            XCTAssertEqual(try m.stringAttribute("loss"), "mutual_information")
            XCTAssertEqual(m.shape("weight"), [K, d])
            weights.append(try m.doubles("weight") + m.doubles("bias"))
        }
        XCTAssertEqual(weights[1], weights[0], "2 ranks give the 1-rank model bit for bit")
        XCTAssertEqual(weights[2], weights[0], "3 ranks give the 1-rank model bit for bit")

        let x = try StoredFile(path: fx.path("data.h5")).doubles("features").map { Float($0) }
        let model = try StoredFile(path: fx.path("head1.h5"))
        let found = try argmax(model, x, features: d)
        XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(found, labels), 0.95)

        // run: the head's cluster is argmax z, f_c > 0, and relative mode conserves (Prop. 6).
        try fx.writeJob(model: "head1.h5", blockRows: 400)
        let run = try NeonBatchProcess.run([fx.path("job.json"), "-q"], ranks: 2)
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = try StoredFile(path: fx.path("out.h5"))
        XCTAssertEqual(try out.stringAttribute("model_kind"), "softmax_head")
        XCTAssertEqual(try out.int64s("assignment").map { Int($0) }, found)
        let relevance = try out.doubles("relevance"), logit = try out.doubles("logit")
        for r in 0..<n {
            XCTAssertGreaterThan(logit[r], 0)
            let sum = relevance[(r * d)..<((r + 1) * d)].reduce(0, +)
            XCTAssertEqual(sum, logit[r], accuracy: 1e-3 * max(1, abs(logit[r])), "row \(r)")
        }
        XCTAssertTrue((try out.stringAttribute("rules") ?? "").contains("midpoint rule with a bias"))
        let inspect = try NeonBatchProcess.run(["inspect", fx.path("out.h5")])
        XCTAssertTrue(inspect.stdout.contains("softmax head in relative mode: min-take-most and the midpoint rule conserve"),
                      inspect.stdout)

        // evaluate: Algorithm 1 on the head (NCA needs centroids: not among the methods).
        let evaluateJob = """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "head1.h5"},
             "output": {"file": "out.h5"}, "evaluate": {"samples": 40, "reference_rows": 300, "file": "eval.h5"}}
            """
        try evaluateJob.write(toFile: fx.path("eval.json"), atomically: true, encoding: .utf8)
        let ev = try NeonBatchProcess.run(["evaluate", fx.path("eval.json"), "-q"], ranks: 2, timeout: 300)
        XCTAssertEqual(ev.status, 0, ev.stderr)
        let e = try StoredFile(path: fx.path("eval.h5"))
        XCTAssertEqual(try e.stringAttribute("status"), "complete")
        XCTAssertEqual(try e.stringAttribute("model_kind"), "softmax_head")
    }

    func testIICFromPairedViews() throws {
        let labels = try writeBlobs(rows: 1200, features: 6, clusters: 3, pairs: true)
        let job = try writeFit("iic.json", output: "iic.h5", fit: #""algorithm": "softmax", "clusters": 3, "loss": "iic", "seed": 1"#,
                               input: #", "pairs": "views""#)
        let r = try NeonBatchProcess.run(["fit", job, "-q"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try StoredFile(path: fx.path("iic.h5"))
        XCTAssertEqual(try m.stringAttribute("loss"), "iic")
        XCTAssertEqual(try m.stringAttribute("pairs_dataset"), "views")
        let x = try StoredFile(path: fx.path("data.h5")).doubles("features").map { Float($0) }
        XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(try argmax(m, x, features: 6), labels), 0.9)
    }

    func testBadSoftmaxJobsGetOneLine() throws {
        _ = try writeBlobs(rows: 300, features: 4, clusters: 2)
        let data = fx.path("data.h5")
        let short = try writeFit("short.json", output: "h.h5", fit: #""algorithm": "softmax", "clusters": 2, "loss": "iic""#,
                                 input: #", "pairs": "short""#)
        var r = try NeonBatchProcess.run(["fit", short], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines,
                       ["neon-batch: error: \(data): dataset 'short' (input.pairs) has 299 x 4 float32 values; the second views must have the shape and type of dataset 'features', 300 x 4 float32"])
        let elbow = try writeFit("elbow.json", output: "h.h5", fit: #""algorithm": "softmax", "clusters": 2"#)
        r = try NeonBatchProcess.run(["elbow", elbow, "--clusters", "2-3"], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines,
                       ["neon-batch: error: \(elbow): the elbow helper needs fit.algorithm \"kmeans\""])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("h.h5")))
    }
}
