import Foundation
import Storage
import XCTest

/// What the summaries and the help say: conservation and beta of baseline explanations, the
/// input's real shape, help text that is not re-wrapped into ragged lines.
final class SummaryTextTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    func testBaselineRunAndInspectSayWhatApplies() throws {
        let data = Fixture.blobs(rows: 300, features: 4, clusters: 3, seed: 4)
        try fx.writeInput(rows: 300, features: 4, values: data.x)
        try fx.writeModel(clusters: 3, features: 4, centroids: data.centroids)
        let job = try fx.writeJob(beta: "\"auto\", \"method\": \"sensitivity\"")
        let r = try NeonBatchProcess.run([job])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("  conservation: does not apply (explain.method sensitivity is a baseline, not NEON: its scores need not add up to f_c)"), r.stdout)
        XCTAssertFalse(r.stdout.contains("of the mean f_c"), r.stdout)
        let i = try NeonBatchProcess.run(["inspect", fx.path("out.h5")])
        XCTAssertEqual(i.status, 0, i.stderr)
        XCTAssertTrue(i.stdout.contains("\n  beta:          none (this explanation does not use min-take-most's stiffness)\n"), i.stdout)
        // NEON itself still reports conservation
        let neon = try NeonBatchProcess.run([try fx.writeJob("neon.json", output: "neon.h5")])
        XCTAssertTrue(neon.stdout.contains("  conservation: max |sum_i R_i - f_c| = "), neon.stdout)
    }

    func testValidateShowsTheInputsOwnShape() throws {
        var values: [Float] = []
        for r in 0..<30 { values += (0..<16).map { Float(($0 * 7 + r * 3) % 11) } }
        let f = try H5WriteFile(creating: fx.path("images.h5"), communicator: nil)
        try f.write("x", element: .float32, dims: [30, 1, 4, 4], values: values)
        try f.close()
        try fx.writeModel(clusters: 3, features: 16, centroids: (0..<48).map { Double($0 % 5) })
        let v = try NeonBatchProcess.run(["validate", try fx.writeJob(input: "images.h5", dataset: "x")])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("\n  input:  \(fx.path("images.h5")) dataset 'x': 30 x 1 x 4 x 4 (N, C, H, W) float32\n"), v.stdout)
    }

    /// A paragraph line followed by one whose first word would have fit on it was wrapped twice
    /// (the source's line breaks kept, then ArgumentParser's at 80 columns).
    func testHelpParagraphsAreWrappedOnce() throws {
        let top = try NeonBatchProcess.run(["--help"])
        XCTAssertEqual(top.status, 0)
        XCTAssertTrue(top.stdout.contains("""
            Exit codes: 0 success; 1 bad job, model, input or output, or an I/O error (one
            line on stderr naming the file, dataset or key); 64 bad command line
            """), top.stdout)
        XCTAssertTrue(top.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, top.stdout)
        for command in ["run", "validate", "evaluate", "join", "demo", "inspect", "render", "fit", "elbow"] {
            let h = try NeonBatchProcess.run([command, "--help"])
            XCTAssertEqual(h.status, 0, command)
            // the discussion: from the first blank line to USAGE
            let lines = h.stdout.components(separatedBy: "\n")
            guard let start = lines.firstIndex(of: ""), let end = lines.firstIndex(where: { $0.hasPrefix("USAGE:") }) else {
                XCTFail("\(command): no discussion in\n\(h.stdout)"); continue
            }
            for i in start..<(end - 1) where !lines[i].isEmpty && !lines[i + 1].isEmpty {
                let next = lines[i + 1].split(separator: " ").first.map(String.init) ?? ""
                XCTAssertGreaterThanOrEqual(lines[i].count + 1 + next.count, 80, "\(command) --help: '\(next)' fits on \"\(lines[i])\"")
            }
        }
    }
}
