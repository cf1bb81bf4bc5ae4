import Foundation
import Storage
import XCTest

/// Every bad input under mpirun -n 2: a non-zero exit on every rank, promptly (no hang), the exact
/// one-line message printed once, and no output that claims to be complete.
final class BadInputTests: XCTestCase {
    var fx: Fixture!
    let ranks = 2

    override func setUpWithError() throws {
        fx = try Fixture()
        let data = Fixture.blobs(rows: 40, features: 3, clusters: 3, seed: 3)
        try fx.writeInput(rows: 40, features: 3, values: data.x)
        try fx.writeModel(clusters: 3, features: 3, centroids: data.centroids)
    }

    override func tearDown() { fx.remove() }

    /// Runs the job and checks the failure contract; `message` is the expected text after "neon-batch: error: ".
    func assertFails(_ job: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try NeonBatchProcess.run([job], ranks: ranks, timeout: 60, file: file, line: line)
        XCTAssertNotEqual(r.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(message)"], r.stderr, file: file, line: line)
        if let s = try? StoredFile(path: fx.path("out.h5")) {
            XCTAssertNotEqual(try s.stringAttribute("status"), "complete", file: file, line: line)
        }
    }

    func testMissingInputFile() throws {
        try assertFails(try fx.writeJob(input: "nope.h5"), "\(fx.path("nope.h5")): input file does not exist")
    }

    func testMissingModelFile() throws {
        try assertFails(try fx.writeJob(model: "nope.h5"), "\(fx.path("nope.h5")): model file does not exist")
    }

    func testMissingDataset() throws {
        try assertFails(try fx.writeJob(dataset: "x"), "\(fx.path("data.h5")): no dataset 'x'; the file has 'features'")
    }

    func testFeatureCountMismatch() throws {
        try fx.writeModel("m4.h5", clusters: 3, features: 4, centroids: (0..<12).map(Double.init))
        try assertFails(try fx.writeJob(model: "m4.h5"),
                        "\(fx.path("m4.h5")): dataset 'centroids' has 4 features but dataset 'features' of \(fx.path("data.h5")) has 3")
    }

    func testSingleCluster() throws {
        try fx.writeModel("m1.h5", clusters: 1, features: 3, centroids: [1, 2, 3])
        try assertFails(try fx.writeJob(model: "m1.h5"),
                        "\(fx.path("m1.h5")): dataset 'centroids' has 1 row; k-means needs K >= 2 clusters")
    }

    func testIntegerAndStringDatasets() throws {
        let f = try H5WriteFile(creating: fx.path("typed.h5"), communicator: nil)
        try f.write("ints", element: .int64, rows: 4, columns: 3, values: [Int64](repeating: 2, count: 12))
        try f.writeStrings("names", ["a", "b", "c"])
        try f.close()
        try assertFails(try fx.writeJob(input: "typed.h5", dataset: "ints"),
                        "\(fx.path("typed.h5")): dataset 'ints' has integer type; expected float32 or float64: convert it, e.g. python3 -c \"import h5py; f = h5py.File('\(fx.path("typed.h5"))', 'a'); x = f['ints'][...]; del f['ints']; f['ints'] = x.astype('float32')\"")
        try assertFails(try fx.writeJob(input: "typed.h5", dataset: "names"),
                        "\(fx.path("typed.h5")): dataset 'names' has rank 1; expected 2 (rows x features) or 4 (N, C, H, W)")
    }

    func testNonFiniteDataNamesTheFirstBadRow() throws {
        var x = Fixture.blobs(rows: 700, features: 3, clusters: 3, seed: 4).x
        x[517 * 3 + 1] = .nan
        x[650 * 3] = .infinity
        try fx.writeInput("nan.h5", rows: 700, features: 3, values: x)
        // beta "auto": found in the beta pass, before any output exists
        try assertFails(try fx.writeJob(input: "nan.h5"), "\(fx.path("nan.h5")): dataset 'features' row 517 holds NaN or Inf")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.h5")))
        // fixed beta: found while explaining; the partial output stays "incomplete"
        try assertFails(try fx.writeJob(input: "nan.h5", beta: "0.1"),
                        "\(fx.path("nan.h5")): dataset 'features' row 517 holds NaN or Inf")
        XCTAssertEqual(try StoredFile(path: fx.path("out.h5")).stringAttribute("status"), "incomplete")
    }

    func testNonFiniteCentroids() throws {
        try fx.writeModel("mnan.h5", clusters: 3, features: 3, centroids: [0, 1, 2, 3, 4, 5, 6, .nan, 8])
        try assertFails(try fx.writeJob(model: "mnan.h5"), "\(fx.path("mnan.h5")): dataset 'centroids' row 2 holds NaN or Inf")
    }

    func testBadBeta() throws {
        let msg = "explain.beta must be \"auto\" or a positive finite number"
        for beta in ["0", "-1", "\"fast\"", "null", "true"] {
            let job = try fx.writeJob(beta: beta)
            try assertFails(job, "\(job): \(msg)")
        }
        let huge = try fx.writeJob(beta: "1e999")
        try assertFails(huge, "\(huge): not valid JSON (line 5, column 23: number out of range)")
    }

    func testUnknownJobKey() throws {
        let job = try fx.writeJob(extra: ",\n  \"explian\": {}")
        try assertFails(job, "\(job): unknown key 'explian'; did you mean 'explain'?")
    }

    func testExistingOutputIsNotTouchedWithoutOverwrite() throws {
        let existing = Data("precious".utf8)
        try existing.write(to: URL(fileURLWithPath: fx.path("out.h5")))
        try assertFails(try fx.writeJob(), "\(fx.path("out.h5")): output file exists; set output.overwrite to true to replace it")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fx.path("out.h5"))), existing)
        // with overwrite it is replaced by a complete output
        let r = try NeonBatchProcess.run([try fx.writeJob(overwrite: true), "-q"], ranks: ranks)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try StoredFile(path: fx.path("out.h5")).stringAttribute("status"), "complete")
    }

    func testOutputSameAsInput() throws {
        try assertFails(try fx.writeJob(output: "data.h5", overwrite: true),
                        "\(fx.path("data.h5")): output file is the input file (output.file)")
    }

    func testBadCommandLineExitsWithUsageStatus() throws {
        for args in [["run"], ["run", "--no-such-option", "job.json"], ["validate"]] {
            let r = try NeonBatchProcess.run(args, timeout: 30)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.isEmpty)
        }
    }

    func testBaselineMethodsExplainTheAssignedClusterOnly() throws {
        let job = fx.path("baseline-all.json")
        try """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
             "output": {"file": "out.h5"}, "explain": {"method": "x2", "target": "all"}}
            """.write(toFile: job, atomically: true, encoding: .utf8)
        try assertFails(job, "\(job): explain.method \"x2\" explains the assigned cluster only; set explain.target to \"assigned\"")
    }
}

/// uint8, float16 and (N, H, W) inputs: the message says how to fix them, and its command does.
final class InputFixAdviceTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws {
        fx = try Fixture()
        try XCTSkipUnless(try NeonBatchProcess.shell("python3 -c 'import h5py, numpy'") == 0, "python3 with h5py is needed")
        let data = Fixture.blobs(rows: 40, features: 4, clusters: 3, seed: 5)
        try fx.writeModel(clusters: 3, features: 4, centroids: data.centroids)
        XCTAssertEqual(try NeonBatchProcess.shell("""
            python3 -c "import h5py, numpy as np; f = h5py.File('\(fx.path("kinds.h5"))', 'w'); \
            f['u8'] = np.arange(40 * 4).reshape(40, 4).astype(np.uint8); f['f16'] = np.ones((40, 4), np.float16); \
            f['nhw'] = np.ones((40, 2, 2), np.uint8)"
            """), 0)
    }

    override func tearDown() { fx.remove() }

    /// Validates a job on dataset `name`; returns the advised command after checking the message.
    func advice(_ name: String, _ problem: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try NeonBatchProcess.run(["validate", try fx.writeJob(input: "kinds.h5", dataset: name)])
        XCTAssertEqual(r.status, 1, file: file, line: line)
        let prefix = "neon-batch: error: \(fx.path("kinds.h5")): dataset '\(name)' \(problem), e.g. "
        let message = try XCTUnwrap(r.errorLines.first, r.stderr, file: file, line: line)
        XCTAssertTrue(message.hasPrefix(prefix), message, file: file, line: line)
        return String(message.dropFirst(prefix.count))
    }

    func testTheAdvisedCommandFixesTheInput() throws {
        for (name, type) in [("u8", "integer"), ("f16", "16-bit float")] {
            let command = try advice(name, "has \(type) type; expected float32 or float64: convert it")
            XCTAssertEqual(try NeonBatchProcess.shell(command), 0, command)
            let r = try NeonBatchProcess.run(["validate", try fx.writeJob(input: "kinds.h5", dataset: name)])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let command = try advice("nhw", "has rank 3; expected 2 (rows x features) or 4 (N, C, H, W): add a channel axis, (N, 1, H, W)")
        XCTAssertEqual(try NeonBatchProcess.shell(command), 0, command)
        XCTAssertEqual(try NeonBatchProcess.shell("""
            python3 -c "import h5py, sys; d = h5py.File('\(fx.path("kinds.h5"))', 'r')['nhw']; sys.exit(0 if d.shape == (40, 1, 2, 2) and d.dtype == 'float32' else 1)"
            """), 0)
    }
}
