import Foundation
import XCTest
@testable import NeonCore

final class ComputeThreadsTests: XCTestCase {
    /// CPUs listed in /proc/self/status's Cpus_allowed_list ("0-1,4"): what mpirun's binding left us.
    private func allowedCPUs() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        return line.split(separator: "\t").last!.split(separator: ",").reduce(0) { n, part in
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces))! }
            return n + (ends.count == 2 ? ends[1] - ends[0] + 1 : 1)
        }
    }

    func testThreadCountIsTheAffinityMaskNotTheOnlineCPUs() throws {
        XCTAssertEqual(ComputeThreads.affinity, try allowedCPUs())
        XCTAssertEqual(ComputeThreads.count, try allowedCPUs(), "one rank on the node: its whole mask")
    }

    func testRanksOnTheNodeShareItsCPUs() {
        defer { ComputeThreads.configure(ranksOnThisNode: 1) }
        let (a, o) = (ComputeThreads.affinity, ComputeThreads.online)
        for ranks in [1, 2, 3, o, 4 * o] {
            ComputeThreads.configure(ranksOnThisNode: ranks)
            XCTAssertEqual(ComputeThreads.count, max(1, min(a, o / ranks)), "\(ranks) ranks")
        }
        ComputeThreads.configure(ranksOnThisNode: 4 * o)
        XCTAssertEqual(ComputeThreads.count, 1, "more ranks than CPUs: one thread each, never 0")
    }

    func testEveryIndexRunsExactlyOnceOnAtMostCountThreads() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let lock = NSLock()
            var seen = [Int](repeating: 0, count: n)
            var threads = Set<UInt>(), running = 0, most = 0
            ComputeThreads.forEach(n) { i in
                lock.lock()
                seen[i] += 1
                threads.insert(UInt(pthread_self()))
                running += 1
                most = max(most, running)
                lock.unlock()
                usleep(n > 100 ? 0 : 200)
                lock.lock()
                running -= 1
                lock.unlock()
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: n), "n = \(n)")
            XCTAssertLessThanOrEqual(most, ComputeThreads.count, "n = \(n)")
            XCTAssertLessThanOrEqual(threads.count, max(1, min(n, ComputeThreads.count)), "n = \(n)")
        }
    }
}
