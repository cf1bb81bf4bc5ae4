import Foundation
import XCTest

/// A file of the wrong kind for a command gets a message that says what the file is and which
/// command takes it.
final class WrongFileKindTests: XCTestCase {
    var fx: Fixture!
    var job = "", fitJob = "", evalJob = ""

    override func setUpWithError() throws {
        fx = try Fixture()
        XCTAssertEqual(try NeonBatchProcess.run(["demo", fx.dir.path, "--rows", "200", "--features", "4", "--clusters", "3"]).status, 0)
        job = fx.path("job.json")
        fitJob = fx.path("fit.json")
        try #"{"input": {"file": "data.h5", "dataset": "features"}, "output": {"file": "fitted.h5"}, "fit": {"algorithm": "kmeans", "clusters": 3}}"#
            .write(toFile: fitJob, atomically: true, encoding: .utf8)
        evalJob = fx.path("eval.json")
        try #"{"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"}, "output": {"file": "out.h5"}, "evaluate": {"methods": ["neon", "random"], "repeats": 1, "reference_rows": 50, "samples": 20}}"#
            .write(toFile: evalJob, atomically: true, encoding: .utf8)
    }

    override func tearDown() { fx.remove() }

    func assertFails(_ args: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try NeonBatchProcess.run(args)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(message)"], file: file, line: line)
    }

    func testJobFilesOfTheOtherKind() throws {
        try assertFails(["validate", fitJob], "\(fitJob): a fit job (it has a 'fit' section), not an explain job: run it with `neon-batch fit \(fitJob)`")
        try assertFails([fitJob], "\(fitJob): a fit job (it has a 'fit' section), not an explain job: run it with `neon-batch fit \(fitJob)`")
        try assertFails(["fit", job], "\(job): an explain job (it has a 'model' section), not a fit job: run it with `neon-batch run \(job)`")
        try assertFails(["elbow", job, "--clusters", "2-3"], "\(job): an explain job (it has a 'model' section), not a fit job: run it with `neon-batch run \(job)`")
        try assertFails(["fit", evalJob], "\(evalJob): an evaluation job (it has an 'evaluate' section), not a fit job: run it with `neon-batch evaluate \(evalJob)`")
    }

    func testAnHDF5FileWhereAJobFileBelongs() throws {
        let data = fx.path("data.h5")
        let message = "\(data): an HDF5 file, not a job file (JSON): look at an output with `neon-batch inspect \(data)`; a job file names input and model files (`neon-batch demo DIR` writes an example)"
        try assertFails(["validate", data], message)
        try assertFails([data], message)
        try assertFails(["fit", data], message)
    }

    func testInspectAndRenderOfFilesThatAreNotOutputs() throws {
        for command in [["inspect"], ["render", "--out", fx.path("charts")]] {
            try assertFails(command + [job], "\(job): a job file (JSON), not an output: run it with `neon-batch run \(job)`; inspect and render take the output file it writes")
            try assertFails(command + [fitJob], "\(fitJob): a fit job (JSON), not an output: run it with `neon-batch fit \(fitJob)`; inspect and render take the output file it writes")
            let model = fx.path("model.h5")
            try assertFails(command + [model], "\(model): a model file (kind 'kmeans'), not an output: a job names it as model.file; inspect and render take a job's output.file")
        }
        XCTAssertEqual(try NeonBatchProcess.run(["evaluate", evalJob, "-q"]).status, 0)
        let evaluation = fx.path("out.evaluation.h5")
        try assertFails(["inspect", evaluation], "\(evaluation): an evaluation output (of `neon-batch evaluate`), not an explanation output: its summary is \(fx.path("out.evaluation.summary.md")); inspect and render take a job's output.file")
    }
}
