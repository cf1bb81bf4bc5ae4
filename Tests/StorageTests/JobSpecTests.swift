import Foundation
import XCTest
import Storage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Job files

final class JobSpecTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        let tmp = URL(fileURLWithPath: NSTemporaryDirectory()).standardizedFileURL.path
        directory = (tmp == "/" ? "" : tmp) + "/jobspec-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if !directory.isEmpty {
            _ = chmod(directory + "/job.json", 0o644)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private var jobPath: String { directory + "/job.json" }

    @discardableResult
    private func write(_ text: String, name: String = "job.json") throws -> String {
        try write(Array(text.utf8), name: name)
    }

    @discardableResult
    private func write(_ bytes: [UInt8], name: String = "job.json") throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A valid job with the given sections (nil leaves a section out).
    private func job(input: String? = #"{"file": "data.h5", "dataset": "features"}"#,
                     model: String? = #"{"file": "model.h5"}"#,
                     output: String? = #"{"file": "out.h5"}"#,
                     explain: String? = nil,
                     execution: String? = nil) -> String {
        var parts: [String] = []
        if let input { parts.append(#""input": "# + input) }
        if let model { parts.append(#""model": "# + model) }
        if let output { parts.append(#""output": "# + output) }
        if let explain { parts.append(#""explain": "# + explain) }
        if let execution { parts.append(#""execution": "# + execution) }
        return "{\n  " + parts.joined(separator: ",\n  ") + "\n}\n"
    }

    /// Writes `text` as job.json, loads it and asserts the exact error message "<job path>: <suffix>".
    private func assertLoadFails(_ text: String, _ suffix: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try write(text)
        assertFails(try JobSpec.load(path: jobPath), "\(jobPath): \(suffix)", file: file, line: line)
    }

    private func assertFails(_ body: @autoclosure () throws -> JobSpec, _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let spec = try body()
            XCTFail("expected error \(message), got \(spec)", file: file, line: line)
        } catch let error as JobError {
            XCTAssertEqual(error.message, message, file: file, line: line)
            XCTAssertEqual(error.description, message, file: file, line: line)
            XCTAssertFalse(error.message.contains("\n"), "message must be one line", file: file, line: line)
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    // MARK: Good jobs

    func testFullJobParsesWithAbsolutePaths() throws {
        let text = """
        {
          "input":     {"file": "data.h5", "dataset": "features"},
          "model":     {"file": "../models/./model.h5"},
          "output":    {"file": "/abs//results/../out.h5", "overwrite": true},
          "explain":   {"beta": 0.5, "target": "assigned"},
          "execution": {"block_rows": 4096}
        }
        """
        try write(text)
        let spec = try JobSpec.load(path: jobPath)
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().standardizedFileURL.path
        XCTAssertEqual(spec.jobPath, jobPath)
        XCTAssertEqual(spec.jobText, text)
        XCTAssertEqual(spec.inputFile, directory + "/data.h5")
        XCTAssertEqual(spec.inputDataset, "features")
        XCTAssertEqual(spec.modelFile, (parent == "/" ? "" : parent) + "/models/model.h5")
        XCTAssertEqual(spec.outputFile, "/abs/out.h5")
        XCTAssertEqual(spec.overwrite, true)
        XCTAssertEqual(spec.beta, .fixed(0.5))
        XCTAssertEqual(spec.target, .assigned)
        XCTAssertEqual(spec.blockRows, 4096)
        XCTAssertEqual(spec, try JobSpec.parse(text: text, jobPath: jobPath))
    }

    func testExampleJobFromDocumentation() throws {
        let text = """
        {
          "input":     {"file": "data.h5", "dataset": "features"},
          "model":     {"file": "model.h5"},
          "output":    {"file": "out.h5", "overwrite": false},
          "explain":   {"beta": "auto", "target": "assigned"},
          "execution": {"block_rows": 8192}
        }
        """
        try write(text)
        let spec = try JobSpec.load(path: jobPath)
        XCTAssertEqual(spec, JobSpec(jobPath: jobPath, jobText: text, inputFile: directory + "/data.h5",
                                     inputDataset: "features", modelFile: directory + "/model.h5",
                                     outputFile: directory + "/out.h5", overwrite: false, beta: .auto,
                                     target: .assigned, blockRows: 8192))
    }

    func testDefaultsWhenOptionalSectionsAndKeysAreMissing() throws {
        try write(job())
        let spec = try JobSpec.load(path: jobPath)
        XCTAssertEqual(spec.overwrite, false)
        XCTAssertEqual(spec.beta, .auto)
        XCTAssertEqual(spec.target, .assigned)
        XCTAssertEqual(spec.blockRows, JobSpec.defaultBlockRows)
        XCTAssertEqual(JobSpec.defaultBlockRows, 8192)
        XCTAssertEqual(JobSpec.maxJobFileBytes, 1 << 20)

        let empty = try JobSpec.parse(text: job(explain: "{}", execution: "{}"), jobPath: jobPath)
        XCTAssertEqual(empty.beta, .auto)
        XCTAssertEqual(empty.blockRows, 8192)
    }

    func testLoadWithNonStandardPathStandardizesJobPath() throws {
        try write(job())
        let spec = try JobSpec.load(path: directory + "/./sub/../job.json")
        XCTAssertEqual(spec.jobPath, jobPath)
        XCTAssertEqual(spec.inputFile, directory + "/data.h5")
    }

    func testParseWithoutPathResolvesAgainstCurrentDirectory() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let spec = try JobSpec.parse(text: job(), jobPath: "")
        XCTAssertEqual(spec.jobPath, "")
        XCTAssertEqual(spec.inputFile, (cwd == "/" ? "" : cwd) + "/data.h5")
        assertFails(try JobSpec.parse(text: "[]", jobPath: ""), "<job>: the job must be a JSON object")
    }

    func testParseWithRelativeJobPathMakesItAbsolute() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let base = cwd == "/" ? "" : cwd
        let spec = try JobSpec.parse(text: job(), jobPath: "jobs/a.json")
        XCTAssertEqual(spec.jobPath, base + "/jobs/a.json")
        XCTAssertEqual(spec.inputFile, base + "/jobs/data.h5")
    }

    func testAcceptedValueVariants() throws {
        var spec = try JobSpec.parse(text: job(explain: #"{"beta": 2}"#, execution: #"{"block_rows": 1}"#), jobPath: jobPath)
        XCTAssertEqual(spec.beta, .fixed(2))
        XCTAssertEqual(spec.blockRows, 1)
        spec = try JobSpec.parse(text: job(explain: #"{"beta": 1e-3}"#, execution: #"{"block_rows": 1048576}"#), jobPath: jobPath)
        XCTAssertEqual(spec.beta, .fixed(0.001))
        XCTAssertEqual(spec.blockRows, 1_048_576)
        // Integral values written with a fraction or exponent are integers.
        spec = try JobSpec.parse(text: job(execution: #"{"block_rows": 4.096e3}"#), jobPath: jobPath)
        XCTAssertEqual(spec.blockRows, 4096)
        spec = try JobSpec.parse(text: job(input: #"{"dataset": "x/y", "file": "/data/in.h5"}"#), jobPath: jobPath)
        XCTAssertEqual(spec.inputFile, "/data/in.h5")
        XCTAssertEqual(spec.inputDataset, "x/y")
    }

    func testExactlyMaxSizeIsAccepted() throws {
        var bytes = Array(job().utf8)
        bytes += [UInt8](repeating: 0x20, count: JobSpec.maxJobFileBytes - bytes.count)
        try write(bytes)
        XCTAssertEqual(try JobSpec.load(path: jobPath).inputDataset, "features")
    }

    // MARK: File errors

    func testMissingFile() {
        assertFails(try JobSpec.load(path: directory + "/nope.json"), "\(directory)/nope.json: job file does not exist")
        assertFails(try JobSpec.load(path: directory + "/nope/job.json"), "\(directory)/nope/job.json: job file does not exist")
    }

    func testDirectory() {
        assertFails(try JobSpec.load(path: directory + "/"), "\(directory): job file is a directory")
    }

    func testUnreadableFile() throws {
        guard getuid() != 0 else { throw XCTSkip("running as root: permissions do not prevent reading") }
        try write(job())
        XCTAssertEqual(chmod(jobPath, 0), 0)
        assertFails(try JobSpec.load(path: jobPath), "\(jobPath): cannot read job file (Permission denied)")
    }

    func testUnreadableSocket() throws {
        #if os(Linux)
        let path = directory + "/job.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8) + [0]
        guard pathBytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { throw XCTSkip("temp path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            pathBytes.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        XCTAssertEqual(bound, 0)
        assertFails(try JobSpec.load(path: path), "\(path): cannot read job file (No such device or address)")
        #else
        throw XCTSkip("Linux only")
        #endif
    }

    func testTooLarge() throws {
        try write([UInt8](repeating: 0x20, count: JobSpec.maxJobFileBytes + 1))
        assertFails(try JobSpec.load(path: jobPath), "\(jobPath): job file is larger than 1 MiB")
    }

    func testNotUTF8() throws {
        try write([0x7B, 0x22, 0xFF, 0x22, 0x7D])
        assertFails(try JobSpec.load(path: jobPath), "\(jobPath): job file is not UTF-8 text")
        try write([0x7B, 0xC3, 0x7D])  // truncated sequence
        assertFails(try JobSpec.load(path: jobPath), "\(jobPath): job file is not UTF-8 text")
    }

    // MARK: JSON errors

    func testInvalidJSON() throws {
        try assertLoadFails("", "not valid JSON (line 1, column 1: unexpected end of input)")
        try assertLoadFails("{\n  \"input\": }\n", "not valid JSON (line 2, column 12: unexpected character '}')")
        try assertLoadFails("{\"input\": {},}", "not valid JSON (line 1, column 13: trailing comma)")
        try assertLoadFails("{} {}", "not valid JSON (line 1, column 4: trailing characters after the JSON value)")
        try assertLoadFails("{\n// comment\n}", "not valid JSON (line 2, column 1: comments are not allowed)")
        try assertLoadFails("{\"input\": \"abc", "not valid JSON (line 1, column 11: unterminated string)")
    }

    func testDuplicateKeyIsAJSONError() throws {
        let text = "{\n  \"explain\": {\"beta\": 1,\n    \"beta\": 2}\n}"
        try assertLoadFails(text, "not valid JSON (line 3, column 5: duplicate key 'beta')")
        try assertLoadFails(#"{"input": {}, "input": {}}"#, "not valid JSON (line 1, column 15: duplicate key 'input')")
    }

    func testNumberOutOfRange() throws {
        try assertLoadFails(job(explain: #"{"beta": 1e999}"#),
                            "not valid JSON (line 5, column 23: number out of range)")
    }

    // MARK: Structure errors

    func testUnknownKeyNamesTheClosestKeyWithinTwoEdits() throws {
        try assertLoadFails(job(execution: #"{"blok_rows": 10}"#), "unknown key 'execution.blok_rows'; did you mean 'block_rows'?")
        try assertLoadFails(job(explain: #"{"bta": 1}"#), "unknown key 'explain.bta'; did you mean 'beta'?")
        try assertLoadFails(#"{"ouptut": {}}"#, "unknown key 'ouptut'; did you mean 'output'?")
        try assertLoadFails(job(execution: #"{"rows_per_block": 10}"#), "unknown key 'execution.rows_per_block'")
        XCTAssertEqual(Suggestion.closest(to: "inpsect", among: ["inspect", "input"]), "inspect")
        XCTAssertEqual(Suggestion.closest(to: "abc", among: ["xyz"]), nil)
        XCTAssertEqual(Suggestion.closest(to: "", among: ["ab", "abc"]), "ab")
        XCTAssertEqual(Suggestion.closest(to: "beta", among: ["beta"]), nil)
    }

    // MARK: Value errors

    func testBeta() throws {
        for bad in ["0", "-1", "-0.5", "0.0", "\"Auto\"", "\"fixed\"", "\"1\"", "null", "true", "false", "[]", "{}"] {
            try assertLoadFails(job(explain: #"{"beta": \#(bad)}"#), #"explain.beta must be "auto" or a positive finite number"#)
        }
        try assertLoadFails(job(explain: #"{"beta": 1e999}"#), "not valid JSON (line 5, column 23: number out of range)")
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"beta": 5e-324}"#), jobPath: jobPath).beta,
                       .fixed(Double.leastNonzeroMagnitude))
    }

    func testTarget() throws {
        for bad in ["\"predicted\"", "\"Assigned\"", "1", "null", "true", "[\"assigned\"]", "[]", "[1, 1]", "[-1]", "[1.5]", "\"ALL\""] {
            try assertLoadFails(job(explain: #"{"target": \#(bad)}"#), #"explain.target must be "assigned", "all" or a non-empty list of distinct cluster indices"#)
        }
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"target": "all"}"#), jobPath: jobPath).target, .all)
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"target": [3, 0, 7]}"#), jobPath: jobPath).target,
                       .clusters([3, 0, 7]))
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"target": "assigned"}"#), jobPath: jobPath).target, .assigned)
    }

    func testPruning() throws {
        XCTAssertNil(try JobSpec.parse(text: job(explain: "{}"), jobPath: jobPath).pruningTolerance)
        for (text, eps) in [("1e-4", 1e-4), ("0.5", 0.5), ("1e-300", 1e-300)] {
            XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"pruning": {"tolerance": \#(text)}}"#), jobPath: jobPath).pruningTolerance, eps)
        }
        for bad in ["0", "-1e-4", "1", "2", "\"1e-4\"", "\"NaN\"", "null", "true", "[1e-4]", "{}"] {
            try assertLoadFails(job(explain: #"{"pruning": {"tolerance": \#(bad)}}"#), "explain.pruning.tolerance must be a number in (0, 1)")
        }
        try assertLoadFails(job(explain: #"{"pruning": {"tolerance": 1e999}}"#), "not valid JSON (line 5, column 40: number out of range)")
        try assertLoadFails(job(explain: #"{"pruning": 1e-4}"#), "'explain.pruning' must be an object")
        try assertLoadFails(job(explain: #"{"pruning": true}"#), "'explain.pruning' must be an object")
        try assertLoadFails(job(explain: #"{"pruning": {}}"#), "missing key 'explain.pruning.tolerance'")
        try assertLoadFails(job(explain: #"{"pruning": {"tolerance": 1e-4, "eps": 1e-4}}"#), "unknown key 'explain.pruning.eps'")
        try assertLoadFails(job(explain: #"{"pruning": {"Tolerance": 1e-4}}"#), "unknown key 'explain.pruning.Tolerance'; did you mean 'tolerance'?")
    }

    func testModeThetaLRPAndMaxBytes() throws {
        for bad in ["0", "1", "-0.5", "1.5", "\"0.5\"", "null"] {
            try assertLoadFails(job(explain: #"{"mode": "absolute", "theta": \#(bad)}"#), "explain.theta must be a number in (0, 1)")
        }
        try assertLoadFails(job(explain: #"{"mode": "Absolute"}"#), #"explain.mode must be "relative" or "absolute""#)
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"mode": "absolute", "theta": 0.9}"#), jobPath: jobPath).mode,
                       .absolute(theta: 0.9))
        XCTAssertEqual(try JobSpec.parse(text: job(explain: #"{"mode": "absolute"}"#), jobPath: jobPath).mode, .absolute(theta: 0.5))
        XCTAssertEqual(try JobSpec.parse(text: job(explain: "{}"), jobPath: jobPath).mode, .relative)
        try assertLoadFails(job(explain: #"{"lrp": 1}"#), "'explain.lrp' must be an object")
        try assertLoadFails(job(explain: #"{"lrp": {"conv": "gamma"}}"#), "unknown key 'explain.lrp.conv'; did you mean 'conv2d'?")
        try assertLoadFails(job(explain: #"{"lrp": {"conv2d": "alpha-beta"}}"#), #"explain.lrp.conv2d must be "gamma" or "zero""#)
        try assertLoadFails(job(explain: #"{"lrp": {"linear": "z+"}}"#), #"explain.lrp.linear must be "epsilon", "gamma" or "zero""#)
        try assertLoadFails(job(explain: #"{"lrp": {"gamma": -0.1}}"#), "explain.lrp.gamma must be a number >= 0")
        let lrp = try JobSpec.parse(text: job(explain: #"{"lrp": {"conv2d": "zero", "linear": "gamma", "gamma": 0.25, "epsilon": 0.01}}"#),
                                    jobPath: jobPath).lrp
        XCTAssertEqual(lrp.conv2d, .zero)
        XCTAssertEqual(lrp.linear, .gamma)
        XCTAssertEqual([lrp.gamma, lrp.epsilon], [0.25, 0.01])
        try assertLoadFails(job(output: #"{"file": "o.h5", "max_bytes": 0}"#), "output.max_bytes must be a positive integer (bytes)")
        for bad in ["10", "-1", "1.5", "true", "\"6\""] {
            try assertLoadFails(job(output: #"{"file": "o.h5", "compression": \#(bad)}"#), "output.compression must be an integer from 0 to 9")
        }
        XCTAssertEqual(try JobSpec.parse(text: job(output: #"{"file": "o.h5", "compression": 9}"#), jobPath: jobPath).compression, 9)
        XCTAssertEqual(try JobSpec.parse(text: job(output: #"{"file": "o.h5", "max_bytes": 1000}"#), jobPath: jobPath).maxOutputBytes, 1000)
    }

    func testValueChecksFollowTheDocumentedOrder() throws {
        let allBad = #"""
        {"execution": {"block_rows": 0}, "explain": {"target": 1, "beta": 0},
         "output": {"overwrite": 1, "file": ""}, "model": {"file": ""}, "input": {"dataset": "", "file": ""}}
        """#
        try assertLoadFails(allBad, "input.file must be a non-empty string")
        let order: [(String, String)] = [
            (#""input": {"dataset": "", "file": ""}"#, "input.file must be a non-empty string"),
            (#""input": {"dataset": "", "file": "f"}"#, "input.dataset must be a non-empty string"),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": ""}"#, "model.file must be a non-empty string"),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": "m"}, "output": {"overwrite": 1, "file": ""}"#,
             "output.file must be a non-empty string"),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": "m"}, "output": {"overwrite": 1, "file": "o"}"#,
             "output.overwrite must be true or false"),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": "m"}, "output": {"file": "o"}"#,
             #"explain.beta must be "auto" or a positive finite number"#),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": "m"}, "output": {"file": "o"}, "explain": {"target": 1}"#,
             #"explain.target must be "assigned", "all" or a non-empty list of distinct cluster indices"#),
            (#""input": {"dataset": "d", "file": "f"}, "model": {"file": "m"}, "output": {"file": "o"}, "explain": {}"#,
             "execution.block_rows must be an integer from 1 to 1048576"),
        ]
        for (fixed, message) in order {
            // Every section not given above is added with bad values, so only the expected check can fire first.
            var text = "{" + fixed
            if !fixed.contains("\"model\"") { text += #", "model": {"file": ""}"# }
            if !fixed.contains("\"output\"") { text += #", "output": {"overwrite": 1, "file": ""}"# }
            if !fixed.contains("\"explain\"") { text += #", "explain": {"target": 1, "beta": 0}"# }
            text += #", "execution": {"block_rows": 0}}"#
            try assertLoadFails(text, message)
        }
    }

    func testErrorsFromParseUseTheStandardizedJobPath() {
        assertFails(try JobSpec.parse(text: "{", jobPath: "/jobs/./x/../a.json"),
                    "/jobs/a.json: not valid JSON (line 1, column 2: unexpected end of input)")
    }
}
