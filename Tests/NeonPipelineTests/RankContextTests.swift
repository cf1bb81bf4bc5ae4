import Distributed
import XCTest
@testable import NeonPipeline

/// The rank context on this process's world (one rank); several ranks are exercised end to end
/// under mpirun in NeonBatchTests.
final class RankContextTests: XCTestCase {
    struct Facts: Codable, Equatable {
        var values: [Double]
        var optional: Double?
        var names: [[String]]
    }

    /// The Codable broadcast keeps every double bit for bit: subnormals, -0, infinities, NaN.
    func testCodableBroadcastIsBitExact() {
        let ranks = RankContext(Communicator.world, quiet: true)
        var rng = SystemRandomNumberGenerator()
        var values = (0..<2000).map { _ in Double(bitPattern: rng.next()) }.filter { !$0.isNaN }
        values += [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, .infinity, -.infinity,
                   0.1, 1.0 / 3, Double.leastNormalMagnitude / 3]
        let facts = Facts(values: values, optional: nil, names: [["explain.beta", "auto"], ["a\u{1}b", ""]])
        let received = ranks.broadcast(facts)
        XCTAssertEqual(received.values.map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(received.names, facts.names)
        XCTAssertNil(received.optional)
        XCTAssertTrue(ranks.broadcast([Double.nan])[0].isNaN)
    }

    func testOnRootReturnsTheValueOrFailsEveryRank() throws {
        let ranks = RankContext(Communicator.world, quiet: true)
        XCTAssertEqual(try ranks.onRoot { 42 }, 42)
        struct Broken: Error {}
        XCTAssertThrowsError(try ranks.onRoot { () throws -> Int in throw Broken() }) { XCTAssertTrue($0 is RankFailed) }
        XCTAssertNoThrow(try ranks.check(nil))
        XCTAssertThrowsError(try ranks.check("disk full")) { XCTAssertTrue($0 is RankFailed) }
        XCTAssertEqual(try ranks.everyRank { "same" }, "same")
        XCTAssertFalse(try ranks.decide(nil))
    }

    func testQuietContextDoesNotSpeak() {
        XCTAssertFalse(RankContext(Communicator.world, quiet: true).speaks)
        XCTAssertTrue(RankContext(Communicator.world, quiet: false).speaks)
    }
}
