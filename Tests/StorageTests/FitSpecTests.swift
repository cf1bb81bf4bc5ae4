import Foundation
import Storage
import XCTest

/// The fit job file: defaults, path resolution, and the exact message of each bad key or value.
final class FitSpecTests: XCTestCase {
    let path = "/jobs/fit.json"

    func parse(_ fit: String, extra: String = "") throws -> FitSpec {
        try FitSpec.parse(text: """
            {"input": {"file": "data.h5", "dataset": "x"}, "output": {"file": "../models/m.h5"},
             "fit": {\(fit)}\(extra)}
            """, jobPath: path)
    }

    func assertError(_ fit: String, extra: String = "", _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(fit, extra: extra), line: line) { error in
            XCTAssertEqual((error as? JobError)?.message, "\(path): \(message)", line: line)
        }
    }

    func testDefaultsAndPaths() throws {
        let k = try parse(#""algorithm": "kmeans", "clusters": 8"#)
        XCTAssertEqual(k.inputFile, "/jobs/data.h5")
        XCTAssertEqual(k.outputFile, "/models/m.h5")
        XCTAssertEqual(k.algorithm, .kmeans)
        XCTAssertEqual([k.clusters, k.restarts, k.maxIterations, k.blockRows], [8, 1, 300, 8192])
        XCTAssertEqual(k.tolerance, 1e-4)
        XCTAssertEqual(k.seed, 0)
        XCTAssertFalse(k.standardize)
        XCTAssertFalse(k.overwrite)
        XCTAssertNil(k.initSample)
        XCTAssertEqual(k.kmeansMethod, .hamerly)
        XCTAssertEqual(try parse(#""algorithm": "kmeans", "clusters": 8, "kmeans_algorithm": "lloyd""#).kmeansMethod, .lloyd)
        XCTAssertEqual(try parse(#""algorithm": "kmeans", "clusters": 8, "kmeans_algorithm": "hamerly""#).kmeansMethod, .hamerly)
        let g = try parse(#""algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "l.h5", "dataset": "y"}, "standardize": true, "seed": 7"#)
        XCTAssertEqual([g.restarts, g.maxIterations, g.supportVectors], [10, 100, 10])
        XCTAssertEqual(g.noise, 1e-6)
        XCTAssertEqual(g.kernelInit, .labels(file: "/jobs/l.h5", dataset: "y"))
        XCTAssertTrue(g.standardize)
        XCTAssertEqual(g.seed, 7)
    }

    func testBadFitJobs() {
        assertError(#""algorithm": "kmeans", "clusters": 8, "clusterz": 1"#, "unknown key 'fit.clusterz'; did you mean 'clusters'?")
        assertError(#""algorithm": "kmeans""#, "missing key 'fit.clusters'")
        assertError(#""clusters": 3"#, "missing key 'fit.algorithm'")
        assertError(#""algorithm": "dbscan", "clusters": 3"#, "fit.algorithm must be \"kmeans\" or \"kernel_kmeans\"")
        assertError(#""algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "elkan""#,
                    "fit.kmeans_algorithm must be \"lloyd\" or \"hamerly\"")
        assertError(#""algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": 1"#,
                    "fit.kmeans_algorithm must be \"lloyd\" or \"hamerly\"")
        assertError(#""algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "Lloyd""#,
                    "fit.kmeans_algorithm must be \"lloyd\" or \"hamerly\"")
        assertError(#""algorithm": "kmeans", "clusters": 1"#, "fit.clusters must be an integer from 2 to 1048576")
        assertError(#""algorithm": "kmeans", "clusters": 2.5"#, "fit.clusters must be an integer from 2 to 1048576")
        assertError(#""algorithm": "kmeans", "clusters": 3, "n_init": 0"#, "fit.n_init must be an integer from 1 to 1000")
        assertError(#""algorithm": "kmeans", "clusters": 3, "tol": -1"#, "fit.tol must be a finite number >= 0")
        assertError(#""algorithm": "kmeans", "clusters": 3, "seed": -1"#, "fit.seed must be an integer from 0 to 9007199254740992")
        assertError(#""algorithm": "kmeans", "clusters": 3, "standardize": 1"#, "fit.standardize must be true or false")
        assertError(#""algorithm": "kmeans", "clusters": 30, "init_sample": 20"#, "fit.init_sample 20 is smaller than fit.clusters 30")
        assertError(#""algorithm": "kmeans", "clusters": 3, "noise": 0"#, "fit.noise applies to kernel_kmeans only")
        assertError(#""algorithm": "kernel_kmeans", "clusters": 3, "init": "random""#,
                    "fit.init must be \"kmeans\" or {\"file\": ..., \"dataset\": ...} (labels)")
        assertError(#""algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "l.h5", "dataset": "y", "x": 1}"#,
                    "unknown key 'fit.init.x'")
        assertError(#""algorithm": "kernel_kmeans", "clusters": 3, "support_vectors": 0"#,
                    "fit.support_vectors must be an integer from 1 to 65536")
        assertError(#""algorithm": "kmeans", "clusters": 3"#, extra: #", "explain": {}"#, "unknown key 'explain'")
        // (without a 'fit' section: an explain job given to fit)
        XCTAssertThrowsError(try FitSpec.parse(text: #"{"input": {"file": "d.h5", "dataset": "x"}, "explain": {}}"#, jobPath: "/jobs/j.json")) {
            XCTAssertEqual(($0 as? JobError)?.message,
                           "/jobs/j.json: an explain job (it has an 'explain' section), not a fit job: run it with `neon-batch run /jobs/j.json`")
        }
        assertError(#""algorithm": "kmeans", "clusters": 3"#, extra: #", "execution": {"block_rows": 0}"#,
                    "execution.block_rows must be an integer from 1 to 1048576")
        XCTAssertThrowsError(try FitSpec.parse(text: #"{"input": {"file": "a", "dataset": "x"}, "fit": {}}"#, jobPath: path)) {
            XCTAssertEqual(($0 as? JobError)?.message, "\(path): missing key 'output'")
        }
    }
}
