/// The per-feature standardisation of the paper's Appendix H (mean 0, standard deviation 1):
/// x' = (x - mean) / std. A model fitted on standardised data stores it, and explain jobs apply
/// it to every row before the model sees it (relevances are then those of the standardised features).
public struct Standardization: Equatable, Sendable {
    public let mean: [Double]
    public let std: [Double]

    /// Why stored values are rejected (one line).
    public static func problem(mean: [Double], std: [Double], features: Int) -> String? {
        if mean.count != features || std.count != features {
            return "standardize_mean and standardize_std need \(features) values each (one per feature), got \(mean.count) and \(std.count)"
        }
        if let i = mean.firstIndex(where: { !$0.isFinite }) { return "standardize_mean[\(i)] is not finite" }
        if let i = std.firstIndex(where: { !($0 > 0 && $0.isFinite) }) { return "standardize_std[\(i)] must be a finite number > 0" }
        return nil
    }

    public init(mean: [Double], std: [Double]) {
        precondition(mean.count == std.count)
        self.mean = mean
        self.std = std
    }

    /// From measured moments: a constant feature (variance 0) keeps scale 1.
    public init(mean: [Double], variance: [Double]) {
        self.init(mean: mean, std: variance.map { $0 > 0 ? $0.squareRoot() : 1 })
    }

    /// Applies the transform in place to `rows` rows (row-major), in float64, rounded to T.
    public func apply<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, rows: Int) {
        let d = mean.count
        let inv = std.map { 1 / $0 }
        for n in 0..<rows {
            let row = p + n * d
            for i in 0..<d { row[i] = T((Double(row[i]) - mean[i]) * inv[i]) }
        }
    }
}
