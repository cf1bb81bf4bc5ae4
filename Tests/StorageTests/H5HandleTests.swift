import Foundation
import NeonTestSupport
import XCTest
@testable import Storage

/// H5Handle closes exactly once, at the end of its scope or at `close()`, and the file types
/// built on it leave no HDF5 object open once they are closed or let go of.
final class H5HandleTests: XCTestCase {
    var dir: TemporaryDirectory!
    /// Objects other tests of this process left open (test cases live until the run ends).
    var before = 0

    override func setUpWithError() throws {
        HDF5Library.silenceErrorStack()
        dir = try TemporaryDirectory(prefix: "neon-handle")
        before = HDF5Library.openObjectCount
    }

    override func tearDownWithError() throws { dir.remove() }

    func testAHandleClosesAtTheEndOfItsScopeNotBefore() {
        var raw = Int64(-1)
        do {
            let list = transferList(collective: false)
            raw = list.id
            XCTAssertTrue(HDF5Library.isOpen(raw))
            _ = [Int](repeating: 0, count: 1000).reduce(0, +)    // after its last use it is still open
            XCTAssertTrue(HDF5Library.isOpen(raw))
        }
        XCTAssertFalse(HDF5Library.isOpen(raw))
    }

    func testCloseReportsTheStatusAndClosesOnce() {
        let list = transferList(collective: false)
        let raw = list.id
        let status = list.close()
        XCTAssertEqual(status, 0)
        XCTAssertFalse(HDF5Library.isOpen(raw))
        let failed = H5Handle(dataset: -1).close()
        XCTAssertEqual(failed, 0, "a failed open has nothing to close")
        XCTAssertFalse(H5Handle(dataset: -1).isValid)
    }

    func testWritingAndReadingLeaveNoObjectOpen() throws {
        let path = dir.path("a.h5")
        let f = try H5WriteFile(creating: path, communicator: nil)
        try f.write("x", element: .float32, rows: 3, columns: 2, values: [Float](repeating: 1, count: 6))
        try f.write("g/n", element: .int64, dims: [3], values: [Int64](repeating: 2, count: 3))
        try f.writeStrings("names", ["a", "bc", "d"])
        try f.setAttribute("status", "complete")
        try f.setAttribute("kind", "test", on: "psi/layer0")
        XCTAssertEqual(HDF5Library.openObjectCount, before + 3, "the file and its two numeric datasets")
        try f.close()
        XCTAssertEqual(HDF5Library.openObjectCount, before)

        do {
            let stored = try StoredFile(path: path)
            XCTAssertEqual(stored.shape("x"), [3, 2])
            XCTAssertEqual(try stored.rows("x", start: 1, count: 2), [1, 1, 1, 1])
            XCTAssertEqual(try stored.strings(dataset: "names"), ["a", "bc", "d"])
            XCTAssertEqual(try stored.stringAttribute("status"), "complete")
            XCTAssertEqual(stored.typeName("g/n"), "int64")
            XCTAssertEqual(HDF5Library.openObjectCount, before + 1, "only the file stays open between reads")
            withExtendedLifetime(stored) {}
        }
        XCTAssertEqual(HDF5Library.openObjectCount, before)

        do {
            let input = try InputDataset(path: path, dataset: "x")
            XCTAssertEqual(HDF5Library.openObjectCount, before + 2, "the file and its dataset")
            withExtendedLifetime(input) {}
        }
        XCTAssertEqual(HDF5Library.openObjectCount, before)
    }

    func testARefusedDatasetIsClosed() throws {
        let path = try HDF5Fixtures.write(dir.path("b.h5")) { f in
            try f.write("n", element: .int64, dims: [2, 2], values: [Int64](repeating: 0, count: 4))
        }
        XCTAssertThrowsError(try InputDataset(path: path, dataset: "n")) { error in
            XCTAssertTrue("\(error)".contains("has integer type; expected float32 or float64"), "\(error)")
        }
        XCTAssertEqual(HDF5Library.openObjectCount, before)
    }
}
