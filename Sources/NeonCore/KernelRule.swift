import NeonSettings

/// How the relevance R_ijk that footnote 1 lands on a detection neuron h_ijk of the kernel
/// k-means network (Prop. 5) is reassigned before the midpoint rule (Eq. 4):
///   paper          R_ijk <- R_ijk h_ijk / h_k            (Eq. 10)
///   conservative   R_ijk <- R_ijk h_ijk / E_p[h_ijk]
/// where E_p[h_ijk] = sum_{i,j} p_ijk h_ijk is the mean of h_ijk over the paths to h_k under the
/// footnote-1 weights p_ijk = R_ijk / R_k = a_i b_j. Both make relevance vanish continuously on a
/// deactivated neuron. Since LME^-gamma_j d_j = E_b[d_j] + KL(b | uniform) / gamma,
///   E_p[h_ijk] = h_k - (KL(b^k) - KL(a)) / gamma,
/// so with Eq. 10 sum_f R_f = sum_k R_k E_p[h_ijk] / h_k, which is f_c only when every competitor's
/// soft-min weights are as peaked as the own cluster's (e.g. one support vector per cluster). The
/// conservative rule gives sum_f R_f = f_c exactly; its denominator can be small or negative while
/// h_k > 0 (a competitor whose weights are much more peaked than the own cluster's), and R_k is
/// then spread in large parts of both signs. A zero denominator gives relevance 0 (the limit for
/// h_k -> 0), never NaN.
public typealias KernelRule = KernelRuleName
