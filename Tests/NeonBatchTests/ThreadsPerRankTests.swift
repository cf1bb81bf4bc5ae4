import Foundation
import XCTest

/// Each rank computes with its share of the node's CPUs (ComputeThreads): min(the CPUs of its
/// affinity mask, online CPUs / ranks on the node), as the summary's threads line says, for 1, 2
/// and 3 ranks (3 are oversubscribed on a 2-CPU machine: 1 thread each, not 2).
final class ThreadsPerRankTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    func testThreadsAreTheRanksShareOfTheNodeWithinItsAffinityMask() throws {
        let data = Fixture.blobs(rows: 600, features: 8, clusters: 4, seed: 5)
        try fx.writeInput(rows: 600, features: 8, values: data.x)
        try fx.writeModel(clusters: 4, features: 8, centroids: data.centroids)
        let job = try fx.writeJob(overwrite: true)
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let pattern = try NSRegularExpression(pattern:
            #"^  threads:      (\d+) per rank: (\d+) CPUs? in its affinity mask, (\d+) CPUs? / (\d+) ranks? on this node \(rank 0\)$"#,
            options: .anchorsMatchLines)
        for ranks in [1, 2, 3] {
            let r = try NeonBatchProcess.run([job], ranks: ranks)
            XCTAssertEqual(r.status, 0, r.stderr)
            let m = try XCTUnwrap(pattern.firstMatch(in: r.stdout, range: NSRange(r.stdout.startIndex..., in: r.stdout)),
                                  "ranks \(ranks): \(r.stdout)")
            let n = (1...4).map { Int((r.stdout as NSString).substring(with: m.range(at: $0)))! }
            let (threads, affinity, cpus, onNode) = (n[0], n[1], n[2], n[3])
            XCTAssertEqual(onNode, ranks)
            XCTAssertEqual(cpus, online)
            XCTAssertTrue((1...online).contains(affinity), "affinity \(affinity)")
            XCTAssertEqual(threads, max(1, min(affinity, online / ranks)), "ranks \(ranks): \(r.stdout)")
        }
    }
}
