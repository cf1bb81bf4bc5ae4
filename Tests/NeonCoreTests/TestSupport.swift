import NeonCore

typealias SplitMix = SplitMix64

import Foundation

func randomModel(clusters: Int, features: Int, rng: inout SplitMix, offset: Double = 0) -> KMeansModel {
    KMeansModel(clusters: clusters, features: features,
                centroids: (0..<(clusters * features)).map { _ in 3 * rng.normal() + offset })
}

func randomPoints(_ n: Int, features: Int, rng: inout SplitMix, scale: Double = 3, offset: Double = 0) -> [[Double]] {
    (0..<n).map { _ in (0..<features).map { _ in scale * rng.normal() + offset } }
}

/// Exact Shapley values of v over `players` players, by enumerating all subsets.
func shapley(players: Int, value: ([Bool]) -> Double) -> [Double] {
    var phi = [Double](repeating: 0, count: players)
    let fact: (Int) -> Double = { n in (0..<n).reduce(1.0) { $0 * Double($1 + 1) } }
    for mask in 0..<(1 << players) {
        let inS = (0..<players).map { mask & (1 << $0) != 0 }
        let s = inS.filter { $0 }.count
        for i in 0..<players where !inS[i] {
            var withI = inS
            withI[i] = true
            let weight = fact(s) * fact(players - s - 1) / fact(players)
            phi[i] += weight * (value(withI) - value(inS))
        }
    }
    return phi
}

func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(b.map(abs).max() ?? 0, 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

/// A HeadEngine's explain over `n` rows given in float64: relevance, assignment and logits as float64.
func explainFast<T: NeonScalar>(_ engine: HeadEngine<T>, _ x: [Double], rows n: Int, beta: Double)
    -> (r: [Double], c: [Int64], f: [Double]) {
    let t = engine.targetCount, d = engine.features
    let xs = x.map { T($0) }
    var r = [T](repeating: 0, count: n * t * d), c = [Int64](repeating: -1, count: n), f = [Double](repeating: .nan, count: n * t)
    xs.withUnsafeBufferPointer { xp in
        engine.explain(xp.baseAddress!, rows: n, beta: beta, relevance: &r, assignment: &c, logit: &f)
    }
    return (r.map { Double($0) }, c, f)
}
