import Foundation
import NeonCore
import Storage
import XCTest

/// execution.read "parallel" and "auto": every rank reads its own rows through collective MPI-IO.
/// The outputs are the same bits as rank 0 reading and scattering (1, 2 and 3 ranks; a model
/// with standardisation; a row range), and bad input ends every rank with rank 0's message.
final class ParallelReadTests: XCTestCase {
    var fx: Fixture!
    let (n, d, k) = (1001, 7, 6)
    var data: (x: [Double], centroids: [Double])!

    override func setUpWithError() throws {
        fx = try Fixture()
        data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 43)
        try fx.writeInput(rows: n, features: d, values: data.x)
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        // The same centroids in standardised coordinates, with the model's mean and std.
        let mean = (0..<d).map { 20 + Double($0) / 3 }, std = (0..<d).map { 3 + Double($0) / 5 }
        let scaled = data.centroids.enumerated().map { ($0.element - mean[$0.offset % d]) / std[$0.offset % d] }
        let f = try H5WriteFile(creating: fx.path("std.h5"), communicator: nil)
        try f.setAttribute("kind", "kmeans")
        try f.write("centroids", element: .float64, rows: k, columns: d, values: scaled)
        try f.write("standardize_mean", element: .float64, dims: [d], values: mean)
        try f.write("standardize_std", element: .float64, dims: [d], values: std)
        try f.close()
    }

    override func tearDown() { fx.remove() }

    /// Blocks of 800 rows: 256-row tiles 2 + 1 + 1 on 3 ranks, then a 201-row block that ranks 1
    /// and 2 have no rows of (they still take part in the collective reads).
    func job(_ name: String, read: String?, model: String = "model.h5", input: String = "data.h5",
             rows: String? = nil) throws -> String {
        let r = rows.map { ", \"rows\": \($0)" } ?? ""
        let mode = read.map { ", \"read\": \"\($0)\"" } ?? ""
        let text = """
            {"input": {"file": "\(input)", "dataset": "features"\(r)}, "model": {"file": "\(model)"},
             "output": {"file": "\(name).h5"}, "execution": {"block_rows": 800\(mode)}}
            """
        try text.write(toFile: fx.path("\(name).json"), atomically: true, encoding: .utf8)
        return fx.path("\(name).json")
    }

    func run(_ job: String, ranks: Int) throws -> NeonBatchProcess.Result {
        try NeonBatchProcess.run([job, "-q"], ranks: ranks)
    }

    func testParallelReadsGiveTheSameBitsOnOneTwoAndThreeRanks() throws {
        for model in ["model.h5", "std.h5"] {
            for rows in [nil, "[250, 777]"] {
                let tag = "\(model.prefix(3))\(rows == nil ? "" : "-range")"
                let reference = try job("root-\(tag)", read: nil, model: model, rows: rows)
                XCTAssertEqual(try run(reference, ranks: 1).status, 0)
                for (ranks, mode) in [(1, "parallel"), (2, "parallel"), (3, "parallel"), (3, "auto")] {
                    let name = "\(mode)\(ranks)-\(tag)"
                    let r = try run(try job(name, read: mode, model: model, rows: rows), ranks: ranks)
                    XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
                    try assertSameOutput(fx.path("root-\(tag).h5"), fx.path("\(name).h5"),
                                         ignoring: ["created", "elapsed_seconds", "job", "job_file", "ranks"])
                }
            }
        }
        let scaled = try StoredFile(path: fx.path("root-std.h5"))
        XCTAssertEqual(scaled.numberAttribute("standardized"), 1)
        XCTAssertNotEqual(try scaled.doubles("relevance"), try StoredFile(path: fx.path("root-mod.h5")).doubles("relevance"))
    }

    /// A row range of a standardised model explains those rows of the whole run with its beta
    /// (the beta pass over the whole input standardises its rows too).
    func testRowRangeOfAStandardisedModelMatchesTheWholeRun() throws {
        XCTAssertEqual(try run(try job("whole", read: "parallel", model: "std.h5"), ranks: 2).status, 0)
        XCTAssertEqual(try run(try job("part", read: "root", model: "std.h5", rows: "[250, 777]"), ranks: 2).status, 0)
        let whole = try StoredFile(path: fx.path("whole.h5")), part = try StoredFile(path: fx.path("part.h5"))
        XCTAssertEqual(part.numberAttribute("beta"), whole.numberAttribute("beta"))
        XCTAssertTrue(try part.doubles("relevance") == Array(try whole.doubles("relevance")[(250 * d)..<(777 * d)]))
    }

    /// Rank 0's phases (the summary's time line): with parallel reads it reads but never scatters.
    func testParallelReadsDoNotScatter() throws {
        for (mode, ranks, scatters) in [("root", 2, true), ("parallel", 1, false), ("auto", 2, false)] {
            let r = try NeonBatchProcess.run([try job("phases-\(mode)", read: mode)], ranks: ranks)
            XCTAssertEqual(r.status, 0, r.stderr)
            let time = r.stdout.split(separator: "\n").first { $0.hasPrefix("  time:") }.map(String.init) ?? ""
            XCTAssertTrue(time.contains("read "), time)
            XCTAssertEqual(time.contains("scatter "), scatters, time)
        }
    }

    /// NaN rows: every rank ends with the one message rank 0 gives when it reads alone, naming the
    /// block's first bad row, whichever rank holds it.
    func testBadRowsEndEveryRankWithRootsMessage() throws {
        for bad in [[790], [600, 790], [950]] {
            var x = data.x
            for row in bad { x[row * d + 3] = .nan }
            try fx.writeInput("nan.h5", rows: n, features: d, values: x)
            let expected = ["neon-batch: error: \(fx.path("nan.h5")): dataset 'features' row \(bad[0]) holds NaN or Inf"]
            let root = try run(try job("nan-root", read: "root", input: "nan.h5"), ranks: 3)
            XCTAssertEqual(root.errorLines, expected, root.stderr)
            for ranks in [2, 3] {
                let r = try run(try job("nan-par", read: "parallel", input: "nan.h5"), ranks: ranks)
                XCTAssertEqual(r.status, root.status)
                XCTAssertEqual(r.errorLines, expected, r.stderr)
                XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("nan-par.h5")) &&
                               (try? StoredFile(path: fx.path("nan-par.h5")).stringAttribute("status")) == "complete")
            }
        }
    }

    func testWrongShapeIsRefusedAsWithRootReads() throws {
        let f = try H5WriteFile(creating: fx.path("flat.h5"), communicator: nil)
        try f.write("features", element: .float32, dims: [n * d], values: data.x.map { Float($0) })
        try f.close()
        let path = fx.path("flat.h5")
        let expected = ["neon-batch: error: \(path): dataset 'features' has rank 1; expected 2 (rows x features) or 4 (N, C, H, W): add a feature axis, (N, 1), e.g. python3 -c \"import h5py; f = h5py.File('\(path)', 'a'); x = f['features'][...]; del f['features']; f['features'] = x[:, None].astype('float32')\""]
        for mode in ["root", "parallel"] {
            let r = try run(try job("flat-\(mode)", read: mode, input: "flat.h5"), ranks: 2)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.errorLines, expected, r.stderr)
        }
    }

    /// Rank 1 runs in its own mount namespace with `hidden` (a folder) covered by `cover`: it does
    /// not see the input rank 0 sees (as on a node without the file system), or sees another file.
    func runHiding(_ hidden: String, under cover: String, job: String) throws -> NeonBatchProcess.Result {
        let wrap = "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec unshare -m sh -c 'mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"' sh '\(cover)' '\(hidden)' \"$@\"; fi; exec \"$@\""
        return try NeonBatchProcess.run([job], ranks: 2, rankPrefix: ["sh", "-c", wrap, "sh"])
    }

    func testInputThatOnlyRankZeroSees() throws {
        try XCTSkipUnless(try NeonBatchProcess.shell("unshare -m true") == 0, "needs mount namespaces (unshare -m)")
        let inputs = fx.path("in"), other = fx.path("other"), empty = fx.path("empty")
        for folder in [inputs, other, empty] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try fx.writeInput("in/data.h5", rows: n, features: d, values: data.x)
        try fx.writeInput("other/data.h5", rows: n - 1, features: d, values: Array(data.x.dropLast(d)))
        let path = fx.path("in/data.h5")
        // "parallel": every rank ends before anything is written, with the one line of rank 1.
        for (cover, why) in [(empty, "cannot read \(path)"), (other, "sees a different \(path) than rank 0 (size or modification time)")] {
            let r = try runHiding(inputs, under: cover, job: try job("hidden", read: "parallel", input: "in/data.h5"))
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(r.errorLines, ["neon-batch: error: execution.read \"parallel\": rank 1 \(why); use \"root\" when only rank 0 sees the input"], r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("hidden.h5")))
        }
        // "auto" reads through rank 0 then (the summary shows a scatter) and gives the same bits.
        XCTAssertEqual(try run(try job("reference", read: "root", input: "in/data.h5"), ranks: 1).status, 0)
        let r = try runHiding(inputs, under: empty, job: try job("fallback", read: "auto", input: "in/data.h5"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains(", scatter "), r.stdout)
        try assertSameOutput(fx.path("reference.h5"), fx.path("fallback.h5"), ignoring: ["created", "elapsed_seconds", "job", "job_file", "ranks"])
    }
}
