import Distributed
import Foundation
import NeonCore
import Storage
import NeonTestSupport
import XCTest
@testable import NeonPipeline

/// The pipeline run in this process on the world of one rank (no mpirun): fit a model, explain
/// the data with it, inspect the output; and the set-up's checks with their exact messages.
final class PipelineInProcessTests: XCTestCase {
    var dir: TemporaryDirectory!

    override func setUpWithError() throws {
        HDF5Library.silenceErrorStack()
        dir = try TemporaryDirectory(prefix: "neon-pipeline")
    }

    override func tearDown() { dir.remove() }

    func path(_ name: String) -> String { dir.path(name) }

    /// N rows around K well-separated centres (float32).
    func writeBlobs(rows: Int, features d: Int, clusters K: Int) throws {
        var rng = SplitMix64(seed: 5)
        let centres = (0..<(K * d)).map { _ in 10 * rng.normal() }
        let x = (0..<(rows * d)).map { i in centres[(i / d % K) * d + i % d] + rng.normal() }
        try HDF5Fixtures.writeInput(path("data.h5"), rows: rows, features: d, values: x)
    }

    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    func testFitThenExplainThenInspectInProcess() throws {
        try writeBlobs(rows: 600, features: 6, clusters: 3)
        let fit = try write("fit.json", """
            {"input": {"file": "data.h5", "dataset": "features"}, "output": {"file": "model.h5"},
             "fit": {"algorithm": "kmeans", "clusters": 3, "seed": 1}}
            """)
        XCTAssertEqual(FitRunner(communicator: .world, jobPath: fit, quiet: true).run(), 0)
        let job = try write("job.json", """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
             "output": {"file": "out.h5"}, "execution": {"block_rows": 128}}
            """)
        XCTAssertEqual(JobRunner(communicator: .world, jobPath: job, quiet: true, resume: false).run(), 0)

        let out = try StoredFile(path: path("out.h5"))
        XCTAssertEqual(try out.stringAttribute("status"), "complete")
        XCTAssertEqual(try out.stringAttribute("model_kind"), "kmeans")
        let relevance = try out.doubles("relevance"), logit = try out.doubles("logit")
        XCTAssertEqual(logit.count, 600)
        for r in 0..<600 {
            // f_c > 0 for the assigned cluster, and k-means conserves it (Sec. II-B).
            XCTAssertGreaterThan(logit[r], 0)
            let sum = relevance[(r * 6)..<((r + 1) * 6)].reduce(0, +)
            XCTAssertEqual(sum, logit[r], accuracy: 1e-3 * max(1, logit[r]))
        }
        let report = try InspectReport.read(path: path("out.h5"), top: 3)
        XCTAssertEqual(report.status, "complete")
        XCTAssertTrue(report.text.contains("k-means: min-take-most and the midpoint rule conserve"), report.text)

        // The same job again with --resume: complete already, nothing to do.
        XCTAssertEqual(JobRunner(communicator: .world, jobPath: job, quiet: true, resume: true).run(), 0)
    }

    func testSetUpNamesTheUnsupportedKind() throws {
        try writeBlobs(rows: 10, features: 2, clusters: 2)
        try HDF5Fixtures.write(path("model.h5")) { try $0.setAttribute("kind", "gmm") }
        let job = try write("job.json", """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"}, "output": {"file": "out.h5"}}
            """)
        XCTAssertThrowsError(try JobSetup.load(jobPath: job)) {
            XCTAssertEqual(($0 as? StorageError)?.message,
                           "\(path("model.h5")): model kind 'gmm' is not supported (expected \"kmeans\", \"kernel_kmeans\", \"soft_kmeans\", \"deep_kmeans\", \"deep_soft\" or \"softmax_head\")")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.h5")))
    }

    func testSetUpChecksFeaturesThroughTheKind() throws {
        try writeBlobs(rows: 10, features: 2, clusters: 2)
        try HDF5Fixtures.writeModel(path("model.h5"), clusters: 2, features: 3, centroids: [0, 0, 0, 1, 1, 1])
        let job = try write("job.json", """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"}, "output": {"file": "out.h5"}}
            """)
        XCTAssertThrowsError(try JobSetup.load(jobPath: job)) {
            XCTAssertEqual(($0 as? StorageError)?.message,
                           "\(path("model.h5")): dataset 'centroids' has 3 features but dataset 'features' of \(path("data.h5")) has 2")
        }
    }
}
