import Foundation
import Storage
import XCTest

/// The batch scripts in slurm/ on a real single-node SLURM cluster (started for this class and
/// stopped after it, also when a test fails; a cluster that was already running is used and left
/// running; scripts/test.sh stops the daemons the tests started if the test process dies): the
/// template against a direct mpirun run, a failing job, a job array plus the join step, and the
/// time-limit path (stop, requeue, resume). NEON_SLURM_TESTS=0 skips them; so does not being root.
final class SlurmTests: XCTestCase {
    nonisolated(unsafe) static var startError: String?
    nonisolated(unsafe) static var started = false
    var fx: Fixture!

    /// The daemons run as root (SlurmUser=root), and start-slurm.sh installs with apt-get.
    static var enabled: Bool { ProcessInfo.processInfo.environment["NEON_SLURM_TESTS"] != "0" && geteuid() == 0 }

    override class func setUp() {
        super.setUp()
        guard enabled else { return }
        (startError, started) = SlurmCluster.start()
    }

    override class func tearDown() {
        if started { SlurmCluster.stop() }
        super.tearDown()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(Self.enabled, "NEON_SLURM_TESTS=0, or not root (the test cluster needs root)")
        if let e = Self.startError { XCTFail(e); throw XCTSkip("no SLURM cluster") }
        fx = try Fixture()
    }

    override func tearDown() { fx?.remove() }

    /// sbatch ARGS in the fixture folder; returns the result and the job id.
    func sbatch(_ args: [String], timeout: TimeInterval = 180) throws -> (SlurmCluster.Result, String?) {
        let r = try SlurmCluster.run(["sbatch"] + args, in: fx.dir.path, timeout: timeout)
        XCTAssertFalse(r.timedOut, "sbatch \(args.joined(separator: " ")) did not end within \(timeout) s")
        return (r, SlurmCluster.jobID(r.output))
    }

    func log(_ name: String) -> String { (try? String(contentsOfFile: fx.path(name), encoding: .utf8)) ?? "" }

    var template: String { SlurmCluster.script("neon-batch.sbatch") }

    func testTemplateGivesTheSameOutputAsMpirun() throws {
        let demo = try NeonBatchProcess.run(["demo", fx.dir.path])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let (r, id) = try sbatch(["--wait", "-n", "2", "-o", "slurm.log", template, "job.json"])
        XCTAssertEqual(r.status, 0, r.output + log("slurm.log"))
        let plugin = NeonBatchProcess.builtAgainstMPICH ? "pmi2" : "pmix"
        XCTAssertTrue(log("slurm.log").contains("srun --mpi=\(plugin)"), log("slurm.log"))
        XCTAssertTrue(log("slurm.log").contains("on 2 ranks"), log("slurm.log"))
        XCTAssertEqual(SlurmCluster.field("JobState", ofJob: id ?? "?"), "COMPLETED")
        try FileManager.default.moveItem(atPath: fx.path("out.h5"), toPath: fx.path("slurm.h5"))
        let direct = try NeonBatchProcess.run([fx.path("job.json"), "-q"], ranks: 2)
        XCTAssertEqual(direct.status, 0, direct.stderr)
        try assertSameOutput(fx.path("slurm.h5"), fx.path("out.h5"))
        XCTAssertEqual(try StoredFile(path: fx.path("slurm.h5")).numberAttribute("ranks"), 2)
    }

    func testFailingJobEndsFailedWithTheMessageInItsLog() throws {
        try #"{"input": {"file": "data.h5"}}"#.write(toFile: fx.path("bad.json"), atomically: true, encoding: .utf8)
        let (r, id) = try sbatch(["--wait", "-n", "2", "-o", "bad.log", template, "bad.json"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertEqual(SlurmCluster.field("JobState", ofJob: id ?? "?"), "FAILED")
        XCTAssertEqual(SlurmCluster.field("ExitCode", ofJob: id ?? "?"), "1:0")
        let errors = log("bad.log").split(separator: "\n").filter { $0.hasPrefix("neon-batch: error: ") }
        XCTAssertEqual(errors, ["neon-batch: error: \(fx.path("bad.json")): missing key 'input.dataset'"], log("bad.log"))
    }

    /// 3 array tasks (1 rank each) and the dependent join give the file of a single run.
    func testJobArrayAndJoinGiveTheSingleRunFile() throws {
        let (n, d, k) = (3000, 8, 5)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 31)
        try fx.writeInput(rows: n, features: d, values: data.x)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        let job = try fx.writeJob(blockRows: 300)            // 10 blocks: parts of 3, 3 and 4
        let single = try NeonBatchProcess.run([job, "-q"], ranks: 1)
        XCTAssertEqual(single.status, 0, single.stderr)
        try FileManager.default.moveItem(atPath: fx.path("out.h5"), toPath: fx.path("single.h5"))
        let r = try SlurmCluster.run([SlurmCluster.script("export-array.sh"), "--wait", "job.json", "3", "-n", "1"],
                                     in: fx.dir.path, timeout: 240)
        let logs = (try FileManager.default.contentsOfDirectory(atPath: fx.dir.path)).filter { $0.hasSuffix(".log") }.sorted()
        XCTAssertEqual(r.status, 0, r.output + logs.map(log).joined())
        XCTAssertEqual(logs.filter { $0.hasPrefix("neon-batch-") }.count, 3, "\(logs)")
        for i in 0..<3 {
            let part = logs.first { $0.hasSuffix("_\(i).log") }.map(log) ?? ""
            XCTAssertTrue(part.contains("--part \(i)/3"), part)
            XCTAssertEqual(try StoredFile(path: fx.path("out.part-\(i)-of-3.h5")).numberAttribute("rows"), i == 2 ? 1200 : 900)
        }
        XCTAssertTrue(logs.filter { $0.hasPrefix("neon-join-") }.map(log).joined().contains("joined 3 parts (rows 0..<3000 of 3000"))
        try assertSameOutput(fx.path("out.h5"), fx.path("single.h5"))
    }

    /// A failing array task: the join is cancelled and export-array.sh --wait says so (no hang).
    func testFailingArrayTaskCancelsTheJoin() throws {
        try #"{"input": {"file": "data.h5"}}"#.write(toFile: fx.path("bad.json"), atomically: true, encoding: .utf8)
        let r = try SlurmCluster.run([SlurmCluster.script("export-array.sh"), "--wait", "bad.json", "2", "-n", "1"],
                                     in: fx.dir.path, timeout: 240)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("ended CANCELLED (did an array task fail?"), r.output)
        let logs = try FileManager.default.contentsOfDirectory(atPath: fx.dir.path).filter { $0.hasPrefix("neon-batch-") }
        XCTAssertEqual(logs.count, 2)
        for name in logs {
            XCTAssertTrue(log(name).contains("neon-batch: error: \(fx.path("bad.json")): missing key 'input.dataset'"), log(name))
        }
    }

    /// Writes a job of 235 blocks and its uninterrupted output ref.h5.
    func writeSlowJobAndReference() throws {
        try fx.writeSlowExport()
        let job = try fx.writeJob(blockRows: 128)    // 235 blocks
        let ref = try NeonBatchProcess.run([job, "-q"], ranks: 2)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        try FileManager.default.moveItem(atPath: fx.path("out.h5"), toPath: fx.path("ref.h5"))
    }

    /// Submits the template with 2 ranks (log run.log) and, once 3 blocks are done, pauses the
    /// ranks (SIGSTOP), sends `signal` to the batch script, waits until the SIGTERM the script
    /// forwards is pending at every rank and lets them go on: the stop reaches the ranks with most
    /// blocks still to do however fast the machine is (the signal's path through slurmctld, slurmd,
    /// the script and the step takes longer than the whole job). Returns the job id.
    func submitAndSignal(_ signal: String) throws -> String {
        // (the job's full path identifies its ranks: no other process on the machine has it)
        let job = fx.path("job.json")
        let (r, submitted) = try sbatch(["-n", "2", "-o", "run.log", template, job])
        let id = try XCTUnwrap(submitted, r.output)
        var ranks: [Int32] = []
        let someDone = SlurmCluster.poll(timeout: 120, every: 0.01) {
            guard NeonBatchProcess.blocksDone(fx.path("out.h5"), progress: RelevanceOutput.blockDoneDataset) >= 3 else { return false }
            ranks = NeonBatchProcess.childPIDs(matching: job)
            ranks.forEach { kill($0, SIGSTOP) }
            return true
        }
        XCTAssertTrue(someDone, "no blocks done: " + log("run.log"))
        XCTAssertEqual(ranks.count, 2, "the ranks ended before they could be paused: " + log("run.log"))
        defer { ranks.forEach { kill($0, SIGCONT) } }
        XCTAssertEqual(try SlurmCluster.run(["scancel", "--batch", "--signal=\(signal)", id], timeout: 30).status, 0)
        let forwarded = SlurmCluster.poll(timeout: 60, every: 0.05) { ranks.allSatisfy { Self.pending(SIGTERM, at: $0) } }
        XCTAssertTrue(forwarded, "SIGTERM did not reach the paused ranks: " + log("run.log"))
        return id
    }

    /// Whether `sig` is pending at process `pid` (a paused process keeps it pending).
    static func pending(_ sig: Int32, at pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let bit = UInt64(1) << UInt64(sig - 1)
        return status.split(separator: "\n").contains { line in
            guard line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"),
                  let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return false }
            return mask & bit != 0
        }
    }

    func assertPartialOutput(file: StaticString = #filePath, line: UInt = #line) throws {
        let partial = try StoredFile(path: fx.path("out.h5"))
        XCTAssertEqual(try partial.stringAttribute("status"), "incomplete", file: file, line: line)
        XCTAssertLessThan(partial.numberAttribute("blocks_done") ?? 0, partial.numberAttribute("blocks") ?? 0,
                          file: file, line: line)
    }

    static let ended = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"]

    /// The time-limit warning (SIGUSR1 to the batch script, as --signal=B:USR1@120 sends it)
    /// stops the ranks cleanly, the script requeues the job and the requeued run resumes.
    func testTimeLimitStopRequeuesAndTheRequeuedRunResumes() throws {
        try writeSlowJobAndReference()
        let id = try submitAndSignal("USR1")
        defer { _ = try? SlurmCluster.run(["scancel", id], timeout: 30) }
        // The script stops the ranks, requeues the job and exits; SLURM holds the job for the
        // credential lifetime (AuthInfo=cred_expire: 10 s on the test cluster, 120 s by default).
        let requeued = SlurmCluster.poll(timeout: 60) {
            SlurmCluster.field("Restarts", ofJob: id) == "1" && SlurmCluster.field("JobState", ofJob: id) == "PENDING"
        }
        XCTAssertTrue(requeued, log("run.log"))
        XCTAssertTrue(log("run.log").contains("neon-batch: stopped by SIGTERM after"), log("run.log"))
        XCTAssertTrue(log("run.log").contains("requeued job \(id)"), log("run.log"))
        try assertPartialOutput()
        let finished = SlurmCluster.poll(timeout: 180) { Self.ended.contains(SlurmCluster.field("JobState", ofJob: id) ?? "") }
        XCTAssertTrue(finished, log("run.log"))
        XCTAssertEqual(SlurmCluster.field("JobState", ofJob: id), "COMPLETED", log("run.log"))
        XCTAssertTrue(log("run.log").contains("restart 1"), log("run.log"))
        XCTAssertTrue(log("run.log").contains("neon-batch: resuming"), log("run.log"))
        try assertSameOutput(fx.path("ref.h5"), fx.path("out.h5"))
    }

    /// SIGTERM to the batch script (scancel, preemption) stops the ranks cleanly without a
    /// requeue (exit 75, FAILED); a new submission with NEON_RESUME=1 completes the output.
    func testSigtermStopsWithoutRequeueAndNeonResumeContinues() throws {
        try writeSlowJobAndReference()
        let id = try submitAndSignal("TERM")
        defer { _ = try? SlurmCluster.run(["scancel", id], timeout: 30) }
        let ended = SlurmCluster.poll(timeout: 60) { Self.ended.contains(SlurmCluster.field("JobState", ofJob: id) ?? "") }
        XCTAssertTrue(ended, log("run.log"))
        XCTAssertEqual(SlurmCluster.field("JobState", ofJob: id), "FAILED", log("run.log"))
        XCTAssertEqual(SlurmCluster.field("ExitCode", ofJob: id), "75:0")
        XCTAssertEqual(SlurmCluster.field("Restarts", ofJob: id), "0")
        XCTAssertTrue(log("run.log").contains("submit again with NEON_RESUME=1 to continue it"), log("run.log"))
        try assertPartialOutput()
        // without NEON_RESUME the partial output is protected
        let (again, _) = try sbatch(["--wait", "-n", "2", "-o", "again.log", template, "job.json"])
        XCTAssertEqual(again.status, 1, again.output)
        XCTAssertTrue(log("again.log").contains("output file exists"), log("again.log"))
        let r = try SlurmCluster.run(["sbatch", "--wait", "-n", "2", "-o", "resume.log", template, "job.json"],
                                     in: fx.dir.path, environment: ["NEON_RESUME": "1"], timeout: 180)
        XCTAssertEqual(r.status, 0, r.output + log("resume.log"))
        XCTAssertTrue(log("resume.log").contains("neon-batch: resuming"), log("resume.log"))
        try assertSameOutput(fx.path("ref.h5"), fx.path("out.h5"))
    }
}
