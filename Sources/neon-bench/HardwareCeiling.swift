import Dispatch
import Foundation
import HardwarePeak
import NeonCore

/// What a benchmark's GFLOP/s are put against: the CPU's single-precision FMA peak (cores x clock
/// x FLOPs per cycle, each measured by a short loop), and the sgemm of every BLAS installed here,
/// each with the kernel it runs. A share of the linked BLAS's own sgemm alone hides a BLAS that runs
/// the wrong kernel (Debian's OpenBLAS 0.3.21 on Sapphire Rapids: SSE3 kernels, 1/5 of the peak).
struct FMAPeak {
    let threads: Int
    let vectorBits: Int
    /// The clock the FMA loop ran at (its rate over FLOPs per cycle), GHz, all threads busy.
    let clock: Double
    /// The clock an integer add chain ran at, GHz (a check on the above).
    let measuredClock: Double
    let flopsPerCycle: Double
    var gflops: Double { Double(threads) * clock * flopsPerCycle }

    var description: String {
        String(format: "FMA peak %.0f GFLOP/s = %d cores x %.2f GHz x %.0f FLOP/cycle (%d-bit FMA loop; add chain: %.2f GHz)",
               gflops, threads, clock, flopsPerCycle, vectorBits, measuredClock)
    }

    /// Both loops run on every thread at once, best of `rounds`.
    static func measure(threads: Int, rounds: Int = 3) -> FMAPeak? {
        let bits = Int(neon_peak_vector_bits())
        guard bits > 0 else { return nil }
        func rate(_ body: @Sendable @escaping () -> Double) -> Double {
            var best = 0.0
            for _ in 0..<rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                let work = Locked(0.0)
                DispatchQueue.concurrentPerform(iterations: threads) { _ in work.add(body()) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = max(best, work.value / seconds / Double(threads))
            }
            return best
        }
        var cyclesPerSecond = 0.0, flopsPerSecond = 0.0
        for _ in 0..<2 {                                     // interleaved: both see the same machine
            cyclesPerSecond = max(cyclesPerSecond, rate { neon_peak_add_chain(60_000_000) })
            flopsPerSecond = max(flopsPerSecond, rate { neon_peak_fma_loop(Int32(bits), 40_000_000) })
        }
        // FLOPs per cycle is a power of two (lanes x 2 x FMA ports); the peak is what the loop ran.
        let perCycle = exp2((log2(flopsPerSecond / cyclesPerSecond)).rounded())
        return FMAPeak(threads: threads, vectorBits: bits, clock: flopsPerSecond / perCycle / 1e9,
                       measuredClock: cyclesPerSecond / 1e9, flopsPerCycle: perCycle)
    }
}

/// A sum shared by the threads of one measurement.
final class Locked: @unchecked Sendable {
    private var total: Double
    private let lock = NSLock()
    init(_ value: Double) { total = value }
    func add(_ v: Double) { lock.lock(); total += v; lock.unlock() }
    var value: Double { lock.lock(); defer { lock.unlock() }; return total }
}

/// One installed BLAS, loaded on its own (RTLD_DEEPBIND: its cblas_sgemm calls its own kernels, not
/// those of the BLAS this program links).
struct InstalledBLAS {
    let name: String
    let path: String
    let kernel: String
    let sgemm: Sgemm

    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    /// Debian's OpenBLAS and BLIS flavours, MKL from Debian or from `scripts/setup.sh --blas mkl`
    /// (.build/mkl), NEON_MKL_LIB, and any library given with --blas-lib.
    static func candidates(extra: [String]) -> [String] {
        let lib = "/usr/lib/x86_64-linux-gnu"
        var paths = ["openblas-pthread", "openblas-serial", "openblas-openmp"].map { "\(lib)/\($0)/libopenblas.so.0" }
            + ["blis-serial", "blis-pthread", "blis-openmp"].map { "\(lib)/\($0)/libblis.so.4" }
            + ["\(lib)/libmkl_rt.so"]
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/mkl/lib").path
        if let mkl = try? FileManager.default.contentsOfDirectory(atPath: repo).filter({ $0.hasPrefix("libmkl_rt.so") }).sorted().last {
            paths.append("\(repo)/\(mkl)")
        }
        if let p = ProcessInfo.processInfo.environment["NEON_MKL_LIB"] { paths.append(p) }
        return (paths + extra).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Loads the library at `path`, single-threaded, or nil when it has no cblas_sgemm.
    static func load(_ path: String) -> InstalledBLAS? {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND), let f = dlsym(h, "cblas_sgemm") else { return nil }
        func symbol<T>(_ name: String, _ type: T.Type) -> T? { dlsym(h, name).map { unsafeBitCast($0, to: type) } }
        typealias SetInt = @convention(c) (Int32) -> Void
        typealias SetLong = @convention(c) (Int) -> Void
        typealias Name = @convention(c) () -> UnsafePointer<CChar>?
        var name = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        var kernel = "?"
        if let corename = symbol("openblas_get_corename", Name.self) {
            symbol("openblas_set_num_threads", SetInt.self)?(1)
            kernel = corename().map { String(cString: $0) } ?? "?"
            name = "OpenBLAS (\(name))"
        } else if let arch = symbol("bli_arch_query_id", (@convention(c) () -> Int32).self),
                  let archName = symbol("bli_arch_string", (@convention(c) (Int32) -> UnsafePointer<CChar>?).self) {
            symbol("bli_thread_set_num_threads", SetLong.self)?(1)
            kernel = archName(arch()).map { String(cString: $0) } ?? "?"
            name = "BLIS (\(name))"
        } else if let layer = symbol("MKL_Set_Threading_Layer", (@convention(c) (Int32) -> Int32).self) {
            _ = layer(1)                                          // MKL_THREADING_SEQUENTIAL
            let branch = symbol("MKL_CBWR_Get_Auto_Branch", (@convention(c) () -> Int32).self)?() ?? -1
            kernel = [10: "AVX2", 12: "AVX512", 14: "AVX512_E1", 15: "AVX10", 8: "SSE4_2", 4: "SSE2", 3: "COMPATIBLE"][branch]
                ?? "not reported (CBWR branch \(branch))"
            name = "MKL (\(URL(fileURLWithPath: path).lastPathComponent))"
        }
        return InstalledBLAS(name: name, path: path, kernel: kernel, sgemm: unsafeBitCast(f, to: Sgemm.self))
    }

    /// GFLOP/s when every thread runs its own (4096 x d) @ (d x n)^T, as BenchmarkTiming.sgemmCeiling.
    func ceiling(features d: Int, columns n: Int, threads: Int, calls: Int = 5) -> Double {
        let m = 4096
        let a = [Float](repeating: 0.5, count: m * d), b = [Float](repeating: 0.25, count: d * n)
        let c = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * n) }
        defer { c.forEach { $0.deallocate() } }
        nonisolated(unsafe) let cs = c
        let f = sgemm
        let t = BenchmarkTiming.best(5) {
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                for _ in 0..<calls {
                    // row-major (101), A not transposed (111), B transposed (112)
                    f(101, 111, 112, Int32(m), Int32(n), Int32(d), 1, a, Int32(d), b, Int32(d), 0, cs[i], Int32(n))
                }
            }
        }
        return Double(threads * calls) * 2 * Double(m * n * d) / t / 1e9
    }
}

/// The header every benchmark prints: CPU, peak, the linked BLAS and the others installed.
enum HardwareReport {
    static func print(features d: Int, columns n: Int, threads: Int, extraLibraries: [String]) -> FMAPeak? {
        let cpu = CPUFeatures.current
        Swift.print("neon-bench: CPU \(cpu?.model ?? "unknown") (\(cpu?.level.description ?? "?")), \(threads) threads")
        let peak = FMAPeak.measure(threads: threads)
        Swift.print("  " + (peak?.description ?? "FMA peak: no AVX2/FMA on this CPU"))
        let linked = BLASIdentity.linked
        Swift.print("  linked BLAS: \(linked.summary)")
        for path in InstalledBLAS.candidates(extra: extraLibraries) {
            guard let blas = InstalledBLAS.load(path) else { continue }
            let g = blas.ceiling(features: d, columns: n, threads: threads)
            Swift.print(String(format: "  sgemm %@, kernel %@: %.1f GFLOP/s%@", blas.name, blas.kernel, g,
                               peak.map { String(format: " = %.1f%% of the FMA peak", 100 * g / $0.gflops) } ?? ""))
        }
        return peak
    }

    /// " = 62.1% of the FMA peak" (or nothing without one).
    static func share(_ gflops: Double, _ peak: FMAPeak?) -> String {
        peak.map { String(format: " = %.1f%% of the FMA peak", 100 * gflops / $0.gflops) } ?? ""
    }
}
