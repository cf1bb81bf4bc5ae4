import Foundation
import NeonCore
import Storage
import XCTest

/// Interrupted evaluations (issue 6 for `neon-batch evaluate`): SIGTERM stops after the block in
/// flight with exit 75 and an "incomplete" output whose progress record a resumed run continues;
/// SIGKILL of one rank ends the job; the resumed output equals an uninterrupted run's.
final class EvaluateResumeTests: XCTestCase {
    var fx: Fixture!
    let blocks = 30

    override func setUpWithError() throws {
        fx = try Fixture()
        let (n, d, k) = (600, 12, 5)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 17)
        try fx.writeInput(rows: n, features: d, values: data.x, float32: false)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
    }

    override func tearDown() { fx.remove() }

    /// An evaluation job over every input row in blocks of 20 samples (30 blocks); `file`: the
    /// evaluation output (default: next to output.file).
    func writeJob(_ name: String = "job.json", output: String = "out.h5", seed: Int = 0, file: String? = nil) throws -> String {
        let evaluationFile = file.map { #", "file": "\#($0)""# } ?? ""
        let text = """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
             "output": {"file": "\(output)"}, "explain": {"beta": "auto"},
             "evaluate": {"methods": ["neon", "random", "x2", "pda0"], "repeats": 2,
                          "seed": \(seed), "reference_rows": 300, "block_samples": 20\(evaluationFile)}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    func evaluationPath(_ output: String = "out.h5") -> String {
        fx.path(String(output.dropLast(3)) + ".evaluation.h5")
    }

    /// Starts `evaluate` on 2 ranks, sends `signal` to its processes (all ranks, or the last one)
    /// once 3 blocks are done, and returns the result.
    func interrupted(_ job: String, signal: Int32, allRanks: Bool) throws -> NeonBatchProcess.Result {
        let (r, sent) = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: 2, timeout: 300, job: job, output: evaluationPath(),
                                                 progress: EvaluationOutput.blockDoneDataset, afterBlocks: 3) { pids in
            for pid in allRanks ? pids : Array(pids.suffix(1)) { kill(pid, signal) }
        }
        XCTAssertTrue(sent, "the evaluation ended before it could be interrupted")
        return r
    }

    func compare(_ a: String, _ b: String) throws { try assertSameEvaluation(a, b) }

    func testSigtermStopsTheEvaluationCleanlyAndResumeGivesTheSameOutput() throws {
        let ref = try writeJob("ref.json", output: "ref.h5")
        let full = try NeonBatchProcess.run(["evaluate", ref, "-q"], ranks: 2, timeout: 300)
        XCTAssertEqual(full.status, 0, full.stderr)
        let job = try writeJob()
        let r = try interrupted(job, signal: SIGTERM, allRanks: true)
        XCTAssertEqual(r.status, 75, r.stderr)
        let out = evaluationPath()
        let lines = r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("neon-batch:") }
        XCTAssertEqual(lines.count, 1, r.stderr)       // printed once, by rank 0
        let stop = try XCTUnwrap(lines.first, r.stderr)
        XCTAssertTrue(stop.hasPrefix("neon-batch: stopped by SIGTERM after "), stop)
        XCTAssertTrue(stop.hasSuffix(" of \(blocks) blocks; \(out) is incomplete: continue it with output.resume true (or evaluate --resume) (exit 75)"), stop)
        do {    // (closed again before the resumed run writes the file)
            let partial = try StoredFile(path: out)
            XCTAssertEqual(try partial.stringAttribute("status"), "incomplete")
            let done = try partial.int64s(EvaluationOutput.blockDoneDataset).filter { $0 == 1 }.count
            XCTAssertGreaterThanOrEqual(done, 3)
            XCTAssertLessThan(done, blocks)
            XCTAssertEqual(partial.numberAttribute("blocks_done"), Double(done))
            XCTAssertFalse(partial.exists("summary/mean"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.evaluation.summary.md")))
        }
        // without resume or overwrite the partial output is protected
        let again = try NeonBatchProcess.run(["evaluate", job], ranks: 2)
        XCTAssertEqual(again.errorLines, ["neon-batch: error: \(out): output file exists; set output.overwrite to true to replace it"])
        // resumed on 3 ranks: the same numbers as the uninterrupted 2-rank run
        let resumed = try NeonBatchProcess.run(["evaluate", job, "--resume"], ranks: 3, timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming: "), resumed.stderr)
        try compare(evaluationPath("ref.h5"), out)
        XCTAssertGreaterThan(try StoredFile(path: out).numberAttribute("resumed_blocks") ?? 0, 0)
        for ext in ["summary.csv", "summary.md"] {
            XCTAssertEqual(try String(contentsOfFile: fx.path("ref.evaluation." + ext), encoding: .utf8)
                            .replacingOccurrences(of: "ref.json", with: "job.json"),
                           try String(contentsOfFile: fx.path("out.evaluation." + ext), encoding: .utf8), ext)
        }
        // a complete output is left as it is
        let twice = try NeonBatchProcess.run(["evaluate", job, "--resume"], ranks: 2)
        XCTAssertEqual(twice.status, 0)
        XCTAssertTrue(twice.stderr.contains("is already complete; nothing to do"), twice.stderr)
        try compare(evaluationPath("ref.h5"), out)
    }

    func testKilledRankEndsTheEvaluationAndResumeCompletesIt() throws {
        let ref = try writeJob("ref.json", output: "ref.h5")
        XCTAssertEqual(try NeonBatchProcess.run(["evaluate", ref, "-q"], ranks: 1, timeout: 300).status, 0)
        let job = try writeJob()
        let r = try interrupted(job, signal: SIGKILL, allRanks: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(try StoredFile(path: evaluationPath()).stringAttribute("status"), "incomplete")
        let resumed = try NeonBatchProcess.run(["evaluate", job, "--resume", "-q"], ranks: 2, timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try compare(evaluationPath("ref.h5"), evaluationPath())
    }

    func testResumingWithAnotherSeedOrModelIsRefused() throws {
        let job = try writeJob()
        XCTAssertEqual(try interrupted(job, signal: SIGTERM, allRanks: true).status, 75)
        let out = evaluationPath()
        let seed = try writeJob("seed.json", seed: 7)
        let s = try NeonBatchProcess.run(["evaluate", seed, "--resume"], ranks: 2)
        XCTAssertEqual(s.status, 1)
        XCTAssertEqual(s.errorLines, ["neon-batch: error: \(out): cannot resume: evaluate.seed differs (the partial output was made with 0, the job has 7)"])
        let data = Fixture.blobs(rows: 10, features: 12, clusters: 5, seed: 99)
        try fx.writeModel(clusters: 5, features: 12, centroids: data.centroids)
        let m = try NeonBatchProcess.run(["evaluate", job, "--resume"], ranks: 2)
        XCTAssertEqual(m.status, 1)
        XCTAssertEqual(m.errorLines.count, 1, m.stderr)
        XCTAssertTrue(m.errorLines.first?.hasPrefix("neon-batch: error: \(out): cannot resume: model differs") == true, m.stderr)
        XCTAssertEqual(try StoredFile(path: out).stringAttribute("status"), "incomplete")
    }

    /// The device of the evaluation output fills up between blocks: every rank exits 1 with the
    /// message (printed once), nothing hangs, the file stays "incomplete".
    func testDeviceFillingUpEndsTheEvaluationWithAMessage() throws {
        let (mnt, unmount) = try smallFilesystem("4m")
        defer { unmount() }
        let out = mnt.appendingPathComponent("out.evaluation.h5").path
        let job = try writeJob(file: out)
        let (r, filled) = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: 2, timeout: 300, job: job, output: out,
                                                   progress: EvaluationOutput.blockDoneDataset, afterBlocks: 2) { pids in
            NeonBatchProcess.fillDevice(mnt, whilePausing: pids)
        }
        XCTAssertTrue(filled, "the evaluation ended before the device could be filled")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(out): cannot write the output: no space left on the device"], r.stderr)
        XCTAssertNotEqual(try? StoredFile(path: out).stringAttribute("status"), "complete")
    }

    /// An evaluation output that cannot fit its device is refused before anything is created.
    func testOutputThatCannotFitIsRefusedUpFront() throws {
        let (mnt, unmount) = try smallFilesystem("512k")
        defer { unmount() }
        let out = mnt.appendingPathComponent("out.evaluation.h5").path
        let job = try writeJob(file: out)
        let shape = EvaluationOutputFile.Shape(samples: 600, methods: 4, repeats: 2, features: 12, blocks: 30)
        let r = try NeonBatchProcess.run(["evaluate", job, "-q"], ranks: 2)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.errorLines, [String(format: "neon-batch: error: \(out): the output needs %.1f MB but its device has 0.5 MB free",
                                             Double(shape.expectedBytes) / 1e6)], r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
