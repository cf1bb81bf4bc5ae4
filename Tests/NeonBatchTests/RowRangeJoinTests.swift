import Foundation
import Storage
import XCTest

/// Row ranges (input.rows, run --part I/N) and neon-batch join, without SLURM: a range explains
/// exactly those rows of a single run (with the single run's beta "auto"); parts made with any
/// number of ranks join into the single run's file; bad ranges and bad parts are refused with
/// one exact message and nothing written.
final class RowRangeJoinTests: XCTestCase {
    var fx: Fixture!
    let (n, d, k) = (1001, 7, 6)

    override func setUpWithError() throws {
        fx = try Fixture()
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 41)
        try fx.writeInput(rows: n, features: d, values: data.x)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
    }

    override func tearDown() { fx.remove() }

    /// A job with block_rows 300 (4 blocks: 300, 300, 300, 101) and optional input.rows.
    @discardableResult
    func job(_ name: String = "job.json", output: String = "out.h5", rows: String? = nil, beta: String = "\"auto\"") throws -> String {
        let r = rows.map { ", \"rows\": \($0)" } ?? ""
        let text = """
            {"input": {"file": "data.h5", "dataset": "features"\(r)}, "model": {"file": "model.h5"},
             "output": {"file": "\(output)"}, "explain": {"beta": \(beta)}, "execution": {"block_rows": 300}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    func run(_ args: [String], ranks: Int? = 2) throws -> NeonBatchProcess.Result {
        try NeonBatchProcess.run(args, ranks: ranks)
    }

    /// Runs the whole job once into single.h5 (ranks 3) and returns its path.
    func single() throws -> String {
        let r = try run([try job("single.json", output: "single.h5"), "-q"], ranks: 3)
        XCTAssertEqual(r.status, 0, r.stderr)
        return fx.path("single.h5")
    }

    func testInputRowsExplainExactlyThoseRowsOfASingleRun() throws {
        let whole = try StoredFile(path: try single())
        let r = try run([try job(rows: "[250, 777]"), "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let part = try StoredFile(path: fx.path("out.h5"))
        XCTAssertEqual(part.shape("relevance"), [527, d])
        XCTAssertEqual(try part.doubles("relevance"), Array(try whole.doubles("relevance")[(250 * d)..<(777 * d)]))
        XCTAssertEqual(try part.int64s("assignment"), Array(try whole.int64s("assignment")[250..<777]))
        XCTAssertEqual(try part.doubles("logit"), Array(try whole.doubles("logit")[250..<777]))
        XCTAssertEqual(part.numberAttribute("beta"), whole.numberAttribute("beta"), "beta auto is over the whole input")
        XCTAssertEqual(part.numberAttribute("row_start"), 250)
        XCTAssertEqual(part.numberAttribute("row_end"), 777)
        XCTAssertEqual(part.numberAttribute("rows"), 527)
        XCTAssertEqual(part.numberAttribute("input_rows"), Double(n))
        XCTAssertEqual(part.numberAttribute("blocks"), 2)
        XCTAssertEqual(try part.stringAttribute("resume_key:input.rows"), "[250, 777]")
        XCTAssertEqual(try whole.stringAttribute("resume_key:input.rows"), "[0, 1001]")
    }

    func testBadRangesAndPartsAreRefused() throws {
        let beyond = try job("beyond.json", rows: "[0, 1002]")
        let r = try run([beyond])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(beyond): input.rows [0, 1002] ends beyond the 1001 rows of dataset 'features' in \(fx.path("data.h5"))"])
        let small = try job("small.json", rows: "[100, 700]")      // 2 blocks
        let p = try run([small, "--part", "2/3"])
        XCTAssertEqual(p.status, 1)
        XCTAssertEqual(p.errorLines, ["neon-batch: error: \(small): --part 2/3: rows 100..<700 are 2 blocks of execution.block_rows 300 rows; use at most 2 parts, or execution.block_rows 200 or less for 3 parts"])
        for bad in ["3/3", "-1/3", "1/0", "1", "a/b"] {
            let c = try run([small, "--part", bad], ranks: nil)
            assertUsageError(c, mentioning: "--part")
        }
        // why a part is out of range
        let i = try run([small, "--part", "3/2"], ranks: nil)
        XCTAssertEqual(i.status, 64)
        XCTAssertTrue(i.stderr.hasPrefix("Error: --part 3/2: I must be from 0 to 1 (parts count from 0, like SLURM_ARRAY_TASK_ID of --array=0-1)\n"), i.stderr)
        let n = try run([small, "--part", "0/0"], ranks: nil)
        XCTAssertTrue(n.stderr.hasPrefix("Error: --part 0/0: N (the number of parts) must be at least 1\n"), n.stderr)
        let one = try job("one.json", rows: "[100, 300]")      // 1 block
        XCTAssertEqual(try run([one, "--part", "1/4"]).errorLines,
                       ["neon-batch: error: \(one): --part 1/4: rows 100..<300 are 1 block of execution.block_rows 300 rows; use at most 1 part, or execution.block_rows 50 or less for 4 parts"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.h5")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.part-2-of-3.h5")))
    }

    func testPartsWithAnyRankCountsJoinIntoTheSingleRunFile() throws {
        let reference = try single()
        let j = try job()
        for (i, ranks) in [(0, 1), (1, 2), (2, 3)] {
            let r = try run([j, "--part", "\(i)/3", "-q"], ranks: ranks)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        // parts of whole blocks: 1, 1 and 2 blocks
        XCTAssertEqual(try StoredFile(path: fx.path("out.part-2-of-3.h5")).numberAttribute("row_start"), 600)
        let joined = try run([j, "--parts", "3"].withJoin, ranks: nil)
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertEqual(joined.stdout, "neon-batch: joined 3 parts (rows 0..<1001 of 1001, 7 features) into \(fx.path("out.h5")) (status complete)\n")
        try assertSameOutput(fx.path("out.h5"), reference, ignoring: ["created", "elapsed_seconds", "job", "job_file"])
        // the explicit form, parts in any order
        let parts = [2, 0, 1].map { fx.path("out.part-\($0)-of-3.h5") }
        let explicit = try run(["--output", fx.path("explicit.h5")] + parts, join: true)
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        try assertSameOutput(fx.path("explicit.h5"), reference, ignoring: ["created", "elapsed_seconds", "job", "job_file"])
        // an existing output is kept
        let again = try run(["--output", fx.path("explicit.h5")] + parts, join: true)
        XCTAssertEqual(again.errorLines, ["neon-batch: error: \(fx.path("explicit.h5")): output file exists; use --overwrite to replace it"])
        XCTAssertEqual(try run(["--output", fx.path("explicit.h5"), "--overwrite"] + parts, join: true).status, 0)
        let byJob = try run([j, "--parts", "3"], join: true)
        XCTAssertEqual(byJob.errorLines, ["neon-batch: error: \(fx.path("out.h5")): output file exists; set output.overwrite to true to replace it"])
    }

    func testJoinRefusesBadParts() throws {
        let j = try job()
        for i in 0..<3 { XCTAssertEqual(try run([j, "--part", "\(i)/3", "-q"]).status, 0) }
        let p = (0..<3).map { fx.path("out.part-\($0)-of-3.h5") }
        let out = fx.path("joined.h5")
        func refused(_ parts: [String], _ message: String, line: UInt = #line) throws {
            let r = try run(["--output", out] + parts, join: true)
            XCTAssertEqual(r.status, 1, line: line)
            XCTAssertEqual(r.errorLines, ["neon-batch: error: \(message)"], line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written", line: line)
        }
        // missing parts
        try refused([p[0], p[2]], "\(out): rows 300..<600 are in no part (a part is missing)")
        try refused([p[0], p[1]], "\(out): rows 600..<1001 are in no part (a part is missing)")
        try refused([p[1], p[2]], "\(out): rows 0..<300 are in no part (a part is missing)")
        try refused([p[0], p[1], p[2], p[1]], "\(p[1]): part file given twice")
        try refused([p[0], fx.path("nope.h5")], "\(fx.path("nope.h5")): part file does not exist")
        // an incomplete part
        try FileManager.default.copyItem(atPath: p[1], toPath: fx.path("incomplete.h5"))
        do {
            let f = try H5WriteFile(opening: fx.path("incomplete.h5"), communicator: nil)
            try f.setAttribute("status", "incomplete")
            try f.close()
        }
        try refused([p[0], fx.path("incomplete.h5"), p[2]],
                    "\(fx.path("incomplete.h5")): part is not complete (status 'incomplete'); finish it with neon-batch run --resume first")
        // overlapping parts (another range of the same job)
        let wide = try job("wide.json", output: "wide.h5", rows: "[0, 700]")
        XCTAssertEqual(try run([wide, "-q"]).status, 0)
        try refused([fx.path("wide.h5"), p[1], p[2]], "\(p[1]): rows 300..<600 overlap rows 0..<700 of \(fx.path("wide.h5"))")
        // a part of another export (another beta)
        let other = try job("other.json", output: "other.h5", rows: "[300, 600]", beta: "0.25")
        XCTAssertEqual(try run([other, "-q"]).status, 0)
        let beta = try XCTUnwrap(try StoredFile(path: p[0]).numberAttribute("beta"))
        try refused([p[0], fx.path("other.h5"), p[2]],
                    "\(fx.path("other.h5")): beta differs from \(p[0]) (0.25 vs \(beta)); the parts are not of one export")
        // the job form: a part file missing
        try FileManager.default.removeItem(atPath: p[1])
        let r = try run([j, "--parts", "3"], join: true)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(p[1]): part file does not exist"])
        // command-line misuse
        assertUsageError(try run([j], join: true), mentioning: "--parts N")
        assertUsageError(try run([j, "--parts", "3", "--output", out], join: true), mentioning: "--parts takes one job file")
        assertUsageError(try run(["--output", out], join: true), mentioning: "no part files given")
    }
}

extension RowRangeJoinTests {
    /// A command-line error: ArgumentParser's usage exit (not success, bad input or a stop) and
    /// its message on stderr.
    func assertUsageError(_ r: NeonBatchProcess.Result, mentioning text: String, line: UInt = #line) {
        XCTAssertFalse([0, 1, 75].contains(r.status), "status \(r.status)", line: line)
        XCTAssertTrue(r.stderr.contains(text), r.stderr, line: line)
    }

    /// neon-batch join ARGS (one process, no mpirun).
    func run(_ args: [String], join: Bool) throws -> NeonBatchProcess.Result {
        try NeonBatchProcess.run(["join"] + args)
    }
}

private extension Array where Element == String {
    var withJoin: [String] { ["join"] + self }
}
