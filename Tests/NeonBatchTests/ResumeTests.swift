import Foundation
import NeonCore
import Storage
import XCTest

/// Interrupted exports: SIGTERM stops cleanly with exit 75 and a resumable output; SIGKILL of a
/// rank ends the job; a resumed run gives the same file as an uninterrupted one.
final class ResumeTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws {
        fx = try Fixture()
        try fx.writeSlowExport()
    }

    override func tearDown() { fx.remove() }

    /// Starts a run, sends `signal` to the neon-batch processes (all ranks, or the last one) once
    /// some blocks are done, and returns the result.
    func interrupted(_ job: String, signal: Int32, allRanks: Bool) throws -> NeonBatchProcess.Result {
        let (r, sent) = try NeonBatchProcess.run([job, "-q"], ranks: 2, job: job, output: fx.path("out.h5"),
                                                 progress: RelevanceOutput.blockDoneDataset, afterBlocks: 3) { pids in
            for pid in allRanks ? pids : Array(pids.suffix(1)) { kill(pid, signal) }
        }
        XCTAssertTrue(sent, "the run ended before it could be interrupted")
        return r
    }

    func compare(_ a: String, _ b: String) throws {
        let x = try StoredFile(path: a), y = try StoredFile(path: b)
        XCTAssertEqual(try x.stringAttribute("status"), "complete")
        XCTAssertEqual(try y.stringAttribute("status"), "complete")
        for name in ["relevance", "logit", RelevanceOutput.blockConservationDataset] {
            XCTAssertEqual(try x.doubles(name), try y.doubles(name), name)
        }
        XCTAssertEqual(try x.int64s("assignment"), try y.int64s("assignment"))
        let timing: Set = ["created", "elapsed_seconds", "job", "job_file"]
        for name in x.attributeNames() where !timing.contains(name) {
            XCTAssertEqual(try? x.stringAttribute(name), try? y.stringAttribute(name), name)
            XCTAssertEqual(x.numberAttribute(name), y.numberAttribute(name), name)
        }
    }

    func testSigtermStopsCleanlyAndResumeGivesTheSameFile() throws {
        let ref = try fx.writeJob("ref.json", output: "ref.h5", blockRows: 512)
        XCTAssertEqual(try NeonBatchProcess.run([ref, "-q"], ranks: 2).status, 0)
        let job = try fx.writeJob(blockRows: 512)
        let r = try interrupted(job, signal: SIGTERM, allRanks: true)
        XCTAssertEqual(r.status, 75, r.stderr)
        XCTAssertTrue(r.stderr.contains("neon-batch: stopped by SIGTERM after"), r.stderr)
        do {    // (closed again before the resumed run rewrites the file)
            let partial = try StoredFile(path: fx.path("out.h5"))
            XCTAssertEqual(try partial.stringAttribute("status"), "incomplete")
            let done = partial.numberAttribute("blocks_done") ?? 0
            XCTAssertGreaterThan(done, 0)
            XCTAssertLessThan(done, partial.numberAttribute("blocks") ?? 0)
        }
        // without resume or overwrite the partial output is protected
        let again = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(again.status, 1)
        let resumed = try NeonBatchProcess.run([job, "--resume"], ranks: 2)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
        try compare(fx.path("ref.h5"), fx.path("out.h5"))
        // a complete output is left as it is
        let twice = try NeonBatchProcess.run([job, "--resume"], ranks: 2)
        XCTAssertEqual(twice.status, 0)
        XCTAssertTrue(twice.stdout.contains("already complete"), twice.stdout)
    }

    func testKilledRankEndsTheJobAndResumeCompletesIt() throws {
        let ref = try fx.writeJob("ref.json", output: "ref.h5", blockRows: 512)
        XCTAssertEqual(try NeonBatchProcess.run([ref, "-q"], ranks: 2).status, 0)
        let job = try fx.writeJob(blockRows: 512, extra: "")
        let r = try interrupted(job, signal: SIGKILL, allRanks: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertNotEqual(try StoredFile(path: fx.path("out.h5")).stringAttribute("status"), "complete")
        let resumed = try NeonBatchProcess.run([job, "--resume", "-q"], ranks: 3)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try compare(fx.path("ref.h5"), fx.path("out.h5"))
    }

    func testResumeWithAnotherModelOrJobIsRefused() throws {
        let job = try fx.writeJob(blockRows: 512)
        _ = try interrupted(job, signal: SIGTERM, allRanks: true)
        let data = Fixture.blobs(rows: 10, features: 64, clusters: 200, seed: 99)
        try fx.writeModel("other.h5", clusters: 200, features: 64, centroids: data.centroids)
        let other = try fx.writeJob("other.json", model: "other.h5", blockRows: 512)
        let r = try NeonBatchProcess.run([other, "--resume"], ranks: 2)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines.count, 1)
        XCTAssertTrue(r.errorLines.first?.hasPrefix("neon-batch: error: \(fx.path("out.h5")): cannot resume: model differs") == true,
                      r.stderr)
        let beta = try fx.writeJob("beta.json", beta: "0.5", blockRows: 512)
        let b = try NeonBatchProcess.run([beta, "--resume"], ranks: 2)
        XCTAssertEqual(b.errorLines, ["neon-batch: error: \(fx.path("out.h5")): cannot resume: explain.beta differs (the partial output was made with auto, the job has 0.5)"])
    }

    /// Resume is model-generic: a kernel k-means export (conservative rule) stopped by SIGTERM
    /// and resumed equals an uninterrupted run.
    func testKernelKMeansExportResumesToTheSameFile() throws {
        let (d, k, perCluster) = (64, 40, 10)
        var rng = SplitMix64(seed: 33)
        let centres = Fixture.blobs(rows: 1, features: d, clusters: k, seed: 21).centroids
        let u = (0..<(k * perCluster)).flatMap { j in (0..<d).map { centres[(j / perCluster) * d + $0] + rng.normal() } }
        let f = try H5WriteFile(creating: fx.path("kernel.h5"), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", 0.05)
        try f.write("support_vectors", element: .float64, rows: k * perCluster, columns: d, values: u)
        try f.write("support_cluster", element: .int64, dims: [k * perCluster],
                    values: (0..<(k * perCluster)).map { Int64($0 / perCluster) })
        try f.close()
        let ref = try fx.writeJob("kref.json", model: "kernel.h5", output: "ref.h5", blockRows: 512, kernelRule: "conservative")
        XCTAssertEqual(try NeonBatchProcess.run([ref, "-q"], ranks: 2).status, 0)
        let job = try fx.writeJob("kjob.json", model: "kernel.h5", blockRows: 512, kernelRule: "conservative")
        let r = try interrupted(job, signal: SIGTERM, allRanks: true)
        XCTAssertEqual(r.status, 75, r.stderr)
        let resumed = try NeonBatchProcess.run([job, "--resume", "-q"], ranks: 2)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try compare(fx.path("ref.h5"), fx.path("out.h5"))
    }
}
