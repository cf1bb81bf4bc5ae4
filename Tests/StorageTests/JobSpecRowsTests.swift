import Storage
import XCTest

/// input.rows: [START, END) of the input rows to explain.
final class JobSpecRowsTests: XCTestCase {
    func job(_ rows: String) -> String {
        #"{"input": {"file": "d.h5", "dataset": "x", "rows": "# + rows + #"}, "model": {"file": "m.h5"}, "output": {"file": "o.h5"}}"#
    }

    func testRowsParse() throws {
        XCTAssertEqual(try JobSpec.parse(text: job("[300, 900]"), jobPath: "/j/job.json").rows, 300..<900)
        XCTAssertEqual(try JobSpec.parse(text: job("[0, 1]"), jobPath: "/j/job.json").rows, 0..<1)
        let whole = #"{"input": {"file": "d.h5", "dataset": "x"}, "model": {"file": "m.h5"}, "output": {"file": "o.h5"}}"#
        XCTAssertNil(try JobSpec.parse(text: whole, jobPath: "/j/job.json").rows)
    }

    func testBadRowsAreRefusedWithOneMessage() {
        let message = "/j/job.json: input.rows must be [START, END] with integers 0 <= START < END (rows START..END-1)"
        for bad in ["[5, 5]", "[6, 5]", "[-1, 5]", "[0.5, 5]", "[1]", "[1, 2, 3]", "\"0:5\"", "[\"0\", 5]", "{}", "null", "[0, 1e300]"] {
            XCTAssertThrowsError(try JobSpec.parse(text: job(bad), jobPath: "/j/job.json"), bad) { error in
                XCTAssertEqual((error as? JobError)?.message, message, bad)
            }
        }
    }
}
