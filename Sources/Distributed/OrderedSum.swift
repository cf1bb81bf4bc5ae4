import CMPI

extension Communicator {
    /// Element-wise sum of every rank's `values` (float64), summed on rank 0 in rank order and
    /// broadcast: every rank gets bit-identical results, and the summation order is fixed for a
    /// given number of ranks (MPI_Allreduce promises neither). Collective; all ranks pass arrays
    /// of the same length. Large arrays go in pieces (MPI counts are Int32).
    public func orderedSum(_ values: inout [Double]) {
        guard size > 1 else { return }
        let piece = 1 << 22
        var gathered = [Double](repeating: 0, count: isRoot ? min(values.count, piece) * size : 0)
        var start = 0
        while start < values.count {
            let n = min(piece, values.count - start)
            let bytes = n * MemoryLayout<Double>.stride
            values.withUnsafeMutableBufferPointer { v in
                gathered.withUnsafeMutableBufferPointer { g in
                    gatherv(send: v.baseAddress! + start, sendCount: bytes, receive: g.baseAddress,
                            counts: [Int](repeating: bytes, count: size),
                            displacements: (0..<size).map { $0 * bytes })
                    if isRoot {
                        for i in 0..<n {
                            var s = 0.0
                            for r in 0..<size { s += g[r * n + i] }
                            v[start + i] = s
                        }
                    }
                    broadcast(UnsafeMutableRawPointer(v.baseAddress! + start), bytes: bytes)
                }
            }
            start += n
        }
    }

    /// Every rank's `values` (any lengths) concatenated in rank order on rank 0; [] elsewhere.
    public func gatherToRoot(_ values: [Double]) -> [Double] {
        let w = MemoryLayout<Double>.stride
        var counts = [Int64](repeating: 0, count: isRoot ? size : 0)
        var mine = Int64(values.count)
        counts.withUnsafeMutableBytes { c in
            gatherv(send: &mine, sendCount: 8, receive: c.baseAddress, counts: [Int](repeating: 8, count: size),
                    displacements: (0..<size).map { $0 * 8 })
        }
        let total = counts.reduce(0, +)
        var out = [Double](repeating: 0, count: Int(total))
        var displacements: [Int] = []
        var offset = 0
        for c in counts { displacements.append(offset * w); offset += Int(c) }
        values.withUnsafeBytes { v in
            out.withUnsafeMutableBytes { o in
                gatherv(send: v.baseAddress, sendCount: v.count, receive: o.baseAddress,
                        counts: isRoot ? counts.map { Int($0) * w } : [Int](repeating: 0, count: size),
                        displacements: isRoot ? displacements : [Int](repeating: 0, count: size))
            }
        }
        return out
    }
}
