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

    func recorded(_ path: String) throws -> (blas: String, kernel: String, cpu: String) {
        let s = try StoredFile(path: path)
        return (try s.stringAttribute("blas") ?? "", try s.stringAttribute("blas_kernel") ?? "", try s.stringAttribute("cpu") ?? "")
    }

    func testOutputRecordsAKernelThatFitsTheCPU() throws {
        let job = try writeJob()
        let r = try NeonBatchProcess.run([job], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        let (blas, kernel, cpu) = try recorded(fx.path("out.h5"))
        let linked = BLASIdentity.linked
        XCTAssertEqual(blas, linked.config)
        XCTAssertTrue(r.stdout.contains("  blas:         \(linked.config)"), r.stdout)
        XCTAssertEqual(cpu, CPUFeatures.current?.model ?? "unknown")
        guard linked.library == "OpenBLAS", let machine = CPUFeatures.current else { return }
        let level = try XCTUnwrap(BLASKernelCheck.openBLASLevel(kernel), "unknown OpenBLAS kernel \(kernel)")
        if let set = userCoretype {
            XCTAssertEqual(kernel.lowercased(), set.lowercased(), "OPENBLAS_CORETYPE=\(set) is respected")
            XCTAssertEqual(r.stderr.contains("neon-batch: warning: the BLAS runs kernel"), level < machine.level, r.stderr)
        } else {
            XCTAssertGreaterThanOrEqual(level, machine.level, "kernel \(kernel) on a \(machine.level) CPU")
        }
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
        let (_, kernel, _) = try recorded(fx.path("out.h5"))
        let notes = r.stderr.split(separator: "\n").filter { $0.contains("OPENBLAS_CORETYPE") }
        if let set = userCoretype {
            XCTAssertEqual(kernel.lowercased(), set.lowercased())
            XCTAssertEqual(notes, ["neon-batch: warning: the BLAS runs kernel Prescott (SSE) on a CPU with \(machine.level): OPENBLAS_CORETYPE=\(set) is set, so it is kept (unset it, or set \(best), for full speed)"])
        } else {
            XCTAssertEqual(kernel, best, "every rank wrote with the corrected kernel")
            XCTAssertEqual(notes, ["neon-batch: note: the BLAS ran kernel Prescott on this \(machine.level) CPU; restarted with OPENBLAS_CORETYPE=\(best) (set it yourself to choose another)"],
                           "one note line, from rank 0")
            XCTAssertTrue(r.stdout.contains("(kernel corrected)"), r.stdout)
        }
        guard userCoretype == nil else { return }
        try FileManager.default.removeItem(atPath: fx.path("out.h5"))
        // NEON_BLAS_AUTOFIX=0 keeps the kernel and says so (a warning: even with --quiet)
        let off = try NeonBatchProcess.run([job, "--quiet"], ranks: 1,
                                           extraEnvironment: ["NEON_BLAS_TEST_KERNEL": "Prescott", "NEON_BLAS_AUTOFIX": "0"])
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertTrue(off.stderr.contains("NEON_BLAS_AUTOFIX=0, so it is kept (OPENBLAS_CORETYPE=\(best) gives full speed)"), off.stderr)
    }
}
