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
        XCTAssertEqual(spec.method, "neon")
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
        XCTAssertEqual(spec.method, "pdacs")
        XCTAssertEqual(spec.steps, 50)
        XCTAssertEqual(spec.samples, 3)
        XCTAssertEqual(spec.seed, 1 << 53)
        XCTAssertEqual(spec.evaluate.methods, ["nca", "neon", "random"])
        XCTAssertEqual(spec.evaluate.repeats, 5)
        XCTAssertEqual(spec.evaluate.seed, 7)
        XCTAssertEqual(spec.evaluate.referenceRows, 2)
        XCTAssertEqual(spec.evaluate.samples, 9)
        XCTAssertEqual(spec.evaluate.sigma, 0.25)
        XCTAssertEqual(spec.evaluate.file, "/e.h5")
        XCTAssertEqual(spec.evaluate.blockSamples, 7)
        XCTAssertNil(try JobSpec.parse(text: job(evaluate: #"{"sigma": "loo"}"#), jobPath: path).evaluate.sigma)
        for name in JobSpec.methodNames {
            XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"method": "\#(name)"}"#), jobPath: path).method, name)
        }
    }

    func testBadExplainValues() {
        let list = #""neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca""#
        for bad in [#""NEON""#, #""lrp""#, "1", "null", #"["neon"]"#, #""""#] {
            assertFails(job(explain: #"{"method": \#(bad)}"#), "explain.method must be one of \(list)")
        }
        for bad in ["0", "-1", "100001", "2.5", #""10""#, "true"] {
            assertFails(job(explain: #"{"steps": \#(bad)}"#), "explain.steps must be an integer from 1 to 100000")
            assertFails(job(explain: #"{"samples": \#(bad)}"#), "explain.samples must be an integer from 1 to 100000")
        }
        for bad in ["-1", "9007199254740994", "0.5", #""1""#] {
            assertFails(job(explain: #"{"seed": \#(bad)}"#), "explain.seed must be an integer from 0 to 9007199254740992")
        }
        assertFails(job(explain: #"{"modes": 1}"#), "unknown key 'explain.modes'; did you mean 'mode'?")
    }

    func testBadEvaluateValues() {
        let list = #""neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca""#
        for bad in ["[]", #""neon""#, "1", "null", "{}"] {
            assertFails(job(evaluate: #"{"methods": \#(bad)}"#), "evaluate.methods must be a non-empty array of method names")
        }
        assertFails(job(evaluate: #"{"methods": ["neon", "lime"]}"#), "evaluate.methods[1] must be one of \(list)")
        assertFails(job(evaluate: #"{"methods": [1]}"#), "evaluate.methods[0] must be one of \(list)")
        assertFails(job(evaluate: #"{"methods": ["x2", "neon", "x2"]}"#), #"evaluate.methods lists "x2" twice"#)
        for bad in ["0", "10001", "1.5", #""3""#] {
            assertFails(job(evaluate: #"{"repeats": \#(bad)}"#), "evaluate.repeats must be an integer from 1 to 10000")
        }
        for bad in ["-3", "1e17", #""0""#] {
            assertFails(job(evaluate: #"{"seed": \#(bad)}"#), "evaluate.seed must be an integer from 0 to 9007199254740992")
        }
        for bad in ["1", "0", "1048577", "100.5", "null"] {
            assertFails(job(evaluate: #"{"reference_rows": \#(bad)}"#), "evaluate.reference_rows must be an integer from 2 to 1048576")
        }
        for bad in ["0", "2147483648", "1.5", "null"] {
            assertFails(job(evaluate: #"{"samples": \#(bad)}"#), "evaluate.samples must be an integer from 1 to 2147483647")
        }
        for bad in ["0", "-1", #""LOO""#, "null", "[1]"] {
            assertFails(job(evaluate: #"{"sigma": \#(bad)}"#), #"evaluate.sigma must be "loo" or a positive finite number"#)
        }
        for bad in ["0", "1048577", "2.5", #""64""#, "null"] {
            assertFails(job(evaluate: #"{"block_samples": \#(bad)}"#), "evaluate.block_samples must be an integer from 1 to 1048576")
        }
        for bad in [#""""#, "1", "null"] {
            assertFails(job(evaluate: #"{"file": \#(bad)}"#), "evaluate.file must be a non-empty string")
        }
        assertFails(job(evaluate: #"{"method": ["neon"]}"#), "unknown key 'evaluate.method'; did you mean 'methods'?")
        assertFails(job(evaluate: "[]"), "'evaluate' must be an object")
    }
}
