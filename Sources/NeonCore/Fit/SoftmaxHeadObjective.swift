import Foundation

/// A softmax head's training objective on one rank's rows (collective): the loss's value,
/// its gradient w.r.t. theta = (W row-major, then b) and the cluster sizes, from one forward
/// pass (the loss's global sums: sbar and the mean entropy for MI, the joint P for IIC, the
/// pseudo-labels' mean for the collision CE), the collision CE's EM steps, and one gradient pass.
/// SoftmaxHeadFit steps with it; tests check it against finite differences.
public final class SoftmaxHeadObjective<T: NeonScalar> {
    let tiles: SoftmaxHeadTiles<T>
    let loss: SoftmaxLoss
    let gamma: Double
    let weightDecay: Double
    let labelTolerance: Double
    let comm: FitCollectives
    /// Whether the pseudo-labels hold values (they start as sigma at the first evaluation).
    var labelsSet = false

    /// pairs: IIC's second view (same layout as shard) or nil (IICPerturbedView); other losses ignore it.
    public init(shard: FitShard<T>, pairs: FitShard<T>?, settings: SoftmaxHeadFitSettings, collectives: FitCollectives) {
        if let pairs {
            precondition(pairs.rows == shard.rows && pairs.features == shard.features && pairs.firstRow == shard.firstRow
                         && pairs.totalRows == shard.totalRows, "the paired view must have the shard's layout")
        }
        loss = settings.loss
        gamma = settings.fairness
        weightDecay = settings.weightDecay
        labelTolerance = settings.pseudoLabelTolerance
        comm = collectives
        let view = loss == .iic ? (pairs ?? IICPerturbedView.make(of: shard, scale: settings.perturbation, seed: settings.seed)) : nil
        tiles = SoftmaxHeadTiles(shard: shard, view: view, clusters: settings.clusters,
                                 pseudoLabels: loss == .collisionCrossEntropy)
    }

    /// The next evaluation starts the pseudo-labels again from sigma (a new restart).
    public func resetPseudoLabels() { labelsSet = false }

    /// The objective, dL/dtheta and the cluster sizes at theta. For the collision CE this first
    /// runs up to `labelSteps` EM steps of the pseudo-labels (the y-step, stopped once no mean
    /// label moves by more than the tolerance; y starts as sigma at the first call), so the
    /// objective is L(W, y) after the y-step; with labelSteps 0, y stays fixed and the value and
    /// gradient are those of L(., y).
    public func evaluate(_ theta: [Double], labelSteps: Int) -> (objective: Double, gradient: [Double], clusterSizes: [Int]) {
        let tiles = tiles, loss = loss, gamma = gamma, comm = comm, labelTolerance = labelTolerance
        let first = !labelsSet
        labelsSet = true
        let K = tiles.K, d = tiles.d, N = tiles.shard.totalRows
        return theta.withUnsafeBufferPointer { th in
            let W = th.baseAddress!, b = W + K * d
            // 1. Forward: ln sigma per row, argmax counts and the loss's global sums.
            let statWidth = loss == .iic ? K * K : (loss == .mutualInformation ? K + 1 : K)
            let stats = tiles.sums(width: statWidth + K, comm) { r0, n, sc, acc in
                tiles.load(tiles.shard, r0, n, into: sc.x)
                let lp = tiles.logProb + r0 * K
                let h = tiles.logits(sc.x, n, weight: W, bias: b, logOut: lp, s: sc.s, counts: acc + statWidth)
                switch loss {
                case .mutualInformation:
                    for i in 0..<(n * K) { acc[i % K] += sc.s[i] }
                    acc[K] = h
                case .iic:
                    tiles.load(tiles.view!, r0, n, into: sc.x2)
                    tiles.logits(sc.x2, n, weight: W, bias: b, logOut: tiles.logProb2! + r0 * K, s: sc.s2, counts: nil)
                    // sum_p sigma_p sigma'_p^T = S^T S' (S: n x K), via the transpose of S.
                    for p in 0..<n { for k in 0..<K { sc.dzT[k * n + p] = sc.s[p * K + k] } }
                    Double.gemm(m: K, n: K, k: n, alpha: 1, a: sc.dzT, lda: n, b: sc.s2, ldb: K, transposeB: false,
                                beta: 0, c: acc, ldc: K)
                case .collisionCrossEntropy:
                    let y = tiles.labels! + r0 * K
                    if first { y.update(from: sc.s, count: n * K) }
                    for i in 0..<(n * K) { acc[i % K] += y[i] }
                }
            }
            let counts = stats[statWidth...].map { Int($0) }
            let Nd = Double(N)

            // 2. The loss's global quantities (and the pseudo-labels' EM steps).
            var objective = 0.0
            var logMean: [Double] = [], G: [Double] = [], meanLabel: [Double] = []
            switch loss {
            case .mutualInformation:
                let mean = stats[0..<K].map { $0 / Nd }
                objective = MutualInformationLoss.objective(meanEntropy: stats[K] / Nd, meanPrediction: mean, fairness: gamma)
                logMean = mean.map { log($0) }
            case .iic:
                (objective, G) = IICLoss.evaluate(joint: stats[0..<(K * K)].map { $0 / Nd }, clusters: K, fairness: gamma)
            case .collisionCrossEntropy:
                meanLabel = stats[0..<K].map { $0 / Nd }
                for _ in 0..<max(0, labelSteps) {
                    let ybar = meanLabel
                    let sums = tiles.sums(width: K, comm) { r0, n, sc, acc in
                        let lp = tiles.logProb + r0 * K, y = tiles.labels! + r0 * K
                        ybar.withUnsafeBufferPointer { yb in
                            for p in 0..<n {
                                for k in 0..<K { sc.s[k] = exp(lp[p * K + k]) }
                                CollisionPseudoLabels.update(prob: sc.s, labels: y + p * K, meanLabel: yb.baseAddress!,
                                                             clusters: K, fairness: gamma)
                                for k in 0..<K { acc[k] += y[p * K + k] }
                            }
                        }
                    }
                    meanLabel = sums.map { $0 / Nd }
                    // The same decision on every rank (ybar has the same bits everywhere).
                    if zip(meanLabel, ybar).allSatisfy({ abs($0 - $1) <= labelTolerance }) { break }
                }
            }

            // 3. The gradient: per row N dL/dz_p, then dZ^T X and the column sums of dZ per tile.
            let width = K * d + K + 1
            let sums = logMean.withUnsafeBufferPointer { lm in
                G.withUnsafeBufferPointer { g in
                    tiles.sums(width: width, comm) { r0, n, sc, acc in
                        let lp = tiles.logProb + r0 * K
                        tiles.load(tiles.shard, r0, n, into: sc.x)
                        switch loss {
                        case .mutualInformation:
                            for p in 0..<n {
                                MutualInformationLoss.rowGradient(logProb: lp + p * K, logMean: lm.baseAddress!, clusters: K,
                                                                  fairness: gamma, into: sc.dz + p * K)
                            }
                            tiles.weightGradient(sc.dz, sc.x, n, sc.dzT, beta: 0, into: acc)
                        case .collisionCrossEntropy:
                            let y = tiles.labels! + r0 * K
                            var collision = 0.0
                            for p in 0..<n {
                                for k in 0..<K { sc.s[k] = exp(lp[p * K + k]) }
                                collision += CollisionPseudoLabels.collisionCrossEntropy(prob: sc.s, labels: y + p * K, clusters: K)
                                CollisionPseudoLabels.rowGradient(prob: sc.s, labels: y + p * K, clusters: K, into: sc.dz + p * K)
                            }
                            tiles.weightGradient(sc.dz, sc.x, n, sc.dzT, beta: 0, into: acc)
                            acc[K * d + K] = collision
                        case .iic:
                            let lp2 = tiles.logProb2! + r0 * K
                            tiles.load(tiles.view!, r0, n, into: sc.x2)
                            for i in 0..<(n * K) { sc.s[i] = exp(lp[i]); sc.s2[i] = exp(lp2[i]) }
                            // U = S' G (dL/dsigma_p, times N) and U' = S G (G symmetric).
                            Double.gemm(m: n, n: K, k: K, alpha: 1, a: sc.s2, lda: K, b: g.baseAddress!, ldb: K,
                                        transposeB: false, beta: 0, c: sc.dz, ldc: K)
                            Double.gemm(m: n, n: K, k: K, alpha: 1, a: sc.s, lda: K, b: g.baseAddress!, ldb: K,
                                        transposeB: false, beta: 0, c: sc.dz2, ldc: K)
                            Self.softmaxBackward(sc.s, sc.dz, n, K)
                            Self.softmaxBackward(sc.s2, sc.dz2, n, K)
                            tiles.weightGradient(sc.dz, sc.x, n, sc.dzT, beta: 0, into: acc)
                            tiles.weightGradient(sc.dz2, sc.x2, n, sc.dzT, beta: 1, into: acc)
                        }
                    }
                }
            }
            if loss == .collisionCrossEntropy {
                objective = CollisionPseudoLabels.objective(collisionSum: sums[K * d + K], rows: N, meanLabel: meanLabel,
                                                            fairness: gamma)
            }
            var gradient = sums[0..<(K * d + K)].map { $0 / Nd }
            if weightDecay != 0 {
                var norm2 = 0.0
                for i in 0..<(K * d) { norm2 += th[i] * th[i]; gradient[i] += weightDecay * th[i] }
                objective += weightDecay / 2 * norm2
            }
            return (objective, gradient, counts)
        }
    }

    /// u <- sigma (u - sigma . u) row by row (the softmax Jacobian applied to dL/dsigma).
    @inline(__always)
    static func softmaxBackward(_ s: UnsafePointer<Double>, _ u: UnsafeMutablePointer<Double>, _ n: Int, _ K: Int) {
        for p in 0..<n {
            let sp = s + p * K, up = u + p * K
            var dot = 0.0
            for k in 0..<K { dot += sp[k] * up[k] }
            for k in 0..<K { up[k] = sp[k] * (up[k] - dot) }
        }
    }
}
