import Foundation

/// Decisiveness and fairness (Bridle, Heading & MacKay 1991; deep-clustering lecture, "Mutual
/// Information for Clustering"):
///
///     L = (1/N) sum_p H(sigma_p) - gamma H(sbar),   sbar = (1/N) sum_p sigma_p,
///
/// minimised by gradient descent (the lecture's "concave + convex ... Gradient Descent").
/// Gradient w.r.t. the logits of row p (softmax Jacobian d sigma_k / d z_j = sigma_k (delta_kj - sigma_j)):
///
///     dL/dz_pj = (1/N) sigma_pj (g_pj - sum_k sigma_pk g_pk),   g_pk = gamma ln sbar_k - ln sigma_pk,
///
/// then dL/dW = sum_p dL/dz_p a_p^T and dL/db = sum_p dL/dz_p. It needs sbar first: one
/// reduction of (sum_p sigma_p, sum_p H(sigma_p)) before the gradient's.
public enum MutualInformationLoss {
    /// L from the global mean entropy and mean prediction.
    public static func objective(meanEntropy: Double, meanPrediction: [Double], fairness: Double) -> Double {
        meanEntropy - fairness * shannonEntropy(meanPrediction)
    }

    /// N dL/dz_p for one row: logProb = ln sigma_p, logMean = ln sbar (K each); out: K.
    /// Terms with sigma_pk = 0 contribute 0 (the limit of sigma ln sigma).
    @inline(__always)
    public static func rowGradient(logProb: UnsafePointer<Double>, logMean: UnsafePointer<Double>, clusters K: Int,
                                   fairness: Double, into out: UnsafeMutablePointer<Double>) {
        var total = 0.0
        for k in 0..<K {
            let s = exp(logProb[k])
            let t = s == 0 ? 0 : s * (fairness * logMean[k] - logProb[k])
            out[k] = t
            total += t
        }
        for k in 0..<K { out[k] -= exp(logProb[k]) * total }
    }
}
