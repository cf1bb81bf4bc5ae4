import Foundation
import Storage
import XCTest

/// `neon-batch inspect`: the fields it prints agree with what the test computes from the file,
/// it never changes the file, and it runs without mpirun.
final class InspectTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// The JSON of `inspect --json`, decoded loosely.
    func inspectJSON(_ args: [String]) throws -> [String: Any] {
        let r = try NeonBatchProcess.run(["inspect"] + args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testInspectOfARunReportsItsFieldsClustersConservationAndTopFeatures() throws {
        let (n, d, k) = (700, 5, 4)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 11)
        try fx.writeInput(rows: n, features: d, values: data.x)
        let names = ["alpha", "beta <b>", "gamma", "delta", "epsilon"]
        let input = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try input.writeStrings("feature_names", names)
        try input.close()
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        let job = try fx.writeJob(blockRows: 256)
        let run = try NeonBatchProcess.run([job, "-q"], ranks: 2)
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = fx.path("out.h5")
        let before = try Data(contentsOf: URL(fileURLWithPath: out))

        // What the file says, computed here.
        let s = try StoredFile(path: out)
        let rel = try s.doubles("relevance"), assignment = try s.int64s("assignment"), logit = try s.doubles("logit")
        var counts = [Int: Int](), sums = [Int: [Double]](), logitSums = [Int: Double]()
        var maxErr = 0.0, sumErr = 0.0
        for r in 0..<n {
            let c = Int(assignment[r])
            counts[c, default: 0] += 1
            logitSums[c, default: 0] += logit[r]
            let row = rel[(r * d)..<((r + 1) * d)]
            sums[c] = zip(sums[c] ?? [Double](repeating: 0, count: d), row).map { $0 + $1 }
            let e = abs(row.reduce(0, +) - logit[r])
            maxErr = max(maxErr, e)
            sumErr += e
        }

        let j = try inspectJSON([out, "--top", "3"])
        XCTAssertEqual(j["status"] as? String, "complete")
        XCTAssertEqual(j["modelKind"] as? String, "kmeans")
        XCTAssertEqual(j["clusterCount"] as? Int, k)
        XCTAssertEqual(j["ranks"] as? Int, 2)
        XCTAssertEqual(j["blocks"] as? Int, 3)
        // (JSON text round-trips a double to within an ulp or so)
        XCTAssertEqual(j["beta"] as! Double, s.numberAttribute("beta")!, accuracy: 1e-14 * s.numberAttribute("beta")!)
        XCTAssertEqual(j["betaMode"] as? String, "auto")
        XCTAssertEqual(j["rules"] as? String, "min-take-most (Eq. 2), midpoint (Eq. 4)")
        XCTAssertEqual(j["elapsedSeconds"] as! Double, s.numberAttribute("elapsed_seconds")!, accuracy: 1e-12)
        XCTAssertEqual(j["rowsSummarised"] as? Int, n)
        XCTAssertEqual(j["positiveLogits"] as? Int, logit.filter { $0 > 0 }.count)
        XCTAssertEqual(j["meanLogit"] as! Double, logit.reduce(0, +) / Double(n), accuracy: 1e-9 * abs(logit.reduce(0, +)))
        let datasets = try XCTUnwrap(j["datasets"] as? [[String: Any]])
        XCTAssertEqual(datasets[0]["shape"] as? [Int], [n, d])
        XCTAssertEqual(datasets[0]["type"] as? String, "float32")
        XCTAssertEqual(datasets[0]["dimensions"] as? [String], ["sample", "feature"], "dimension scales name the axes")
        XCTAssertEqual(datasets[1]["dimensions"] as? [String], ["sample"])
        XCTAssertEqual(datasets[2]["type"] as? String, "float64")

        let cons = try XCTUnwrap(j["conservation"] as? [String: Any])
        XCTAssertEqual(cons["applies"] as? Bool, true)
        XCTAssertEqual(cons["maxAbsError"] as! Double, maxErr, accuracy: 1e-12 * max(1, maxErr))
        XCTAssertEqual(cons["meanAbsError"] as! Double, sumErr / Double(n), accuracy: 1e-12 * max(1, maxErr))
        XCTAssertEqual(cons["recordedMaxAbsError"] as! Double, s.numberAttribute("conservation_max_abs_error")!,
                       accuracy: 1e-12 * max(1, maxErr), "the run's own record, passed on")
        XCTAssertEqual(maxErr, s.numberAttribute("conservation_max_abs_error")!,
                       accuracy: 1e-6 * logit.reduce(0, +) / Double(n), "the run's record and the file agree")

        XCTAssertTrue((j["featureNames"] as! String).contains("dataset 'feature_names'"), "\(j["featureNames"]!)")
        let clusters = try XCTUnwrap(j["clusters"] as? [[String: Any]])
        XCTAssertEqual(clusters.map { $0["cluster"] as! Int }, counts.keys.sorted())
        for c in clusters {
            let id = c["cluster"] as! Int
            XCTAssertEqual(c["count"] as? Int, counts[id])
            XCTAssertEqual(c["meanLogit"] as! Double, logitSums[id]! / Double(counts[id]!), accuracy: 1e-9 * max(1, abs(logitSums[id]!)))
            let means = sums[id]!.map { $0 / Double(counts[id]!) }
            let order = means.indices.sorted { means[$0] > means[$1] }.prefix(3)
            let top = try XCTUnwrap(c["topFeatures"] as? [[String: Any]])
            XCTAssertEqual(top.map { $0["index"] as! Int }, Array(order), "cluster \(id)")
            XCTAssertEqual(top.map { $0["name"] as! String }, order.map { names[$0] })
            for (t, i) in zip(top, order) { XCTAssertEqual(t["meanRelevance"] as! Double, means[i], accuracy: 1e-9 * max(1, abs(means[i]))) }
        }

        // The text form carries the same fields, one per line.
        let text = try NeonBatchProcess.run(["inspect", out])
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in ["  status:        complete (3 of 3 blocks done)",
                         "  relevance:     \(n) x \(d) float32 (sample x feature)",
                         "  model:         kmeans, K = \(k) (\(fx.path("model.h5")))",
                         "  ranks:         2",
                         String(format: "  conservation:  max |sum_i R_i - f_c| = %.3g", maxErr),
                         String(format: "    cluster %3d: %8d samples", clusters[0]["cluster"] as! Int, clusters[0]["count"] as! Int)] {
            XCTAssertTrue(text.stdout.contains(expected), "missing \(expected) in\n\(text.stdout)")
        }
        XCTAssertTrue(text.stdout.contains("time taken:    "), text.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "inspect never writes")
    }

    func testInspectAndRenderOfTheDemoOutput() throws {
        let dir = fx.path("demo")
        XCTAssertEqual(try NeonBatchProcess.run(["demo", dir, "--rows", "2000", "--clusters", "5"]).status, 0)
        let run = try NeonBatchProcess.run([dir + "/job.json", "-q"], ranks: 2)
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = dir + "/out.h5"
        let r = try NeonBatchProcess.run(["inspect", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let s = try StoredFile(path: out)
        let assignment = try s.int64s("assignment"), logit = try s.doubles("logit"), rel = try s.doubles("relevance")
        let d = 32
        var counts = [Int64: Int]()
        for c in assignment { counts[c, default: 0] += 1 }
        let maxErr = (0..<assignment.count).map { i in abs(rel[(i * d)..<((i + 1) * d)].reduce(0, +) - logit[i]) }.max()!
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], out)
        XCTAssertEqual(lines.filter { $0.hasPrefix("    cluster ") }.count, counts.count)
        for (c, k) in counts {
            XCTAssertTrue(lines.contains { $0.hasPrefix(String(format: "    cluster %3d: %8d samples, mean f_c ", c, k)) }, "cluster \(c): \(k)\n\(r.stdout)")
        }
        for prefix in ["  status:        complete", "  relevance:     2000 x 32 float32 (sample x feature)", "  model:         kmeans, K = 5",
                       "  beta:          ", "  rules:         min-take-most (Eq. 2), midpoint (Eq. 4)", "  ranks:         2",
                       "  time taken:    ", String(format: "  conservation:  max |sum_i R_i - f_c| = %.3g,", maxErr),
                       "  features:      the input has no feature_names; features are numbered"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(prefix) }, "no line \(prefix)\n\(r.stdout)")
        }

        // render without --samples: the first 3 members of each cluster, every cluster and its f_c histogram.
        let figures = dir + "/figures"
        let rr = try NeonBatchProcess.run(["render", out, "--out", figures])
        XCTAssertEqual(rr.status, 0, rr.stderr)
        let firsts = counts.keys.sorted().flatMap { c in assignment.indices.filter { assignment[$0] == c }.prefix(3) }.sorted()
        let files = try FileManager.default.contentsOfDirectory(atPath: figures).sorted()
        XCTAssertEqual(files, (["index.html"] + firsts.map { "sample-\($0).svg" } + counts.keys.flatMap { ["cluster-\($0).svg", "fc-cluster-\($0).svg"] }).sorted())
        XCTAssertEqual(rr.stdout, "neon-batch: wrote \(firsts.count + counts.count) figures and \(figures)/index.html\n")
    }

    func testFeatureNamesFromAttributesAndTheirLength() throws {
        let (n, d) = (4, 3)
        try fx.writeInput(rows: n, features: d, values: (0..<(n * d)).map(Double.init))
        try writeOutput(fx, "out.h5", shape: [n, d], relevance: (0..<(n * d)).map { Double($0 % d) },
                        assignment: [0, 1, 0, 1], logit: [3, 3, 3, 3], input: fx.path("data.h5"))
        func names() throws -> (names: [String], note: String) {
            let j = try inspectJSON([fx.path("out.h5")])
            let top = (j["clusters"] as! [[String: Any]])[0]["topFeatures"] as! [[String: Any]]
            return (top.sorted { ($0["index"] as! Int) < ($1["index"] as! Int) }.map { $0["name"] as! String }, j["featureNames"] as! String)
        }
        XCTAssertEqual(try names().names, ["feature 0", "feature 1", "feature 2"])
        let f = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try f.setAttribute("feature_names", strings: ["r0", "r1", "r2"])
        try f.close()
        XCTAssertEqual(try names().names, ["r0", "r1", "r2"])
        XCTAssertTrue(try names().note.hasSuffix("root attribute 'feature_names'"))
        let g = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try g.setAttribute("feature_names", strings: ["a", "b", "c"], on: "features")
        try g.close()
        XCTAssertEqual(try names().names, ["a", "b", "c"], "the dataset's own attribute comes first")
        let h = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try h.setAttribute("feature_names", strings: ["a", "b"], on: "features")
        try h.close()
        XCTAssertEqual(try names().names, ["feature 0", "feature 1", "feature 2"])
        XCTAssertEqual(try names().note, "\(fx.path("data.h5")): attribute 'feature_names' of dataset 'features' has 2 names for 3 features; features are numbered")
    }

    func testConservationIsCheckedOnlyWhereTheRuleConserves() throws {
        // Rows summing to 2 for f_c = 2.5: |sum_i R_i - f_c| = 0.5 when checked.
        let rel = [1.0, 1.0, 0.5, 1.5]
        for (kind, rule, applies) in [("kmeans", nil, true), ("kernel_kmeans", "conservative", true),
                                      ("kernel_kmeans", "paper", false)] as [(String, String?, Bool)] {
            var attrs: [(String, AttributeValue)] = [("model_kind", .string(kind))]
            if let r = rule { attrs.append(("resume_key:explain.kernel_rule", .string(r))) }
            try writeOutput(fx, "o.h5", shape: [2, 2], relevance: rel, assignment: [0, 1], logit: [2.5, 2.5], attributes: attrs)
            let cons = try inspectJSON([fx.path("o.h5")])["conservation"] as! [String: Any]
            XCTAssertEqual(cons["applies"] as? Bool, applies, "\(kind) \(rule ?? "")")
            XCTAssertEqual(cons["maxAbsError"] as? Double, applies ? 0.5 : nil)
            if !applies { XCTAssertTrue((cons["reason"] as! String).contains("kernel_rule paper"), "\(cons)") }
        }
    }

    func testKernelRuleOfARealRunDecidesWhetherConservationIsChecked() throws {
        let d = 3
        let u: [Double] = [0, 0, 0, 1, 0, 0, 5, 5, 5, 6, 5, 5]
        let m = try H5WriteFile(creating: fx.path("model.h5"), communicator: nil)
        try m.setAttribute("kind", "kernel_kmeans")
        try m.setAttribute("gamma", 0.2)
        try m.write("support_vectors", element: .float64, rows: 4, columns: d, values: u)
        try m.write("support_cluster", element: .int64, dims: [4], values: [Int64]([0, 0, 1, 1]))
        try m.close()
        let x = (0..<(40 * d)).map { Double(($0 * 7) % 13) / 2 }
        try fx.writeInput(rows: 40, features: d, values: x, float32: false)
        for rule in ["paper", "conservative"] {
            let job = try fx.writeJob("\(rule).json", output: "\(rule).h5", kernelRule: rule)
            XCTAssertEqual(try NeonBatchProcess.run([job, "-q"], ranks: 1).status, 0)
            let j = try inspectJSON([fx.path("\(rule).h5")])
            XCTAssertEqual(j["kernelRule"] as? String, rule)
            let cons = j["conservation"] as! [String: Any]
            XCTAssertEqual(cons["applies"] as? Bool, rule == "conservative")
            if rule == "conservative" { XCTAssertLessThan(cons["maxAbsError"] as! Double, 1e-9) }
        }
    }

    func testIncompleteOutputIsSummarisedOverItsDoneBlocks() throws {
        try writeOutput(fx, "part.h5", shape: [5, 1], relevance: [1, 2, 3, 4, 5], assignment: [0, 0, 1, 1, 1],
                        logit: [1, 2, 3, 4, 5], status: "incomplete",
                        attributes: [("block_rows", .int(2)), ("blocks", .int(3)), ("blocks_done", .int(2))],
                        blockDone: [1, 0, 1])
        let j = try inspectJSON([fx.path("part.h5")])
        XCTAssertEqual(j["status"] as? String, "incomplete")
        XCTAssertEqual(j["rowsSummarised"] as? Int, 3, "rows 0, 1 and 4")
        let clusters = j["clusters"] as! [[String: Any]]
        XCTAssertEqual(clusters.map { $0["count"] as! Int }, [2, 1])
        XCTAssertEqual(clusters.map { $0["meanLogit"] as! Double }, [1.5, 5])
        XCTAssertNil(j["elapsedSeconds"] as? Double)
    }

    func testBadPathsGiveOneLineNamingTheFile() throws {
        let missing = fx.path("missing.h5")
        var r = try NeonBatchProcess.run(["inspect", missing])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(missing): HDF5 file does not exist"])
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1)
        try "not hdf5".write(toFile: fx.path("text.h5"), atomically: true, encoding: .utf8)
        r = try NeonBatchProcess.run(["inspect", fx.path("text.h5")])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("text.h5")): HDF5 file is not an HDF5 file"])
        try fx.writeInput(rows: 2, features: 2, values: [1, 2, 3, 4])
        r = try NeonBatchProcess.run(["inspect", fx.path("data.h5")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("data.h5")): no 'status' attribute; not a neon-batch output"])
        r = try NeonBatchProcess.run(["render", missing, "--out", fx.path("r")])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(missing): HDF5 file does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("r")), "nothing is created for a bad input")
    }
}

/// Writes an output file the way the pipeline lays it out (serially, through the Storage writer),
/// for shapes the pipeline does not produce yet (spatial relevance) and for chosen numbers.
func writeOutput(_ fx: Fixture, _ name: String, shape: [Int], relevance: [Double], assignment: [Int64], logit: [Double],
                 status: String = "complete", input: String? = nil, inputDataset: String = "features",
                 attributes: [(String, AttributeValue)] = [], blockDone: [Int64]? = nil) throws {
    let path = fx.path(name)
    try? FileManager.default.removeItem(atPath: path)
    let f = try H5WriteFile(creating: path, communicator: nil)
    try f.write(RelevanceOutput.relevanceDataset, element: .float32, dims: shape, values: relevance.map { Float($0) })
    try f.write(RelevanceOutput.assignmentDataset, element: .int64, dims: [shape[0]], values: assignment)
    try f.write(RelevanceOutput.logitDataset, element: .float64, dims: [shape[0]], values: logit)
    if let done = blockDone { try f.write(RelevanceOutput.blockDoneDataset, element: .int64, dims: [done.count], values: done) }
    try f.setAttribute("status", "incomplete")
    try f.setAttribute("model_kind", "kmeans")
    try f.setAttribute("clusters", Int(assignment.max() ?? 0) + 1)
    if let i = input {
        try f.setAttribute("input_file", i)
        try f.setAttribute("input_dataset", inputDataset)
    }
    for (k, v) in attributes {
        switch v {
        case .string(let s): try f.setAttribute(k, s)
        case .double(let x): try f.setAttribute(k, x)
        case .int(let x): try f.setAttribute(k, x)
        }
    }
    try f.close()
    if status == "complete" { try RelevanceOutput.complete(path: path) }
}
