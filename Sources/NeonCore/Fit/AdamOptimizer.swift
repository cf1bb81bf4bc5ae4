import Foundation
import NeonSettings

/// The learning rate at step t of T (fit.schedule, NeonSettings): constant, or cosine annealing
/// (Loshchilov & Hutter 2017) lr_t = lr (1 + cos(pi (t - 1) / T)) / 2, from lr at t = 1 down towards 0.
extension LearningRateSchedule {
    public func rate(_ lr: Double, step t: Int, of T: Int) -> Double {
        switch self {
        case .constant: return lr
        case .cosine: return lr * (1 + cos(Double.pi * Double(t - 1) / Double(max(1, T)))) / 2
        }
    }
}

/// Adam (Kingma & Ba 2015) on a flat parameter vector with the full-batch gradient: the same
/// gradient and step give the same bits on every rank (no randomness, fixed operation order).
public struct AdamOptimizer: Sendable {
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    var m: [Double], v: [Double]
    var t = 0

    public init(count: Int) {
        m = [Double](repeating: 0, count: count)
        v = m
    }

    /// theta <- theta - rate m^ / (sqrt(v^) + epsilon), with the bias-corrected moments.
    public mutating func step(_ theta: inout [Double], gradient g: [Double], rate: Double) {
        precondition(theta.count == m.count && g.count == m.count)
        t += 1
        let c1 = 1 - pow(beta1, Double(t)), c2 = 1 - pow(beta2, Double(t))
        for i in 0..<theta.count {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            theta[i] -= rate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
