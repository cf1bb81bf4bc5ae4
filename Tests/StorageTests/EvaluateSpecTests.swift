import XCTest
import Storage

/// explain.method / steps / samples / seed and the `evaluate` section: values and exact messages.
final class EvaluateSpecTests: XCTestCase {
    let path = "/jobs/job.json"

    func job(explain: String? = nil, evaluate: String? = nil) -> String {
        var text = #"{"input": {"file": "d.h5", "dataset": "x"}, "model": {"file": "m.h5"}, "output": {"file": "o.h5"}"#
        if let explain { text += #", "explain": "# + explain }
        if let evaluate { text += #", "evaluate": "# + evaluate }
        return text + "}"
    }

    func assertFails(_ text: String, _ suffix: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try JobSpec.parse(text: text, jobPath: path)
            XCTFail("expected \(suffix)", file: file, line: line)
        } catch let e as JobError {
            XCTAssertEqual(e.message, "\(path): \(suffix)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testDefaults() throws {
        let spec = try JobSpec.parse(text: job(), jobPath: path)
        XCTAssertEqual(spec.method, .neon)
        XCTAssertEqual(spec.steps, 10)
        XCTAssertEqual(spec.samples, 10)
        XCTAssertEqual(spec.seed, 0)
        XCTAssertEqual(spec.evaluate, JobSpec.Evaluate())
        XCTAssertNil(spec.evaluate.methods)
        XCTAssertEqual(spec.evaluate.repeats, 1)
        XCTAssertNil(spec.evaluate.referenceRows)
        XCTAssertNil(spec.evaluate.samples)
        XCTAssertNil(spec.evaluate.sigma)
        XCTAssertNil(spec.evaluate.file)
        XCTAssertEqual(spec.evaluate.blockSamples, 256)
    }

    func testGoodValues() throws {
        let spec = try JobSpec.parse(text: job(
            explain: #"{"method": "pdacs", "steps": 50, "samples": 3, "seed": 9007199254740992}"#,
            evaluate: #"{"methods": ["nca", "neon", "random"], "repeats": 5, "seed": 7, "reference_rows": 2, "samples": 9, "sigma": 0.25, "file": "../e.h5", "block_samples": 7}"#),
            jobPath: path)
        XCTAssertEqual(spec.method, .pdacs)
        XCTAssertEqual(spec.steps, 50)
        XCTAssertEqual(spec.samples, 3)
        XCTAssertEqual(spec.seed, 1 << 53)
        XCTAssertEqual(spec.evaluate.methods, [.nca, .neon, .random])
        XCTAssertEqual(spec.evaluate.repeats, 5)
        XCTAssertEqual(spec.evaluate.seed, 7)
        XCTAssertEqual(spec.evaluate.referenceRows, 2)
        XCTAssertEqual(spec.evaluate.samples, 9)
        XCTAssertEqual(spec.evaluate.sigma, 0.25)
        XCTAssertEqual(spec.evaluate.file, "/e.h5")
        XCTAssertEqual(spec.evaluate.blockSamples, 7)
        XCTAssertNil(try JobSpec.parse(text: job(evaluate: #"{"sigma": "loo"}"#), jobPath: path).evaluate.sigma)
        for name in JobSpec.methodNames {
            XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"method": "\#(name)"}"#), jobPath: path).method.rawValue, name)
        }
    }
}
