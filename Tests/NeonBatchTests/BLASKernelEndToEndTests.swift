import Foundation
import NeonCore
import Storage
import XCTest

/// The BLAS kernel end to end: every output records the library and kernel it ran, the kernel fits
/// the CPU's flags, and a too-weak kernel is corrected on every rank before MPI_Init. The
/// environment's OPENBLAS_CORETYPE, where this machine sets one, is left as it is (a value the user
/// set is respected; the tests then check that path instead).
final class BLASKernelEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    var userCoretype: String? { ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 } }

    func writeJob() throws -> String {
        let data = Fixture.blobs(rows: 400, features: 16, clusters: 5, seed: 3)
        try fx.writeInput(rows: 400, features: 16, values: data.x)
        try fx.writeModel(clusters: 5, features: 16, centroids: data.centroids)
        return try fx.writeJob()
    }

    func recorded(_ path: String) throws -> (blas: String, kernel: String, cpu: String, note: String?) {
        let s = try StoredFile(path: path)
        return (try s.stringAttribute("blas") ?? "", try s.stringAttribute("blas_kernel") ?? "", try s.stringAttribute("cpu") ?? "",
                try s.stringAttribute("blas_note"))
    }

    /// The summary's blas line.
    func blasLine(_ stdout: String) -> String? {
        stdout.split(separator: "\n").first { $0.hasPrefix("  blas:         ") }.map { String($0.dropFirst(16)) }
    }

    func testOutputRecordsAKernelThatFitsTheCPU() throws {
        let job = try writeJob()
        let r = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        let (blas, kernel, cpu, note) = try recorded(fx.path("out.h5"))
        let linked = BLASIdentity.linked
        XCTAssertEqual(blas, linked.config)
        XCTAssertEqual(blasLine(r.stdout), linked.summary + (note.map { "; " + $0 } ?? ""), r.stdout)
        XCTAssertEqual(cpu, CPUFeatures.current?.model ?? "unknown")
        guard linked.library == "OpenBLAS", let machine = CPUFeatures.current else { return }
        let level = try XCTUnwrap(BLASKernelCheck.openBLASLevel(kernel), "unknown OpenBLAS kernel \(kernel)")
        if let set = userCoretype {
            XCTAssertEqual(kernel.lowercased(), set.lowercased(), "OPENBLAS_CORETYPE=\(set) is respected")
            XCTAssertEqual(note?.contains("OPENBLAS_CORETYPE=\(set) is set, so it is kept") ?? false, level < machine.level)
        } else {
            XCTAssertGreaterThanOrEqual(level, machine.level, "kernel \(kernel) on a \(machine.level) CPU")
        }
        XCTAssertFalse(r.stderr.contains("neon-batch: warning"), r.stderr)
    }

    /// A stand-in for the reported kernel (the trap: SSE3 Prescott on an AVX-512 CPU) makes every
    /// rank restart with the best kernel for this CPU, which the output then records.
    func testWeakKernelIsCorrectedOnEveryRank() throws {
        guard BLASIdentity.linked.library == "OpenBLAS", let machine = CPUFeatures.current, machine.level > .sse,
              let best = BLASKernelCheck.openBLASKernel(for: machine) else {
            throw XCTSkip("needs OpenBLAS on a CPU with AVX or better")
        }
        let job = try writeJob()
        let r = try NeonBatchProcess.run([job], ranks: 2, extraEnvironment: ["NEON_BLAS_TEST_KERNEL": "Prescott"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, kernel, _, note) = try recorded(fx.path("out.h5"))
        let expected: String
        if let set = userCoretype {
            XCTAssertEqual(kernel.lowercased(), set.lowercased())
            expected = "the BLAS runs kernel Prescott (SSE) on a CPU with \(machine.level): OPENBLAS_CORETYPE=\(set) is set, so it is kept (unset it, or set \(best), for full speed)"
        } else {
            XCTAssertEqual(kernel, best, "every rank wrote with the corrected kernel")
            expected = "the BLAS ran kernel Prescott on this \(machine.level) CPU; restarted with OPENBLAS_CORETYPE=\(best) (set it yourself to choose another)"
        }
        XCTAssertEqual(note, expected)
        XCTAssertEqual(blasLine(r.stdout), BLASIdentity.linked.config.replacingOccurrences(of: BLASIdentity.linked.kernel, with: kernel)
                       + "; " + expected, "the summary says what was done, once")
        XCTAssertEqual(r.stdout.components(separatedBy: "OPENBLAS_CORETYPE").count, 2, r.stdout)
        XCTAssertFalse(r.stderr.contains("OPENBLAS_CORETYPE"), "nothing on stderr: " + r.stderr)
        guard userCoretype == nil else { return }
        try FileManager.default.removeItem(atPath: fx.path("out.h5"))
        // NEON_BLAS_AUTOFIX=0 keeps the kernel and says so in the record
        let off = try NeonBatchProcess.run([job, "--quiet"], ranks: 1,
                                           extraEnvironment: ["NEON_BLAS_TEST_KERNEL": "Prescott", "NEON_BLAS_AUTOFIX": "0"])
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertEqual(off.stdout + off.stderr, "", "--quiet prints nothing")
        XCTAssertEqual(try recorded(fx.path("out.h5")).note,
                       "the BLAS runs kernel Prescott (SSE) on a CPU with \(machine.level): NEON_BLAS_AUTOFIX=0, so it is kept (OPENBLAS_CORETYPE=\(best) gives full speed)")
    }
}
