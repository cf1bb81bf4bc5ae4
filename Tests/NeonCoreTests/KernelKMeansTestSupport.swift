import NeonCore

/// A kernel k-means model with sizes[k] support vectors spread (`within`) around random cluster
/// centres (`spread`, `offset`), the rows shuffled (clusters not contiguous).
func randomKernelModel(sizes: [Int], features: Int, gamma: Double, rng: inout SplitMix,
                       spread: Double = 3, within: Double = 1, offset: Double = 0) -> KernelKMeansModel {
    let centres = sizes.map { _ in (0..<features).map { _ in spread * rng.normal() + offset } }
    var rows: [(u: [Double], k: Int)] = []
    for (k, n) in sizes.enumerated() {
        for _ in 0..<n { rows.append((centres[k].map { $0 + within * rng.normal() }, k)) }
    }
    rows.shuffle(using: &rng)
    return try! KernelKMeansModel(features: features, supportVectors: rows.flatMap { $0.u },
                                  supportCluster: rows.map { $0.k }, gamma: gamma)
}

/// Points scattered (`noise`) around randomly chosen support vectors.
func pointsNearSupportVectors(_ n: Int, model: KernelKMeansModel, noise: Double, rng: inout SplitMix) -> [[Double]] {
    (0..<n).map { _ in
        let j = Int.random(in: 0..<model.count, using: &rng)
        return model.supportVector(j).map { $0 + noise * rng.normal() }
    }
}

/// The kernel k-means fast path on `points` in precision T, results in float64.
func runKernelFastPath<T: KernelScalar>(_: T.Type, model: KernelKMeansModel, points: [[Double]], beta: Double,
                                        rule: KernelRule = .paper, blockRows: Int? = nil)
    -> (relevance: [[Double]], assignment: [Int64], logit: [Double]) {
    let n = points.count, d = model.features
    let x = points.flatMap { $0 }.map { T($0) }
    var r = [T](repeating: .nan, count: n * d)
    var a = [Int64](repeating: -1, count: n), f = [Double](repeating: .nan, count: n)
    KernelKMeansFastPath<T>(model: model, rule: rule, blockRows: blockRows)
        .explain(x, rows: n, beta: beta, relevance: &r, assignment: &a, logit: &f)
    return ((0..<n).map { i in (0..<d).map { Double(r[i * d + $0]) } }, a, f)
}
