import Dispatch
import Foundation

/// NEON for deep clustering (paper Sec. IV, Props. 6-7): a = Psi(x) by the feature extractor,
/// the clustering head on a (`HeadFastPath`: deep k-means with the midpoint rule, deep soft
/// clustering in its bias-free form), then LRP through Psi (`PsiNetwork`, rules in `LRPRules`)
/// down to x, once per target. Tiles of `tileRows` samples run in parallel (one per thread); in a
/// tile the forward passes are batched (one GEMM per conv layer for all its samples), the head
/// takes two GEMMs, and the backward passes run in batches of `tileRows` (sample, target) pairs.
/// A sample's results depend only on its tile.
public final class DeepEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 8 }
    public let psi: PsiNetwork<T>
    public let path: HeadFastPath<T>
    private let pool: ResourcePool<T>

    /// Everything one thread needs for a tile.
    final class Resources: @unchecked Sendable {
        let forward: [PsiNetwork<T>.Workspace]
        let scratch: [PsiNetwork<T>.Workspace]
        let batch: PsiNetwork<T>.Batch
        let head: [UnsafeMutablePointer<T>]

        init(psi: PsiNetwork<T>, headSizes: [Int]) {
            let n = DeepEngine.tileRows
            forward = (0..<n).map { _ in psi.makeWorkspace() }
            scratch = (0..<n).map { _ in psi.makeScratch() }
            batch = psi.makeBatch(samples: n)
            head = headSizes.map { UnsafeMutablePointer<T>.allocate(capacity: max(1, $0)) }
        }

        deinit { head.forEach { $0.deallocate() } }
    }

    public init(psi: PsiNetwork<T>, head: ClusterHead, targets: [Int?] = [nil]) {
        precondition(psi.outputCount == head.features)
        self.psi = psi
        let path = HeadFastPath<T>(head: head, targets: targets)
        self.path = path
        let sizes = path.scratchSizes(rows: Self.tileRows) + [Self.tileRows * head.features,
                                                              Self.tileRows * targets.count * head.features]
        pool = ResourcePool { Resources(psi: psi, headSizes: sizes) }
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
            let ra = res.head[5]
            self.path.explain(res.head[4], rows: n, beta: beta, buf: res.head, relevance: ra, assignment: assignment + r0,
                              logit: logit + r0 * t)
            let out = relevance + r0 * t * d
            var p0 = 0
            while p0 < n * t {
                let ps = Array(p0..<min(n * t, p0 + Self.tileRows))
                self.psi.backward(batch: ps.map { UnsafePointer(ra + $0 * D) }, activations: ps.map { res.forward[$0 / t] },
                                  scratch: res.scratch, into: ps.map { out + $0 * d }, res.batch)
                p0 += ps.count
            }
        }
    }

    /// Batched forward of n samples; a (n x D) into res.head[4].
    private func forward(_ x: UnsafePointer<T>, rows n: Int, _ res: Resources) {
        let d = features, D = path.D
        psi.forward(batch: (0..<n).map { x + $0 * d }, res.forward, res.batch)
        for r in 0..<n {
            (res.head[4] + r * D).update(from: psi.activation(psi.layers.count, in: res.forward[r]), count: D)
        }
    }

    /// Tiles spread over cores by Dispatch, each on one thread with its own resources.
    private func forEachTile(rows: Int, _ body: (Int, Int, Resources) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            let tile = Self.tileRows, tiles = (rows + tile - 1) / tile
            guard tiles > 0 else { return }
            let pool = self.pool
            DispatchQueue.concurrentPerform(iterations: tiles) { i in
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
