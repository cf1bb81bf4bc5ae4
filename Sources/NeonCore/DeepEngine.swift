import Dispatch
import Foundation

/// NEON for deep clustering (paper Sec. IV, Props. 6-7): a = Psi(x) by the feature extractor,
/// the clustering head on a (`HeadFastPath`: deep k-means with the midpoint rule, deep soft
/// clustering in its bias-free form, a trained softmax head with a bias and its roots on the
/// boundary nearest 0), then LRP through Psi (`PsiNetwork`, rules in `LRPRules`)
/// down to x, once per target. Tiles of `tileRows` samples run in parallel (one per thread); in a
/// tile the forward passes are batched (one GEMM per conv layer for all its samples), the head
/// takes two GEMMs, and the backward passes run in one batch per target (the tile's samples).
/// A (sample, target) pair's results depend only on its tile, not on the other targets explained.
public final class DeepEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 8 }
    public let psi: PsiNetwork<T>
    /// The head runs in float64 whatever T is: it is cheap next to Psi (O(K D) per sample), and
    /// deep k-means logits |a - mu_k|^2 - |a - mu_c|^2 lose digits to cancellation in float32.
    public let path: HeadFastPath<Double>
    private let pool: ResourcePool<T>

    /// Everything one thread needs for a tile.
    final class Resources: @unchecked Sendable {
        let forward: [PsiNetwork<T>.Workspace]
        let scratch: [PsiNetwork<T>.Workspace]
        let batch: PsiNetwork<T>.Batch
        let head: [UnsafeMutablePointer<Double>]
        /// The head's relevance on a, in T, for the backward pass.
        let relevanceA: UnsafeMutablePointer<T>

        init(psi: PsiNetwork<T>, headSizes: [Int], relevanceA: Int) {
            let n = DeepEngine.tileRows
            forward = (0..<n).map { _ in psi.makeWorkspace() }
            scratch = (0..<n).map { _ in psi.makeScratch() }
            batch = psi.makeBatch(samples: n)
            head = headSizes.map { UnsafeMutablePointer<Double>.allocate(capacity: max(1, $0)) }
            self.relevanceA = .allocate(capacity: max(1, relevanceA))
        }

        deinit {
            head.forEach { $0.deallocate() }
            relevanceA.deallocate()
        }
    }

    public init(psi: PsiNetwork<T>, head: ClusterHead, targets: [Int?] = [nil]) {
        precondition(psi.outputCount == head.features)
        self.psi = psi
        let path = HeadFastPath<Double>(head: head, targets: targets)
        self.path = path
        let ra = Self.tileRows * targets.count * head.features
        let sizes = path.scratchSizes(rows: Self.tileRows) + [Self.tileRows * head.features, ra]
        pool = ResourcePool { Resources(psi: psi, headSizes: sizes, relevanceA: ra) }
    }

    public var features: Int { psi.inputCount }
    public var clusters: Int { path.K }
    public var targetCount: Int { path.targetCount }
    public var logitFlopsPerSample: Double { 2 * psi.multiplyAdds + 2 * Double(path.D * path.K) }
    public var explainFlopsPerSample: Double {
        2 * psi.multiplyAdds + 2 * (psi.explainMultiplyAdds - psi.multiplyAdds) * Double(targetCount)
            + 2 * Double(path.D * path.K) * (1 + 2 * Double(targetCount))
    }

    public func logits(_ x: UnsafePointer<T>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>) {
        forEachTile(rows: rows) { r0, n, res in
            self.forward(x + r0 * self.features, rows: n, res)
            self.path.logits(res.head[4], rows: n, buf: res.head, assignment: assignment + r0, logit: logit + r0)
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        let t = targetCount, d = features, D = path.D
        forEachTile(rows: rows) { r0, n, res in
            self.forward(x + r0 * d, rows: n, res)
            self.path.explain(res.head[4], rows: n, beta: beta, buf: res.head, relevance: res.head[5],
                              assignment: assignment + r0, logit: logit + r0 * t)
            let ra = res.relevanceA
            for j in 0..<(n * t * D) { ra[j] = T(res.head[5][j]) }
            let out = relevance + r0 * t * d
            // One batch per target, the tile's samples in tile order: a GEMM column's value can
            // depend on the batch's width and the column's place in it (OpenBLAS's AVX-512
            // kernels), so every target's batch is laid out like the single-target run's.
            for j in 0..<t {
                let ps = (0..<n).map { $0 * t + j }      // pair index = sample * t + target
                self.psi.backward(batch: ps.map { UnsafePointer(ra + $0 * D) }, activations: ps.map { res.forward[$0 / t] },
                                  scratch: res.scratch, into: ps.map { out + $0 * d }, res.batch)
            }
        }
    }

    /// Batched forward of n samples; a (n x D, as float64) into res.head[4].
    private func forward(_ x: UnsafePointer<T>, rows n: Int, _ res: Resources) {
        let d = features, D = path.D
        psi.forward(batch: (0..<n).map { x + $0 * d }, res.forward, res.batch)
        for r in 0..<n {
            let a = psi.activation(psi.layers.count, in: res.forward[r]), dst = res.head[4] + r * D
            for i in 0..<D { dst[i] = Double(a[i]) }
        }
    }

    /// Tiles spread over the rank's compute threads (ComputeThreads), each on one thread with its own resources.
    private func forEachTile(rows: Int, _ body: (Int, Int, Resources) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows, tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            let pool = self.pool
            ComputeThreads.forEach(tiles) { i in
                let res = pool.take()
                body(i * tile, min(tile, rows - i * tile), res)
                pool.give(res)
            }
        }
    }
}

/// A lock-protected free list of per-thread tile resources.
final class ResourcePool<T: NeonScalar>: @unchecked Sendable {
    private var free: [DeepEngine<T>.Resources] = []
    private let lock = NSLock()
    private let make: () -> DeepEngine<T>.Resources

    init(make: @escaping () -> DeepEngine<T>.Resources) { self.make = make }

    func take() -> DeepEngine<T>.Resources {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? make()
    }

    func give(_ w: DeepEngine<T>.Resources) {
        lock.lock()
        free.append(w)
        lock.unlock()
    }
}
