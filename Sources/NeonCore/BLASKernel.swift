import CBLAS
import Foundation

/// The BLAS this build links and the kernel it runs on this CPU. Every figure depends on it: a
/// distribution's OpenBLAS that does not know a new CPU falls back to its SSE3 kernels (5x slower).
public struct BLASIdentity: Sendable, Equatable {
    /// "OpenBLAS", "BLIS" or "MKL".
    public let library: String
    /// The library's own description ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Cooperlake MAX_THREADS=64").
    public let config: String
    /// The kernel set in use ("Cooperlake", "Haswell", "zen3", "AVX512", ...).
    public let kernel: String

    public static let linked = BLASIdentity(library: String(cString: neon_blas_library()),
                                            config: String(cString: neon_blas_config()),
                                            kernel: String(cString: neon_blas_kernel()))

    /// One line for run summaries: "OpenBLAS 0.3.21 ..., kernel Cooperlake".
    public var summary: String { config.contains(kernel) ? config : "\(config), kernel \(kernel)" }
}

/// What a CPU offers, read from /proc/cpuinfo (Linux): vendor, model name and the SIMD level.
public struct CPUFeatures: Sendable, Equatable {
    /// The widest vector instruction set the BLAS kernels below use, in order.
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        case sse = 0, avx, avx2, avx512
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["SSE", "AVX", "AVX2+FMA", "AVX-512"][rawValue] }
    }

    public let vendor: String
    public let model: String
    public let flags: Set<String>

    public init(vendor: String, model: String, flags: Set<String>) {
        self.vendor = vendor
        self.model = model
        self.flags = flags
    }

    /// AVX-512 as OpenBLAS's SkylakeX kernels need it (F, BW, DQ, VL); AVX2 with FMA3; AVX.
    public var level: Level {
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return .avx512 }
        if flags.isSuperset(of: ["avx2", "fma"]) { return .avx2 }
        return flags.contains("avx") ? .avx : .sse
    }

    public var isAMD: Bool { vendor == "AuthenticAMD" }

    /// Parses the first processor block of /proc/cpuinfo.
    public init(cpuinfo text: String) {
        var vendor = "", model = "", flags = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "vendor_id" where vendor.isEmpty: vendor = value
            case "model name" where model.isEmpty: model = value
            case "flags" where flags.isEmpty: flags = Set(value.split(separator: " ").map(String.init))
            default: break
            }
        }
        self.init(vendor: vendor, model: model, flags: flags)
    }

    /// This machine's CPU (nil where /proc/cpuinfo cannot be read).
    public static let current: CPUFeatures? = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
        .map { CPUFeatures(cpuinfo: $0) }
}

/// Whether the BLAS kernel matches the CPU, and what to do when it does not (OpenBLAS only: its
/// kernel is chosen when the library loads, from OPENBLAS_CORETYPE or its own detection, so a
/// correction means running the program again with OPENBLAS_CORETYPE set, before MPI_Init).
public enum BLASKernelCheck {
    /// Set on the re-executed process: "FROM>TO" (and it stops a second correction).
    public static let correctedVariable = "NEON_BLAS_KERNEL_CORRECTED"
    /// "0" turns the correction off (the kernel is still reported).
    public static let switchVariable = "NEON_BLAS_AUTOFIX"

    public enum Decision: Equatable, Sendable {
        /// The kernel fits the CPU (or nothing is known that says otherwise).
        case keep
        /// The kernel is weaker than the CPU but was chosen by the user (OPENBLAS_CORETYPE, or
        /// NEON_BLAS_AUTOFIX=0): kept; the note (for the run summary) says what would be faster.
        case kept(String)
        /// A correction that did not work: computing at reduced speed (a warning on stderr).
        case warn(String)
        /// Run again with OPENBLAS_CORETYPE = the value.
        case reexec(coretype: String)
        /// This process was re-executed with the kernel corrected; the note says from and to.
        case corrected(String)
    }

    /// The SIMD level of an OpenBLAS kernel name (openblas_get_corename), nil when unknown.
    public static func openBLASLevel(_ kernel: String) -> CPUFeatures.Level? {
        switch kernel.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen", "excavator": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return .avx
        case "prescott", "katmai", "coppermine", "northwood", "banias", "atom", "core2", "penryn", "dunnington",
             "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat":
            return .sse
        default: return nil
        }
    }

    /// The best OpenBLAS kernel for a CPU level: SkylakeX for AVX-512, Zen (AMD) or Haswell for
    /// AVX2 + FMA, Sandybridge for AVX.
    public static func openBLASKernel(for cpu: CPUFeatures) -> String? {
        switch cpu.level {
        case .avx512: return "SkylakeX"
        case .avx2: return cpu.isAMD ? "Zen" : "Haswell"
        case .avx: return "Sandybridge"
        case .sse: return nil
        }
    }

    /// The decision for a library, the kernel it reports, the CPU and the environment.
    public static func decide(library: String, kernel: String, cpu: CPUFeatures?,
                              environment: [String: String]) -> Decision {
        if let done = environment[correctedVariable], !done.isEmpty {
            let parts = done.split(separator: ">").map(String.init)
            let from = parts.first ?? "?", to = parts.count > 1 ? parts[1] : "?"
            if kernel.lowercased() == to.lowercased() {
                return .corrected("the BLAS ran kernel \(from) on this \(cpu?.level.description ?? "") CPU; "
                                  + "restarted with OPENBLAS_CORETYPE=\(to) (set it yourself to choose another)")
            }
            return .warn("OPENBLAS_CORETYPE=\(to) did not take effect (kernel \(kernel)); computing at reduced speed")
        }
        guard library == "OpenBLAS", let cpu else { return .keep }
        guard let have = openBLASLevel(kernel), have < cpu.level, let best = openBLASKernel(for: cpu) else {
            return .keep
        }
        let why = "the BLAS runs kernel \(kernel) (\(have)) on a CPU with \(cpu.level)"
        if let set = environment["OPENBLAS_CORETYPE"], !set.isEmpty {
            return .kept("\(why): OPENBLAS_CORETYPE=\(set) is set, so it is kept (unset it, or set \(best), for full speed)")
        }
        if environment[switchVariable] == "0" {
            return .kept("\(why): \(switchVariable)=0, so it is kept (OPENBLAS_CORETYPE=\(best) gives full speed)")
        }
        return .reexec(coretype: best)
    }

    /// Checks the linked BLAS against this CPU and, where the kernel is too weak and may be
    /// changed, runs this program again (same arguments, same process id, so under mpirun and
    /// srun too) with OPENBLAS_CORETYPE set. Call it first, before MPI_Init and any BLAS call.
    /// Returns what happened, for the run summary (nil: the kernel fits the CPU). NEON_BLAS_TEST_KERNEL
    /// stands in for the reported kernel (for the end-to-end test of the correction on a CPU that
    /// OpenBLAS knows).
    public static func correctBeforeFirstUse() -> Decision {
        var environment = ProcessInfo.processInfo.environment
        let blas = BLASIdentity.linked
        var kernel = blas.kernel
        if let stand = environment["NEON_BLAS_TEST_KERNEL"], environment[correctedVariable] == nil { kernel = stand }
        let decision = decide(library: blas.library, kernel: kernel, cpu: CPUFeatures.current, environment: environment)
        switch decision {
        case .keep, .kept, .warn, .corrected: return decision
        case .reexec(let coretype):
            environment["OPENBLAS_CORETYPE"] = coretype
            environment[correctedVariable] = "\(kernel)>\(coretype)"
            let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            execve("/proc/self/exe", CommandLine.unsafeArgv, env)
            // Only reached when exec failed: go on with the weak kernel.
            return .warn("the BLAS runs kernel \(kernel); restarting with OPENBLAS_CORETYPE=\(coretype) failed "
                         + "(\(String(cString: strerror(errno)))); computing at reduced speed")
        }
    }
}
