import Foundation
import XCTest

/// The Python helpers in tools/ (tools/tests/*.py), run against the built neon-batch with the
/// first python3 that has their dependencies (h5py, xarray, scikit-learn, torch); skipped where
/// none has them (scripts/test.sh and scripts/check-tools.sh install them).
final class PythonToolsTests: XCTestCase {
    static let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools")

    func runToolTest(_ script: String) throws {
        var skipped: [String] = []
        for python in ["/usr/bin/python3", "python3"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [python, Self.tools.appendingPathComponent("tests/\(script)").path]
            var env = NeonBatchProcess.environment
            env["NEON_BATCH"] = NeonBatchProcess.executable.path
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            switch p.terminationStatus {
            case 0: return
            case 77, 127: skipped.append("\(python): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            default: XCTFail("\(python) \(script) failed (exit \(p.terminationStatus)):\n\(text)"); return
            }
        }
        throw XCTSkip("\(script): " + skipped.joined(separator: "; "))
    }

    func testSklearnKMeansConvertedAndExplained() throws { try runToolTest("test_sklearn_to_model.py") }

    func testOutputLoadsWithNamedDimensions() throws { try runToolTest("test_neon_output.py") }

    /// Needs torch (skipped without it); compares with zennit when that is installed too.
    func testTorchFeatureExtractorExportedAndExplained() throws { try runToolTest("test_vgg_to_model.py") }
}
