import Foundation
import XCTest

/// The command line: a mistyped command is named, with a suggestion, instead of being taken for
/// the job file of `run`.
final class CommandLineTests: XCTestCase {
    func testMistypedCommandIsRefusedWithASuggestion() throws {
        let r = try NeonBatchProcess.run(["inpsect", "out.h5"])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: unknown command 'inpsect'; did you mean 'inspect'?"])
        let far = try NeonBatchProcess.run(["frobnicate"])
        XCTAssertEqual(far.status, 64)
        XCTAssertEqual(far.errorLines, ["neon-batch: error: unknown command 'frobnicate'; the commands are run, validate, evaluate, join, demo, inspect, render, fit, elbow (or give a job file: neon-batch JOB.json)"])
        // under mpirun: once, and every rank exits
        let ranks = try NeonBatchProcess.run(["valdate", "job.json"], ranks: 2, timeout: 30)
        XCTAssertEqual(ranks.status, 64)
        XCTAssertEqual(ranks.errorLines, ["neon-batch: error: unknown command 'valdate'; did you mean 'validate'?"])
    }

    func testAJobFileIsStillTakenForRun() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).json").path
        let r = try NeonBatchProcess.run([missing])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(missing): job file does not exist"])
        XCTAssertEqual(try NeonBatchProcess.run(["help"]).status, 0)
    }
}
