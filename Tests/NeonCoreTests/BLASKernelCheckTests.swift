import NeonCore
import XCTest

/// The kernel check's decision on a table of CPUs, reported kernels and environments (the
/// correction cannot be observed on a CPU that the linked OpenBLAS recognises, so the decision is
/// tested here and the re-execution end to end in BLASKernelEndToEndTests).
final class BLASKernelCheckTests: XCTestCase {
    static let sapphireRapids = CPUFeatures(vendor: "GenuineIntel", model: "Intel(R) Xeon(R) Platinum 8581C",
                                            flags: ["sse", "sse2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                                    "avx512dq", "avx512vl", "avx512cd", "avx512_fp16"])
    static let haswell = CPUFeatures(vendor: "GenuineIntel", model: "Intel(R) Xeon(R) CPU E5-2680 v3",
                                     flags: ["sse", "sse2", "avx", "avx2", "fma"])
    static let zen3 = CPUFeatures(vendor: "AuthenticAMD", model: "AMD EPYC 7763", flags: ["sse", "avx", "avx2", "fma"])
    static let sandyBridge = CPUFeatures(vendor: "GenuineIntel", model: "Intel(R) Xeon(R) CPU E5-2670", flags: ["sse", "avx"])
    static let old = CPUFeatures(vendor: "GenuineIntel", model: "Intel(R) Core(TM)2", flags: ["sse", "sse2", "ssse3"])
    /// AVX2 without FMA (some VIA/Zhaoxin parts): not enough for the Haswell kernels.
    static let avx2NoFMA = CPUFeatures(vendor: "CentaurHauls", model: "VIA", flags: ["sse", "avx", "avx2"])

    func testLevels() {
        XCTAssertEqual(Self.sapphireRapids.level, .avx512)
        XCTAssertEqual(Self.haswell.level, .avx2)
        XCTAssertEqual(Self.zen3.level, .avx2)
        XCTAssertEqual(Self.sandyBridge.level, .avx)
        XCTAssertEqual(Self.old.level, .sse)
        XCTAssertEqual(Self.avx2NoFMA.level, .avx)
        // AVX-512F alone (Knights Landing) lacks BW/DQ/VL for the SkylakeX kernels
        XCTAssertEqual(CPUFeatures(vendor: "GenuineIntel", model: "KNL", flags: ["avx", "avx2", "fma", "avx512f", "avx512cd"]).level, .avx2)
    }

    func testDecisionTable() {
        typealias D = BLASKernelCheck.Decision
        let none: [String: String] = [:]
        let cases: [(String, CPUFeatures?, String, String, [String: String], D)] = [
            // the trap: Debian's OpenBLAS 0.3.21 on Sapphire/Emerald Rapids falls back to Prescott
            ("SPR, Prescott", Self.sapphireRapids, "OpenBLAS", "Prescott", none, .reexec(coretype: "SkylakeX")),
            ("SPR, Nehalem", Self.sapphireRapids, "OpenBLAS", "Nehalem", none, .reexec(coretype: "SkylakeX")),
            ("SPR, Sandybridge", Self.sapphireRapids, "OpenBLAS", "Sandybridge", none, .reexec(coretype: "SkylakeX")),
            ("SPR, Haswell", Self.sapphireRapids, "OpenBLAS", "Haswell", none, .reexec(coretype: "SkylakeX")),
            ("SPR, SkylakeX", Self.sapphireRapids, "OpenBLAS", "SkylakeX", none, .keep),
            ("SPR, Cooperlake", Self.sapphireRapids, "OpenBLAS", "Cooperlake", none, .keep),
            ("SPR, SapphireRapids", Self.sapphireRapids, "OpenBLAS", "SapphireRapids", none, .keep),
            ("Haswell, Prescott", Self.haswell, "OpenBLAS", "Prescott", none, .reexec(coretype: "Haswell")),
            ("Haswell, Haswell", Self.haswell, "OpenBLAS", "Haswell", none, .keep),
            ("Zen 3, Sandybridge", Self.zen3, "OpenBLAS", "Sandybridge", none, .reexec(coretype: "Zen")),
            ("Zen 3, Zen", Self.zen3, "OpenBLAS", "Zen", none, .keep),
            ("Sandy Bridge, Prescott", Self.sandyBridge, "OpenBLAS", "Prescott", none, .reexec(coretype: "Sandybridge")),
            ("Sandy Bridge, Sandybridge", Self.sandyBridge, "OpenBLAS", "Sandybridge", none, .keep),
            ("Core 2, Core2", Self.old, "OpenBLAS", "Core2", none, .keep),
            ("AVX2 without FMA, Sandybridge", Self.avx2NoFMA, "OpenBLAS", "Sandybridge", none, .keep),
            // a kernel name this check does not know: do nothing
            ("SPR, unknown kernel", Self.sapphireRapids, "OpenBLAS", "Graniterapids2", none, .keep),
            // other libraries choose their kernels themselves
            ("SPR, BLIS generic", Self.sapphireRapids, "BLIS", "generic", none, .keep),
            ("SPR, MKL", Self.sapphireRapids, "MKL", "AVX2", none, .keep),
            ("no /proc/cpuinfo", nil, "OpenBLAS", "Prescott", none, .keep),
        ]
        for (name, cpu, library, kernel, env, expected) in cases {
            XCTAssertEqual(BLASKernelCheck.decide(library: library, kernel: kernel, cpu: cpu, environment: env), expected, name)
        }
    }

    func testUserSettingsAreRespected() {
        let set = BLASKernelCheck.decide(library: "OpenBLAS", kernel: "Prescott", cpu: Self.sapphireRapids,
                                         environment: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(set, .kept("the BLAS runs kernel Prescott (SSE) on a CPU with AVX-512: OPENBLAS_CORETYPE=Prescott is set, so it is kept (unset it, or set SkylakeX, for full speed)"))
        let off = BLASKernelCheck.decide(library: "OpenBLAS", kernel: "Prescott", cpu: Self.haswell,
                                         environment: ["NEON_BLAS_AUTOFIX": "0"])
        XCTAssertEqual(off, .kept("the BLAS runs kernel Prescott (SSE) on a CPU with AVX2+FMA: NEON_BLAS_AUTOFIX=0, so it is kept (OPENBLAS_CORETYPE=Haswell gives full speed)"))
        // a user's value that fits the CPU: nothing to say
        XCTAssertEqual(BLASKernelCheck.decide(library: "OpenBLAS", kernel: "SkylakeX", cpu: Self.sapphireRapids,
                                              environment: ["OPENBLAS_CORETYPE": "SkylakeX"]), .keep)
    }

    func testAfterTheRestart() {
        let env = [BLASKernelCheck.correctedVariable: "Prescott>SkylakeX", "OPENBLAS_CORETYPE": "SkylakeX"]
        XCTAssertEqual(BLASKernelCheck.decide(library: "OpenBLAS", kernel: "SkylakeX", cpu: Self.sapphireRapids, environment: env),
                       .corrected("the BLAS ran kernel Prescott on this AVX-512 CPU; restarted with OPENBLAS_CORETYPE=SkylakeX (set it yourself to choose another)"))
        // the restart did not help (a library without that kernel): warn, never restart again
        XCTAssertEqual(BLASKernelCheck.decide(library: "OpenBLAS", kernel: "Prescott", cpu: Self.sapphireRapids, environment: env),
                       .warn("OPENBLAS_CORETYPE=SkylakeX did not take effect (kernel Prescott); computing at reduced speed"))
    }

    func testCPUInfoParsing() {
        let text = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            cpu family\t: 6
            model\t\t: 207
            model name\t: INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz
            flags\t\t: fpu sse sse2 avx fma avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16

            processor\t: 1
            vendor_id\t: GenuineIntel
            model name\t: other
            flags\t\t: fpu
            """
        let cpu = CPUFeatures(cpuinfo: text)
        XCTAssertEqual(cpu.vendor, "GenuineIntel")
        XCTAssertEqual(cpu.model, "INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz")
        XCTAssertEqual(cpu.level, .avx512)
        XCTAssertFalse(cpu.isAMD)
    }

    /// The linked library reports itself, and (OpenBLAS) with a kernel this check knows.
    func testLinkedLibraryIsKnown() {
        let blas = BLASIdentity.linked
        print("linked BLAS: \(blas.summary)")
        XCTAssertTrue(["OpenBLAS", "BLIS", "MKL"].contains(blas.library), blas.library)
        // scripts/test.sh builds these tests against a second BLAS too: it must be the one linked
        if let expected = ProcessInfo.processInfo.environment["NEON_EXPECT_BLAS"] { XCTAssertEqual(blas.library, expected) }
        XCTAssertFalse(blas.kernel.isEmpty)
        XCTAssertTrue(blas.summary.contains(blas.kernel))
        if blas.library == "OpenBLAS" {
            XCTAssertNotNil(BLASKernelCheck.openBLASLevel(blas.kernel), "unknown OpenBLAS kernel \(blas.kernel)")
        }
    }
}
