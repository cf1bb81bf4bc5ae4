import Foundation

/// A linear softmax clustering head sigma(W a + b) on feature rows a (the "posterior model" of
/// discriminative clustering, deep-clustering lecture part II): logits z_k = w_k . a + b_k,
/// probabilities sigma_k = exp(z_k) / sum_j exp(z_j), cluster argmax_k z_k.
public struct SoftmaxHead: Equatable, Sendable {
    public let clusters: Int, features: Int
    /// K x d, row-major (row k is w_k).
    public var weight: [Double]
    /// K.
    public var bias: [Double]

    public init(clusters: Int, features: Int, weight: [Double], bias: [Double]) {
        precondition(clusters >= 1 && features >= 1)
        precondition(weight.count == clusters * features && bias.count == clusters)
        self.clusters = clusters
        self.features = features
        self.weight = weight
        self.bias = bias
    }

    /// z = W a + b for one row (float64, features summed in order).
    public func logits(_ a: [Double]) -> [Double] {
        precondition(a.count == features)
        return (0..<clusters).map { k in
            var s = 0.0
            for i in 0..<features { s += weight[k * features + i] * a[i] }
            return s + bias[k]
        }
    }

    /// sigma(W a + b) for one row.
    public func probabilities(_ a: [Double]) -> [Double] {
        var z = logits(a)
        Softmax.inPlace(&z)
        return z
    }

    /// argmax_k z_k (lowest index on ties).
    public func assign(_ a: [Double]) -> Int { Softmax.argmax(logits(a)) }
}

/// The numerically stable softmax pieces shared by the head and its fit.
public enum Softmax {
    /// z <- sigma(z) (shifted by max z).
    public static func inPlace(_ z: inout [Double]) {
        _ = z.withUnsafeMutableBufferPointer { inPlace($0.baseAddress!, count: $0.count) }
    }

    /// p[0..<count] <- sigma(p); returns log sum_j exp(p_j) (so log sigma_k = z_k - returned value).
    @discardableResult
    public static func inPlace(_ p: UnsafeMutablePointer<Double>, count: Int) -> Double {
        var m = -Double.infinity
        for k in 0..<count where p[k] > m { m = p[k] }
        var s = 0.0
        for k in 0..<count { p[k] = exp(p[k] - m); s += p[k] }
        let inv = 1 / s
        for k in 0..<count { p[k] *= inv }
        return m + log(s)
    }

    /// The first index of the largest value.
    public static func argmax(_ z: [Double]) -> Int {
        z.withUnsafeBufferPointer { argmax($0.baseAddress!, count: $0.count) }
    }

    public static func argmax(_ z: UnsafePointer<Double>, count: Int) -> Int {
        var best = 0
        for k in 1..<max(1, count) where z[k] > z[best] { best = k }
        return best
    }
}
