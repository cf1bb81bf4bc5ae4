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
}
