import XCTest
@testable import Distributed

final class RowPartitionTests: XCTestCase {
    func testTilesAreDealtContiguouslyAndCoverEveryRow() {
        for rows in [0, 1, 2, 255, 256, 257, 1000, 8192, 8193] {
            for parts in 1...5 {
                let p = RowPartition(rows: rows, parts: parts, tile: 256)
                XCTAssertEqual(p.ranges.count, parts)
                XCTAssertEqual(p.ranges.first?.lowerBound, 0)
                XCTAssertEqual(p.ranges.last?.upperBound, rows)
                for (a, b) in zip(p.ranges, p.ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                // every range starts on a tile boundary: a row's tile never depends on parts
                for r in p.ranges where !r.isEmpty { XCTAssertEqual(r.lowerBound % 256, 0) }
                // balanced to within one tile
                let counts = p.ranges.map { ($0.count + 255) / 256 }
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1)
            }
        }
    }

    func testFewerRowsThanRanksLeavesSomeRanksEmpty() {
        let p = RowPartition(rows: 2, parts: 3, tile: 1)
        XCTAssertEqual(p.ranges, [0..<1, 1..<2, 2..<2])
        XCTAssertEqual(p.counts(scaledBy: 8), [8, 8, 0])
        XCTAssertEqual(p.offsets(scaledBy: 8), [0, 8, 16])
    }
}

/// Collectives on this process's own world (one rank without mpirun); the multi-rank behaviour is
/// exercised end to end under mpirun -n 2 and 3 in NeonBatchTests.
final class CommunicatorTests: XCTestCase {
    func testSingleRankCollectives() {
        let c = Communicator.world
        XCTAssertEqual(c.size, 1)
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.broadcast([1.5, 2.5]), [1.5, 2.5])
        XCTAssertEqual(c.broadcast("héllo"), "héllo")
        XCTAssertEqual(c.allreduceSum(2.5), 2.5)
        XCTAssertEqual(c.allreduceMin(7), 7)
        XCTAssertNil(c.agree(nil))
        XCTAssertEqual(c.agree("disk full"), RankError(rank: 0, message: "disk full"))
        XCTAssertEqual(c.decide(error: nil, stop: false), .proceed)
        XCTAssertEqual(c.decide(error: nil, stop: true), .stop)
        XCTAssertEqual(c.decide(error: "bad", stop: true), .failed(RankError(rank: 0, message: "bad")))
        var src: [UInt8] = [1, 2, 3, 4]
        var dst = [UInt8](repeating: 0, count: 4)
        src.withUnsafeMutableBytes { s in
            dst.withUnsafeMutableBytes { d in
                c.scatterv(send: s.baseAddress, counts: [4], displacements: [0], receive: d.baseAddress, receiveCount: 4)
            }
        }
        XCTAssertEqual(dst, src)
    }
}
