import Foundation
import NeonCore
import Storage
import XCTest

/// `neon-batch fit` and `elbow` under mpirun: identical models for 1, 2 and 3 ranks, planted
/// blobs recovered, fit -> explain round trips (with and without standardisation), bad fit jobs.
final class FitEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// Well-separated blobs with their planted labels (row order random).
    func blobs(rows: Int, features d: Int, clusters K: Int, seed: UInt64) -> (x: [Double], labels: [Int]) {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(K * d)).map { _ in 10 * rng.normal() + 50 }
        var x = [Double](), labels = [Int]()
        for _ in 0..<rows {
            let k = Int.random(in: 0..<K, using: &rng)
            labels.append(k)
            for i in 0..<d { x.append(centres[k * d + i] + Double(i + 1) * 0.5 * rng.normal()) }
        }
        return (x, labels)
    }

    func writeFitJob(_ name: String, output: String, fit: String, overwrite: Bool = false, blockRows: Int = 500,
                     input: String = "data.h5") throws -> String {
        let text = """
            {"input": {"file": "\(input)", "dataset": "features"},
             "output": {"file": "\(output)", "overwrite": \(overwrite)},
             "fit": {\(fit)},
             "execution": {"block_rows": \(blockRows)}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    func rows(_ x: [Double], _ d: Int) -> [[Double]] { stride(from: 0, to: x.count, by: d).map { Array(x[$0..<($0 + d)]) } }

    func testKMeansSameModelForOneTwoThreeRanksAndRecoversBlobs() throws {
        let (n, d, K) = (1800, 6, 5)
        let data = blobs(rows: n, features: d, clusters: K, seed: 31)
        try fx.writeInput(rows: n, features: d, values: data.x)
        var models: [[Double]] = []
        for p in 1...3 {
            let job = try writeFitJob("fit\(p).json", output: "m\(p).h5",
                                      fit: #""algorithm": "kmeans", "clusters": 5, "n_init": 3, "seed": 9, "init_sample": 700"#)
            let r = try NeonBatchProcess.run(["fit", job, "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout + r.stderr, "", "--quiet prints nothing")
            let s = try StoredFile(path: fx.path("m\(p).h5"))
            XCTAssertEqual(try s.stringAttribute("kind"), "kmeans")
            XCTAssertEqual(s.shape("centroids"), [K, d])
            models.append(try s.doubles("centroids"))
        }
        XCTAssertLessThan(zip(models[1], models[0]).map { abs($0 - $1) }.max()!, 1e-6)
        XCTAssertLessThan(zip(models[2], models[0]).map { abs($0 - $1) }.max()!, 1e-6)
        let model = KMeansModel(clusters: K, features: d, centroids: models[2])
        let found = rows(data.x, d).map { model.assign($0) }
        XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(found, data.labels), 0.99)
    }

    /// Hamerly's bounds and plain Lloyd under mpirun: for each number of ranks the same model bit
    /// for bit (the bounds only skip work), 1 vs 2 vs 3 ranks within 1e-6, progress lines with
    /// the share of rows recomputed, and the choice recorded in the model.
    func testHamerlyAndLloydSameModelForOneTwoThreeRanks() throws {
        let (n, d, K) = (2400, 8, 12)
        var rng = SplitMix64(seed: 37)
        let centres = (0..<(20 * d)).map { _ in 0.4 * rng.normal() }
        var x = [Double]()
        for _ in 0..<n {
            let k = Int.random(in: 0..<20, using: &rng)
            for i in 0..<d { x.append(centres[k * d + i] + rng.normal()) }
        }
        try fx.writeInput(rows: n, features: d, values: x)
        var models: [[Double]] = []
        for p in 1...3 {
            var pair: [String: [Double]] = [:]
            for method in ["lloyd", "hamerly"] {
                let job = try writeFitJob("\(method)\(p).json", output: "\(method)\(p).h5", fit: """
                    "algorithm": "kmeans", "kmeans_algorithm": "\(method)", "clusters": \(K), "n_init": 2, "seed": 3, "tol": 0, "max_iter": 40
                    """, blockRows: 300)
                let r = try NeonBatchProcess.run(["fit", job, "--verbose"], ranks: p)
                XCTAssertEqual(r.status, 0, r.stderr)
                let lines = r.stderr.split(separator: "\n").filter { $0.contains(" iteration ") }
                XCTAssertFalse(lines.isEmpty, r.stderr)
                XCTAssertTrue(lines.allSatisfy { $0.contains("% of rows") }, r.stderr)
                XCTAssertTrue(lines.first!.contains("recomputed 100.0 % of rows"), String(lines.first!))
                if method == "lloyd" {
                    XCTAssertTrue(lines.allSatisfy { $0.contains("recomputed 100.0 % of rows") }, r.stderr)
                } else {
                    XCTAssertFalse(lines.allSatisfy { $0.contains("recomputed 100.0 % of rows") }, r.stderr)
                }
                let s = try StoredFile(path: fx.path("\(method)\(p).h5"))
                XCTAssertEqual(try s.stringAttribute("kmeans_algorithm"), method)
                pair[method] = try s.doubles("centroids") + [s.numberAttribute("inertia")!, s.numberAttribute("iterations")!]
            }
            XCTAssertEqual(pair["lloyd"], pair["hamerly"], "ranks \(p)")
            models.append(pair["hamerly"]!)
        }
        for p in 1...2 {
            XCTAssertEqual(models[p].count, models[0].count)
            XCTAssertLessThan(zip(models[p], models[0]).map { abs($0 - $1) / max(1, abs($1)) }.max()!, 1e-6)
        }
    }

    func testKernelKMeansSameModelForOneTwoThreeRanks() throws {
        let (n, d, K) = (900, 3, 3)
        let data = blobs(rows: n, features: d, clusters: K, seed: 32)
        try fx.writeInput(rows: n, features: d, values: data.x, float32: false)
        var outs: [[Double]] = []
        for p in 1...3 {
            let job = try writeFitJob("k\(p).json", output: "k\(p).h5", fit: """
                "algorithm": "kernel_kmeans", "clusters": 3, "n_init": 2, "max_iter": 6, "support_vectors": 3, "seed": 4
                """, blockRows: 200)
            let r = try NeonBatchProcess.run(["fit", job], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("objective (Eq. 36)"), "progress lines from rank 0")
            let s = try StoredFile(path: fx.path("k\(p).h5"))
            XCTAssertEqual(try s.stringAttribute("kind"), "kernel_kmeans")
            XCTAssertEqual(try s.int64s("support_cluster"), (0..<9).map { Int64($0 / 3) })
            outs.append(try s.doubles("support_vectors") + [s.numberAttribute("gamma")!, s.numberAttribute("objective")!])
        }
        for p in 1...2 {
            XCTAssertLessThan(zip(outs[p], outs[0]).map { abs($0 - $1) / max(1, abs($1)) }.max()!, 1e-6)
        }
        let u = Array(outs[0][0..<(9 * d)])
        let model = try KernelKMeansModel(features: d, supportVectors: u, supportCluster: (0..<9).map { $0 / 3 },
                                          gamma: outs[0][9 * d])
        XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(rows(data.x, d).map { model.assign($0) }, data.labels), 0.99)
    }

    /// fit (standardised) -> explain: the explain job standardises each row with the model's
    /// transform, so its assignments are the fitted clusters and they recover the blobs.
    func testFitThenExplainRoundTrip() throws {
        let (n, d, K) = (1000, 4, 4)
        let data = blobs(rows: n, features: d, clusters: K, seed: 38)
        try fx.writeInput(rows: n, features: d, values: data.x)
        for (algorithm, extra) in [("kmeans", #", "n_init": 4"#), ("kernel_kmeans", #", "n_init": 1, "max_iter": 5, "support_vectors": 2"#)] {
            let fitJob = try writeFitJob("fit-\(algorithm).json", output: "\(algorithm).h5", fit: """
                "algorithm": "\(algorithm)", "clusters": 4, "standardize": true, "seed": 2\(extra)
                """)
            let f = try NeonBatchProcess.run(["fit", fitJob, "-q"], ranks: 2)
            XCTAssertEqual(f.status, 0, f.stderr)
            let m = try StoredFile(path: fx.path("\(algorithm).h5"))
            let mean = try m.doubles("standardize_mean"), std = try m.doubles("standardize_std")
            let z = Standardization(mean: mean, std: std)
            var xs = data.x.map { Float($0) }
            xs.withUnsafeMutableBufferPointer { z.apply($0.baseAddress!, rows: n) }
            let standardized = rows(xs.map(Double.init), d)
            for i in 0..<d {
                let col = standardized.map { $0[i] }
                XCTAssertEqual(col.reduce(0, +) / Double(n), 0, accuracy: 1e-5)
            }
            let job = try fx.writeJob("explain-\(algorithm).json", model: "\(algorithm).h5", output: "out-\(algorithm).h5")
            let r = try NeonBatchProcess.run([job, "-q"], ranks: 2)
            XCTAssertEqual(r.status, 0, r.stderr)
            let out = try StoredFile(path: fx.path("out-\(algorithm).h5"))
            XCTAssertEqual(try out.stringAttribute("status"), "complete")
            XCTAssertEqual(out.numberAttribute("standardized"), 1)
            let assignment = try out.int64s("assignment").map { Int($0) }
            let expected: [Int]
            if algorithm == "kmeans" {
                let model = KMeansModel(clusters: K, features: d, centroids: try m.doubles("centroids"))
                expected = standardized.map { model.assign($0) }
            } else {
                let model = try KernelKMeansModel(features: d, supportVectors: try m.doubles("support_vectors"),
                                                  supportCluster: try m.int64s("support_cluster").map { Int($0) },
                                                  gamma: m.numberAttribute("gamma")!)
                expected = standardized.map { model.assign($0) }
            }
            XCTAssertEqual(assignment, expected, algorithm)
            XCTAssertGreaterThanOrEqual(AdjustedRandIndex.value(assignment, data.labels), 0.99, algorithm)
            // relevance sums to the logit (k-means: exact conservation of the midpoint rule)
            if algorithm == "kmeans" {
                let rel = try out.doubles("relevance"), logit = try out.doubles("logit")
                for row in stride(from: 0, to: n, by: 97) {
                    XCTAssertEqual(rel[(row * d)..<((row + 1) * d)].reduce(0, +), logit[row], accuracy: 1e-3 * max(1, abs(logit[row])))
                }
            }
        }
    }

    func testKernelKMeansFromLabels() throws {
        let (n, d, K) = (600, 3, 3)
        let data = blobs(rows: n, features: d, clusters: K, seed: 34)
        try fx.writeInput(rows: n, features: d, values: data.x)
        let f = try H5WriteFile(creating: fx.path("labels.h5"), communicator: nil)
        try f.write("y", element: .int64, dims: [n], values: data.labels.map { Int64($0) })
        try f.close()
        let job = try writeFitJob("lab.json", output: "lab.h5", fit: """
            "algorithm": "kernel_kmeans", "clusters": 3, "n_init": 1, "max_iter": 3, "support_vectors": 2,
            "init": {"file": "labels.h5", "dataset": "y"}
            """, blockRows: 128)
        let r = try NeonBatchProcess.run(["fit", job, "-q"], ranks: 3)
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try StoredFile(path: fx.path("lab.h5"))
        let model = try KernelKMeansModel(features: d, supportVectors: try m.doubles("support_vectors"),
                                          supportCluster: try m.int64s("support_cluster").map { Int($0) },
                                          gamma: m.numberAttribute("gamma")!)
        // Started from the true labels, the clusters keep their names.
        let found = rows(data.x, d).map { model.assign($0) }
        XCTAssertGreaterThanOrEqual(Double(zip(found, data.labels).filter { $0 == $1 }.count) / Double(n), 0.99)
    }

    func testElbowWritesInertiaPerK() throws {
        let (n, d, K) = (900, 4, 4)
        let data = blobs(rows: n, features: d, clusters: K, seed: 35)
        try fx.writeInput(rows: n, features: d, values: data.x)
        let job = try writeFitJob("elbow.json", output: "model.h5", fit: #""algorithm": "kmeans", "clusters": 2, "n_init": 2"#)
        let r = try NeonBatchProcess.run(["elbow", job, "--clusters", "2-6", "-q"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("model.h5")))
        let csv = try String(contentsOfFile: fx.path("model-elbow.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "clusters,inertia,iterations,converged")
        XCTAssertEqual(csv.dropFirst().map { Int($0.split(separator: ",")[0])! }, [2, 3, 4, 5, 6])
        let inertia = csv.dropFirst().map { Double($0.split(separator: ",")[1])! }
        // the elbow: big drops up to the planted K, small ones after
        XCTAssertLessThan(inertia[2], 0.2 * inertia[0])
        XCTAssertGreaterThan(inertia[3], 0.8 * inertia[2])
        let svg = try String(contentsOfFile: fx.path("model-elbow.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 5)
        XCTAssertTrue(try String(contentsOfFile: fx.path("model-elbow.md"), encoding: .utf8).contains("| 4 |"))
    }

    /// Bad fit jobs under mpirun -n 2: exit 1 on every rank, promptly, the exact line once, no model written.
    func testBadFitJobs() throws {
        let data = blobs(rows: 300, features: 3, clusters: 3, seed: 36)
        var x = data.x
        try fx.writeInput(rows: 300, features: 3, values: x)
        x[211 * 3 + 2] = .nan
        try fx.writeInput("nan.h5", rows: 300, features: 3, values: x)
        let f = try H5WriteFile(creating: fx.path("labels.h5"), communicator: nil)
        try f.write("y", element: .int64, dims: [300], values: (0..<300).map { Int64($0 == 17 ? 5 : $0 % 3) })
        try f.write("short", element: .int64, dims: [10], values: [Int64](repeating: 0, count: 10))
        try f.close()
        try Data("x".utf8).write(to: URL(fileURLWithPath: fx.path("exists.h5")))
        let kernel = #""algorithm": "kernel_kmeans", "clusters": 3, "n_init": 1, "max_iter": 2"#
        let cases: [(String, String, String)] = [
            (#""algorithm": "kmeans", "clusters": 301"#, "data.h5",
             "JOB: fit.clusters 301 exceeds the 300 rows of dataset 'features' of \(fx.path("data.h5"))"),
            (#""algorithm": "kmeans", "clusters": 3, "tol": "x""#, "data.h5", "JOB: fit.tol must be a finite number >= 0"),
            (#""algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "elkan""#, "data.h5",
             #"JOB: fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
            (#""algorithm": "kmeans", "clusters": 3"#, "nan.h5", "\(fx.path("nan.h5")): dataset 'features' row 211 holds NaN or Inf"),
            (#""algorithm": "kmeans", "clusters": 3"#, "missing.h5", "\(fx.path("missing.h5")): input file does not exist"),
            (kernel + #", "init": {"file": "labels.h5", "dataset": "y"}"#, "data.h5",
             "\(fx.path("labels.h5")): dataset 'y' row 17 holds label 5, not in 0..2 (fit.clusters = 3)"),
            (kernel + #", "init": {"file": "labels.h5", "dataset": "short"}"#, "data.h5",
             "\(fx.path("labels.h5")): dataset 'short' has 10 labels but dataset 'features' of \(fx.path("data.h5")) has 300 rows"),
        ]
        for (i, (fit, input, message)) in cases.enumerated() {
            let job = try writeFitJob("bad\(i).json", output: "bad\(i).h5", fit: fit, input: input)
            let r = try NeonBatchProcess.run(["fit", job], ranks: 2, timeout: 60)
            XCTAssertEqual(r.status, 1, "case \(i)")
            XCTAssertEqual(r.errorLines, ["neon-batch: error: " + message.replacingOccurrences(of: "JOB", with: job)], r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("bad\(i).h5")))
        }
        let job = try writeFitJob("exists.json", output: "exists.h5", fit: #""algorithm": "kmeans", "clusters": 3"#)
        let r = try NeonBatchProcess.run(["fit", job], ranks: 2, timeout: 60)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("exists.h5")): output file exists; set output.overwrite to true to replace it"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fx.path("exists.h5"))), Data("x".utf8))
    }

    /// A model's standardisation is checked by explain jobs, naming the file and dataset.
    func testBadStandardizationInAModel() throws {
        try fx.writeInput(rows: 40, features: 3, values: (0..<120).map { Double($0 % 7) })
        let cases: [(String, [Double]?, [Double]?, String)] = [
            ("len.h5", [0, 0], [1, 1, 1],
             "standardize_mean and standardize_std need 3 values each (one per feature), got 2 and 3"),
            ("zero.h5", [0, 0, 0], [1, 0, 1], "standardize_std[1] must be a finite number > 0"),
            ("nan.h5", [0, .nan, 0], [1, 1, 1], "standardize_mean[1] is not finite"),
            ("half.h5", [0, 0, 0], nil,
             "dataset 'standardize_std' is missing (standardize_mean and standardize_std go together)"),
        ]
        for (name, mean, std, message) in cases {
            let f = try H5WriteFile(creating: fx.path(name), communicator: nil)
            try f.setAttribute("kind", "kmeans")
            try f.write("centroids", element: .float64, rows: 2, columns: 3, values: [0, 0, 0, 1, 1, 1])
            if let m = mean { try f.write("standardize_mean", element: .float64, dims: [m.count], values: m) }
            if let v = std { try f.write("standardize_std", element: .float64, dims: [v.count], values: v) }
            try f.close()
            let job = try fx.writeJob("\(name).json", model: name, output: "o-\(name)")
            let r = try NeonBatchProcess.run([job], ranks: 2, timeout: 60)
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path(name)): \(message)"], r.stderr)
        }
    }
}

/// Fit and elbow output: a line per iteration only with --verbose (in a log: the first and then
/// one every 5 s); seconds per iteration is a number even with fit.max_iter 1.
final class FitOutputTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws {
        fx = try Fixture()
        let data = Fixture.blobs(rows: 600, features: 6, clusters: 4, seed: 8)
        try fx.writeInput(rows: 600, features: 6, values: data.x)
    }

    override func tearDown() { fx.remove() }

    func fitJob(_ name: String, _ fit: String) throws -> String {
        let text = #"{"input": {"file": "data.h5", "dataset": "features"}, "output": {"file": "\#(name).h5"}, "fit": {\#(fit)}}"#
        try text.write(toFile: fx.path("\(name).json"), atomically: true, encoding: .utf8)
        return fx.path("\(name).json")
    }

    func testIterationLinesOnlyWithVerbose() throws {
        let elbow = try fitJob("e", #""algorithm": "kmeans", "clusters": 2, "n_init": 3, "tol": 0, "max_iter": 30"#)
        let quiet = try NeonBatchProcess.run(["elbow", elbow, "--clusters", "2-6"], ranks: 2)
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        let iterationLines = { (r: NeonBatchProcess.Result) in r.stderr.split(separator: "\n").filter { $0.contains(" iteration ") }.count }
        XCTAssertEqual(iterationLines(quiet), 5, quiet.stderr)      // the first of each K (each takes less than 5 s)
        XCTAssertEqual(quiet.stdout.split(separator: "\n").filter { $0.hasPrefix("neon-batch: K = ") }.count, 5, quiet.stdout)
        let verbose = try NeonBatchProcess.run(["elbow", elbow, "--clusters", "2-6", "--prefix", fx.path("v"), "--verbose"], ranks: 2)
        XCTAssertEqual(verbose.status, 0, verbose.stderr)
        XCTAssertGreaterThan(iterationLines(verbose), 15, verbose.stderr)    // 5 K x 3 restarts, at least one each
    }

    func testOneIterationHasANumberOfSecondsPerIteration() throws {
        for (name, fit) in [("k1", #""algorithm": "kmeans", "clusters": 3, "max_iter": 1"#),
                            ("kk1", #""algorithm": "kernel_kmeans", "clusters": 3, "support_vectors": 4, "max_iter": 1"#)] {
            let r = try NeonBatchProcess.run(["fit", try fitJob(name, fit)])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stdout.contains("nan"), r.stdout)
            let seconds = try XCTUnwrap(try StoredFile(path: fx.path("\(name).h5")).numberAttribute("seconds_per_iteration"))
            XCTAssertTrue(seconds.isFinite && seconds > 0, "\(name): \(seconds)")
        }
    }
}
