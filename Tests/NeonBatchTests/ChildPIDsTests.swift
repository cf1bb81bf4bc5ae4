import Foundation
import XCTest

/// NeonBatchProcess.childPIDs finds only the test's own ranks: processes named neon-batch with
/// the test's full job path among their arguments, never another folder's job.json.
final class ChildPIDsTests: XCTestCase {
    var fx: Fixture!
    var started: [Process] = []

    override func setUpWithError() throws { fx = try Fixture() }

    override func tearDown() {
        for p in started where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        fx.remove()
    }

    /// Starts a dummy process whose command line looks like a rank's: `DIR/neon-batch ARGUMENT`
    /// (perl, renamed with exec -a, sleeping).
    func dummy(_ argument: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "exec -a \"$0\" perl -e 'sleep 60' \"$1\"", fx.path("neon-batch"), argument]
        try p.run()
        started.append(p)
        let cmdline = "/proc/\(p.processIdentifier)/cmdline"
        for _ in 0..<250 where !(FileManager.default.contents(atPath: cmdline).map { String(decoding: $0, as: UTF8.self) }?
                                    .hasPrefix(fx.path("neon-batch")) ?? false) {
            usleep(20_000)      // until exec has replaced bash
        }
        return p.processIdentifier
    }

    func testOnlyTheFullJobPathMatches() throws {
        let mine = fx.path("job.json")
        let otherFolder = fx.dir.appendingPathComponent("other").appendingPathComponent("job.json").path
        let own = try dummy(mine)
        let foreign = try dummy(otherFolder)
        let relative = try dummy("job.json")
        XCTAssertEqual(NeonBatchProcess.childPIDs(matching: mine), [own])
        XCTAssertEqual(NeonBatchProcess.childPIDs(matching: otherFolder), [foreign])
        XCTAssertEqual(NeonBatchProcess.childPIDs(matching: fx.dir.path + "/./job.json"), [own])
        // a bare file name matches nothing, not even the process with exactly that argument
        XCTAssertEqual(NeonBatchProcess.childPIDs(matching: "job.json"), [])
        XCTAssertFalse(NeonBatchProcess.childPIDs(matching: mine).contains(relative))
    }
}
