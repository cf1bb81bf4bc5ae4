import Foundation

/// IIC's second view x' = g x for feature rows that come without paired views (Ji et al.; the
/// mutual-information notes, Eq. 4: a random perturbation g of the input). For a feature vector
/// the perturbation is additive Gaussian noise of relative scale s:
///
///     x'_pi = x_pi + s * rms(x_p) * e_pi,   rms(x_p) = sqrt(mean_i x_pi^2),   e_pi ~ N(0, 1),
///
/// with e_p drawn from the row's own stream SampleStream(seed, global row index, purpose
/// "iic_view") in feature order, so a row's view never depends on the number of ranks or threads.
/// The view is drawn once (fixed for the whole fit, which keeps the objective deterministic and
/// monotone-checkable) and held like the shard itself (same rows, same precision).
public enum IICPerturbedView {
    public static let purpose = SampleStream.tag("iic_view")

    public static func make<T: NeonScalar>(of shard: FitShard<T>, scale: Double, seed: UInt64) -> FitShard<T> {
        let d = shard.features
        let view = FitShard<T>(rows: shard.rows, features: d, firstRow: shard.firstRow, totalRows: shard.totalRows)
        let x = shard.x, y = view.x, first = shard.firstRow
        _ = shard.perChunk { _, range in
            for n in range {
                let row = x + n * d, out = y + n * d
                var ss = 0.0
                for i in 0..<d { ss += Double(row[i]) * Double(row[i]) }
                let sigma = scale * (ss / Double(d)).squareRoot()
                var rng = SampleStream.make(seed: seed, sample: first + n, purpose: purpose)
                for i in 0..<d { out[i] = T(Double(row[i]) + sigma * rng.normal()) }
            }
        }
        return view
    }
}
