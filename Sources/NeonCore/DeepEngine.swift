import Dispatch
import Foundation

/// NEON for deep clustering (paper Sec. IV, Props. 6-7): a = Psi(x) by the feature extractor,
/// the clustering head on a (`HeadFastPath`: deep k-means with the midpoint rule, deep soft
/// clustering in its bias-free form), then LRP through Psi (`PsiNetwork`, rules in `LRPRules`)
/// down to x, once per target. Per tile: the forward passes of its samples run in parallel
/// (activations kept), the head on all of them with two GEMMs, then the backward passes of all
/// (sample, target) pairs in parallel. A sample's results depend only on the sample.
public final class DeepEngine<T: NeonScalar>: ExplainerEngine, @unchecked Sendable {
    public typealias Scalar = T
    public static var tileRows: Int { 8 }
    public let psi: PsiNetwork<T>
    public let path: HeadFastPath<T>
    private let headScratch: ScratchPool<T>
    private let workspaces: WorkspacePool<T>

    public init(psi: PsiNetwork<T>, head: ClusterHead, targets: [Int?] = [nil]) {
        precondition(psi.outputCount == head.features)
        self.psi = psi
        path = HeadFastPath(head: head, targets: targets)
        headScratch = ScratchPool(sizes: path.scratchSizes(rows: Self.tileRows) + [Self.tileRows * head.features,
                                                                                  Self.tileRows * targets.count * head.features])
        workspaces = WorkspacePool { psi.makeWorkspace() }
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
        forEachTile(rows: rows) { r0, n in
            let buf = self.headScratch.take()
            defer { self.headScratch.give(buf) }
            let ws = self.forward(x + r0 * self.features, rows: n, into: buf[4])
            defer { ws.forEach { self.workspaces.give($0) } }
            self.path.logits(buf[4], rows: n, buf: buf, assignment: assignment + r0, logit: logit + r0)
        }
    }

    public func explain(_ x: UnsafePointer<T>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<T>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        let t = targetCount, d = features, D = path.D
        forEachTile(rows: rows) { r0, n in
            let buf = self.headScratch.take()
            defer { self.headScratch.give(buf) }
            let ws = self.forward(x + r0 * d, rows: n, into: buf[4])
            defer { ws.forEach { self.workspaces.give($0) } }
            let ra = buf[5]
            self.path.explain(buf[4], rows: n, beta: beta, buf: buf, relevance: ra, assignment: assignment + r0,
                              logit: logit + r0 * t)
            nonisolated(unsafe) let out = relevance + r0 * t * d
            nonisolated(unsafe) let raShared = ra
            DispatchQueue.concurrentPerform(iterations: n * t) { p in
                let scratch = self.workspaces.take()
                self.psi.backward(relevance: raShared + p * D, activations: ws[p / t], scratch: scratch, into: out + p * d)
                self.workspaces.give(scratch)
            }
        }
    }

    /// Forward passes of n samples in parallel; a (n x D) into `a`. Returns their workspaces.
    private func forward(_ x: UnsafePointer<T>, rows n: Int, into a: UnsafeMutablePointer<T>) -> [PsiNetwork<T>.Workspace] {
        let ws = (0..<n).map { _ in workspaces.take() }
        let d = features, D = path.D
        nonisolated(unsafe) let xs = x, out = a
        DispatchQueue.concurrentPerform(iterations: n) { r in
            let y = self.psi.forward(xs + r * d, ws[r])
            (out + r * D).update(from: y, count: D)
        }
        return ws
    }

    /// Tiles one after another (parallelism is inside a tile).
    private func forEachTile(rows: Int, _ body: (Int, Int) -> Void) {
        var r0 = 0
        while r0 < rows {
            body(r0, min(Self.tileRows, rows - r0))
            r0 += Self.tileRows
        }
    }
}

/// A lock-protected free list of Psi workspaces.
final class WorkspacePool<T: NeonScalar>: @unchecked Sendable {
    private var free: [PsiNetwork<T>.Workspace] = []
    private let lock = NSLock()
    private let make: () -> PsiNetwork<T>.Workspace

    init(make: @escaping () -> PsiNetwork<T>.Workspace) { self.make = make }

    func take() -> PsiNetwork<T>.Workspace {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? make()
    }

    func give(_ w: PsiNetwork<T>.Workspace) {
        lock.lock()
        free.append(w)
        lock.unlock()
    }
}
