import Dispatch

/// The benchmarks' kernel width: gamma = 1 / the median, over a probe of the first 64 rows, of the
/// squared distance to the nearest of `m` support vectors (row-major, `d` features).
func medianNearestGamma(_ x: [Float], rows: Int, features d: Int, supportVectors sv: [Double], count m: Int) -> Double {
    let probe = min(rows, 64)
    var nearest = [Double](repeating: .infinity, count: probe)
    nearest.withUnsafeMutableBufferPointer { out in
        nonisolated(unsafe) let out = out
        DispatchQueue.concurrentPerform(iterations: probe) { n in
            var best = Double.infinity
            for j in 0..<m {
                var t = 0.0
                for f in 0..<d { let v = Double(x[n * d + f]) - sv[j * d + f]; t += v * v }
                best = min(best, t)
            }
            out[n] = best
        }
    }
    return 1 / nearest.sorted()[probe / 2]
}
