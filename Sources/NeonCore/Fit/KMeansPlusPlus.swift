import Dispatch
import Foundation

/// k-means++ seeding (Arthur & Vassilvitskii 2007) on a sample of rows (S x d, float64): the
/// first centre uniformly, each further one with probability proportional to its squared
/// distance to the nearest centre chosen so far (D^2 weighting). One candidate per step (no
/// greedy trials). Deterministic for a seed.
public enum KMeansPlusPlus {
    public static func seed(sample: [Double], features d: Int, clusters K: Int, seed: UInt64) -> [Double] {
        let S = sample.count / d
        precondition(S >= 1 && K >= 1)
        var rng = SplitMix64(seed: seed)
        var centres = [Double](repeating: 0, count: K * d)
        var nearest = [Double](repeating: .infinity, count: S)
        var pick = Int.random(in: 0..<S, using: &rng)
        let parts = max(1, min(8, S / 2048))
        for k in 0..<K {
            for i in 0..<d { centres[k * d + i] = sample[pick * d + i] }
            if k == K - 1 { break }
            // D^2 update against the new centre, in parallel over fixed parts of the sample.
            sample.withUnsafeBufferPointer { xs in
                nearest.withUnsafeMutableBufferPointer { nb in
                    nonisolated(unsafe) let xp = xs.baseAddress!, np = nb.baseAddress!
                    let c = Array(sample[(pick * d)..<((pick + 1) * d)])
                    ComputeThreads.forEach(parts) { p in
                        c.withUnsafeBufferPointer { cp in
                            for s in (S * p / parts)..<(S * (p + 1) / parts) {
                                var acc = 0.0
                                let row = xp + s * d
                                for i in 0..<d { let v = row[i] - cp[i]; acc += v * v }
                                if acc < np[s] { np[s] = acc }
                            }
                        }
                    }
                }
            }
            let total = nearest.reduce(0, +)
            if total > 0 {
                var target = Double.random(in: 0..<1, using: &rng) * total
                pick = S - 1
                for s in 0..<S {
                    target -= nearest[s]
                    if target < 0 { pick = s; break }
                }
            } else {
                pick = Int.random(in: 0..<S, using: &rng)   // fewer distinct points than K
            }
        }
        return centres
    }
}
