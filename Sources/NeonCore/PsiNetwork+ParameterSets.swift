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
    /// Set 0, read without the lock.
    private let first: Set
    /// Sets 1..., built on first use under the lock.
    private var later: [Int: Set] = [:]
    private let lock = NSLock()

    /// `w` is the layer's own weights in T, shared by identity sets.
    init(modifiers: [ParameterModifier], weight: [Double], bias: [Double], rows: Int, w: [T]) {
        self.modifiers = modifiers
        self.weight = weight
        self.bias = bias
        self.rows = rows
        own = w
        first = Self.make(modifiers[0], weight: weight, bias: bias, rows: rows, own: w)
    }

    func set(_ k: Int) -> Set {
        if k == 0 { return first }
        lock.lock()
        defer { lock.unlock() }
        if let s = later[k] { return s }
        let s = Self.make(modifiers[k], weight: weight, bias: bias, rows: rows, own: own)
        later[k] = s
        return s
    }

    private static func make(_ m: ParameterModifier, weight: [Double], bias: [Double], rows: Int, own: [T]) -> Set {
        let cols = weight.count / rows
        let wm = weight.map { m($0) }
        var t = [T](repeating: 0, count: weight.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = T(wm[r * cols + c]) } }
        return Set(w: m.isIdentity ? own : wm.map { T($0) }, wT: t, b: bias.map { T(m($0)) })
    }
}
