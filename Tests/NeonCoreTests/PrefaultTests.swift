import Foundation
import NeonKernels
import XCTest

/// neon_prefault_write maps a range's pages without writing to them (the kept scores' pages
/// are mapped per tile in one call, not by a page fault per 4 KiB).
final class PrefaultTests: XCTestCase {
    func residentPages(_ p: UnsafeMutableRawPointer, _ bytes: Int, _ page: Int) -> Int {
        var vec = [UInt8](repeating: 0, count: (bytes + page - 1) / page)
        XCTAssertEqual(mincore(p, bytes, &vec), 0)
        return vec.filter { $0 & 1 != 0 }.count
    }

    func testPrefaultMapsEveryPageOfTheRangeAndChangesNothing() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), pages = 1024
        guard let p = mmap(nil, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else { return XCTFail("mmap failed") }
        defer { munmap(p, pages * page) }
        XCTAssertEqual(residentPages(p, pages * page, page), 0, "a fresh anonymous mapping has no pages")
        // An unaligned range from the middle of page 10 to the middle of page 500: pages 10...500.
        neon_prefault_write(p + 10 * page + 123, 490 * page)
        // The kernel's own answer decides whether the call can work here (the last page, untouched).
        if madvise(p + (pages - 1) * page, page, 23 /* MADV_POPULATE_WRITE */) != 0 && errno == EINVAL {
            throw XCTSkip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14+): the pages fault in as usual")
        }
        XCTAssertEqual(residentPages(p, (pages - 1) * page, page), 491)
        XCTAssertEqual(residentPages(p + 10 * page, 491 * page, page), 491)
        let bytes = p.bindMemory(to: UInt8.self, capacity: pages * page)
        XCTAssertTrue((0..<(pages * page)).allSatisfy { bytes[$0] == 0 }, "no byte written")
        neon_prefault_write(p, 0)       // nothing to do
        neon_prefault_write(p, -5)
    }
}
