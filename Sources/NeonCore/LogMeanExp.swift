import Foundation

/// The generalised F-mean of Eq. 7 with F(t) = exp(g t), and its footnote-1 redistribution:
///   LME^g_i s_i = 1/g log( 1/n sum_i exp(g s_i) ),
/// a soft max-pooling for g > 0 and a soft min-pooling for g < 0 (the paper's LME^-gamma);
/// it lies between min and max of s and tends to the hard max / min as |g| -> inf.
/// Computed stably with the extreme term factored out, so no term over- or underflows.
public enum LogMeanExp {
    public static func value(_ s: [Double], g: Double) -> Double {
        precondition(!s.isEmpty && g != 0)
        let t = s.map { g * $0 }
        let m = t.max()!
        let sum = t.reduce(0) { $0 + exp($1 - m) }
        return (m + log(sum / Double(s.count))) / g
    }

    /// exp(g s_i) / sum_i' exp(g s_i'): the soft-max (g > 0) or soft-min (g < 0) weights with
    /// which a soft pooling layer redistributes its relevance (footnote 1). They sum to one.
    public static func weights(_ s: [Double], g: Double) -> [Double] {
        let t = s.map { g * $0 }
        let m = t.max()!
        let e = t.map { exp($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
