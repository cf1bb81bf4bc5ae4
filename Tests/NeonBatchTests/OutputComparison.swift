import Foundation
import Storage
import XCTest

/// Asserts that two outputs are complete and hold the same datasets (exactly) and the same root
/// attributes, except those named in `ignoring` (timing, and the job text when the jobs differ).
func assertSameOutput(_ a: String, _ b: String, ignoring: Set<String> = ["created", "elapsed_seconds"],
                      file: StaticString = #filePath, line: UInt = #line) throws {
    let x = try StoredFile(path: a), y = try StoredFile(path: b)
    XCTAssertEqual(try x.stringAttribute("status"), "complete", a, file: file, line: line)
    XCTAssertEqual(try y.stringAttribute("status"), "complete", b, file: file, line: line)
    for name in ["relevance", "logit", RelevanceOutput.blockConservationDataset] {
        XCTAssertEqual(x.shape(name), y.shape(name), name, file: file, line: line)
        let u = try x.doubles(name), v = try y.doubles(name)
        XCTAssertTrue(u == v, "\(name) differs\(firstDifference(u, v))", file: file, line: line)
    }
    for name in ["assignment", RelevanceOutput.blockDoneDataset] {
        let u = try x.int64s(name), v = try y.int64s(name)
        XCTAssertTrue(u == v, "\(name) differs\(firstDifference(u, v))", file: file, line: line)
    }
    XCTAssertEqual(Set(x.attributeNames()), Set(y.attributeNames()), "attribute names", file: file, line: line)
    for name in x.attributeNames() where !ignoring.contains(name) {
        XCTAssertEqual(try? x.stringAttribute(name), try? y.stringAttribute(name), name, file: file, line: line)
        XCTAssertEqual(x.numberAttribute(name), y.numberAttribute(name), name, file: file, line: line)
    }
}

/// " at element I (A vs B)" or " in length (M vs N)": a short failure message for large arrays.
private func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> String {
    if let i = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) { return " at element \(i) (\(a[i]) vs \(b[i]))" }
    return a.count == b.count ? "" : " in length (\(a.count) vs \(b.count))"
}

/// Two evaluation outputs: every dataset and attribute equal, except timing, rank count and
/// resume bookkeeping.
func assertSameEvaluation(_ a: String, _ b: String) throws {
    let x = try StoredFile(path: a), y = try StoredFile(path: b)
    XCTAssertEqual(try x.stringAttribute("status"), "complete")
    XCTAssertEqual(try y.stringAttribute("status"), "complete")
    for name in ["auc", "auc_mean", "insertion_curve", "summary/mean", "summary/standard_error",
                 EvaluationOutput.blockCountsDataset] {
        XCTAssertEqual(try x.doubles(name), try y.doubles(name), name)
    }
    for name in ["assignment", "sample_index", EvaluationOutput.blockDoneDataset] {
        XCTAssertEqual(try x.int64s(name), try y.int64s(name), name)
    }
    let differ: Set = ["created", "elapsed_seconds", "evaluate_seconds", "evaluate_cpu_seconds", "ranks",
                       "resumed_blocks", "job", "job_file"]
    XCTAssertEqual(Set(x.attributeNames()), Set(y.attributeNames()))
    for name in x.attributeNames() where !differ.contains(name) {
        XCTAssertEqual(try? x.stringAttribute(name), try? y.stringAttribute(name), name)
        let u = x.numberAttribute(name), v = y.numberAttribute(name)      // sigma is NaN when unused
        XCTAssertTrue(u == v || (u?.isNaN == true && v?.isNaN == true), "\(name): \(String(describing: u)) vs \(String(describing: v))")
    }
}
