import Foundation
import Storage
import XCTest

/// scripts/mpirun.sh: a failed job ends within seconds; SIGINT (Ctrl-C) or SIGTERM to the script
/// stops the ranks cleanly (exit 75, a resumable "incomplete" output).
final class MpirunScriptTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws {
        fx = try Fixture()
        try fx.writeSlowExport()
    }

    override func tearDown() { fx.remove() }

    func testAFailedJobEndsWithinSecondsWithItsOneLineMessage() throws {
        let bad = fx.path("bad.json")
        try "{\"input\":\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let start = Date()
        let r = try NeonBatchProcess.run([bad], ranks: 2, timeout: 90, launcher: NeonBatchProcess.mpirunScript)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(bad): not valid JSON (line 2, column 1: unexpected end of input)"])
        XCTAssertLessThan(seconds, 10, "a failed job took \(seconds) s")      // was 59 s
    }

    func testSigintToTheScriptStopsTheRanksCleanlyAndResumeGivesTheSameFile() throws {
        try assertStopsCleanly(on: SIGINT, "SIGINT")
    }

    func testSigtermToTheScriptStopsTheRanksCleanlyAndResumeGivesTheSameFile() throws {
        try assertStopsCleanly(on: SIGTERM, "SIGTERM")
    }

    /// Sends `signal` to scripts/mpirun.sh (not to the ranks) once 3 blocks are done: exit 75,
    /// the ranks' stop message, an incomplete output that --resume completes to the uninterrupted result.
    func assertStopsCleanly(on signal: Int32, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try fx.writeJob("ref.json", output: "ref.h5", blockRows: 512)
        XCTAssertEqual(try NeonBatchProcess.run([ref, "-q"], ranks: 2).status, 0, file: file, line: line)
        let job = try fx.writeJob(blockRows: 512)
        let out = fx.path("out.h5")
        let script = NeonBatchProcess.StartedProcess()
        var sent: Date?
        let r = try NeonBatchProcess.run([job, "-q"], ranks: 2, launcher: NeonBatchProcess.mpirunScript, started: script) {
            guard sent == nil, NeonBatchProcess.blocksDone(out, progress: RelevanceOutput.blockDoneDataset) >= 3 else { return }
            kill(script.pid, signal)
            sent = Date()
        }
        let stopSeconds = Date().timeIntervalSince(try XCTUnwrap(sent, "the run ended before it could be interrupted", file: file, line: line))
        XCTAssertEqual(r.status, 75, r.stderr, file: file, line: line)
        XCTAssertLessThan(stopSeconds, 20, file: file, line: line)
        let stops = r.stderr.split(separator: "\n").filter { $0.hasPrefix("neon-batch: stopped by \(name) after ") }
        XCTAssertEqual(stops.count, 1, r.stderr, file: file, line: line)
        do {    // (closed again before the resumed run rewrites the file)
            let partial = try StoredFile(path: out)
            XCTAssertEqual(try partial.stringAttribute("status"), "incomplete", file: file, line: line)
            let done = NeonBatchProcess.blocksDone(out, progress: RelevanceOutput.blockDoneDataset)
            XCTAssertGreaterThanOrEqual(done, 3, file: file, line: line)
            XCTAssertLessThan(Double(done), partial.numberAttribute("blocks") ?? 0, file: file, line: line)
        }
        let resumed = try NeonBatchProcess.run([job, "--resume", "-q"], ranks: 2, launcher: NeonBatchProcess.mpirunScript)
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        try assertSameOutput(fx.path("ref.h5"), out, ignoring: ["created", "elapsed_seconds", "job", "job_file"], file: file, line: line)
    }
}
