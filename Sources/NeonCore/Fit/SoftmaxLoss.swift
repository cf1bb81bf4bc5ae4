import Foundation
import NeonSettings

/// The unsupervised losses a softmax clustering head sigma_p = sigma(W a_p + b) is trained with
/// (issue 21; seeds: deep-clustering lecture, mutual-information clustering notes). Every
/// objective is *minimised*; N rows, K clusters, H the Shannon entropy (natural log), gamma the
/// fairness weight (`SoftmaxHeadFitSettings.fairness`, default 1).
///
/// - `mutualInformation` (Bridle, Heading & MacKay 1991; Krause et al. 2010 — the lecture's
///   "decisiveness and fairness"): L = mean_p H(sigma_p) - gamma H(mean_p sigma_p).
///   With gamma = 1, -L is the mutual information I(X, C) = H(C) - H(C|X) of data and prediction.
/// - `collisionCrossEntropy` (Zhang & Boykov, "self-labelling with soft pseudo-labels"; the
///   lecture's "our algorithm"): L(W, y) = mean_p -ln(sigma_p . y_p) + gamma KL(u || mean_p y_p),
///   u uniform, alternating an EM update of the soft pseudo-labels y_p (`CollisionPseudoLabels`)
///   with gradient steps on W, b.
/// - `iic` (Ji, Henriques & Vedaldi 2019; the notes, Eqs. 2-4): L = -sum_ij P_ij (ln P_ij -
///   gamma ln P_i - gamma ln P_j), P the symmetrised joint (1/N) sum_p sigma(x_p) sigma(x'_p)^T
///   of two views, entries and marginals clamped below at machine epsilon as in IIC's reference
///   code; with gamma = 1, L = -I(P) (`IICLoss`).
public typealias SoftmaxLoss = SoftmaxLossName

/// Entropy sum_k -p_k ln p_k (0 ln 0 = 0).
func shannonEntropy(_ p: [Double]) -> Double {
    p.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
}
