import Foundation

/// The parameter sets of one weighted layer's rule in precision T (`LRPRule.parameterModifiers`):
/// w' (rows x cols), its transpose (for the conv backward GEMM) and b'. The first set is built at
/// init; the others on first use (the generalised gamma rule's second set is needed only on signed
/// inputs or on relevance at negative outputs), under a lock: the network is shared by threads.
final class ParameterSets<T: NeonScalar>: @unchecked Sendable {
    struct Set {
        let w: [T], wT: [T], b: [T]
    }

    let modifiers: [ParameterModifier]
    private let weight: [Double], bias: [Double], rows: Int, own: [T]
    private var built: [Set?]
    private let lock = NSLock()

    /// `w` is the layer's own weights in T, shared by identity sets.
    init(modifiers: [ParameterModifier], weight: [Double], bias: [Double], rows: Int, w: [T]) {
        self.modifiers = modifiers
        self.weight = weight
        self.bias = bias
        self.rows = rows
        own = w
        built = [Set?](repeating: nil, count: modifiers.count)
        built[0] = make(0)
    }

    func set(_ k: Int) -> Set {
        if k == 0 { return built[0]! }
        lock.lock()
        defer { lock.unlock() }
        if let s = built[k] { return s }
        let s = make(k)
        built[k] = s
        return s
    }

    private func make(_ k: Int) -> Set {
        let m = modifiers[k], cols = weight.count / rows
        let wm = weight.map { m($0) }
        var t = [T](repeating: 0, count: weight.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = T(wm[r * cols + c]) } }
        return Set(w: m.isIdentity ? own : wm.map { T($0) }, wT: t, b: bias.map { T(m($0)) })
    }
}
