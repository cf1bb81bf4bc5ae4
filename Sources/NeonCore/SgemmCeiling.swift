import Dispatch

/// What benchmarks measure throughput against (figures, never timed tests): the best wall time of
/// a piece of work, and the sgemm ceiling of this machine in the same process.
public enum BenchmarkTiming {
    /// The shortest of `repeats` (at least 1) wall times of `body`, in seconds.
    public static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        var t = Double.infinity
        for _ in 0..<max(1, repeats) {
            let s = DispatchTime.now().uptimeNanoseconds
            body()
            t = min(t, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        return t
    }

    /// GFLOP/s when every one of `threads` threads runs its own float32 GEMM (4096 x features) @
    /// (features x columns), `callsPerThread` times, best of `rounds` (as the numpy peer measures).
    public static func sgemmCeiling(features d: Int, columns n: Int = 1000, threads: Int,
                                    rounds: Int = 5, callsPerThread: Int = 1) -> Double {
        let m = 4096
        let a = [Float](repeating: 0.5, count: m * d), b = [Float](repeating: 0.25, count: d * n)
        let c = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * n) }
        defer { c.forEach { $0.deallocate() } }
        nonisolated(unsafe) let cs = c
        let t = best(rounds) {
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        for _ in 0..<callsPerThread {
                            Float.gemm(m: m, n: n, k: d, alpha: 1, a: a.baseAddress!, lda: d, b: b.baseAddress!, ldb: d,
                                       transposeB: true, beta: 0, c: cs[i], ldc: n)
                        }
                    }
                }
            }
        }
        return Double(threads * callsPerThread) * 2 * Double(m * n * d) / t / 1e9
    }
}
